import { keysWith, type MetricKeys } from "@empo/core/MetricKey"

/** Length in Unicode code points, as Python's `len(str)` counts (not UTF-16 units). */
export const codePointLength = (text: string): number => {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

const mean = (xs: ReadonlyArray<number>) => xs.reduce((s, x) => s + x, 0) / xs.length
const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Corpus numbers: means and medians of both lengths, and the longest response in tokens. */
export const aggregateLength = (chars: ReadonlyArray<number>, tokens: ReadonlyArray<number>): Record<string, number> => ({
  chars_mean: mean(chars),
  chars_median: median(chars),
  tokens_mean: mean(tokens),
  tokens_median: median(tokens),
  tokens_max: tokens.reduce((a, b) => Math.max(a, b), 0)
})

/** Aggregate keys, for the manifest: lengths describe responses, neither direction is better. */
export const LENGTH_KEYS: MetricKeys = keysWith("none", {
  chars_mean: "chars", chars_median: "chars median", tokens_mean: "tokens", tokens_median: "tokens median", tokens_max: "tokens max"
})
