import { keysWith, type MetricKeys } from "@empo/core/MetricKey"

/** Word → number of utterances (documents) containing it. */
export type WordCounts = ReadonlyMap<string, number>

/**
 * Document frequencies as the study's `count_ed` built them: per utterance the SET of its tokens
 * (case-sensitive, not lower-cased), each counted once.
 */
export const countDocuments = (
  utterances: Iterable<string>,
  tokenize: (text: string) => ReadonlyArray<string>
): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const utterance of utterances) {
    for (const token of new Set(tokenize(utterance))) counts.set(token, (counts.get(token) ?? 0) + 1)
  }
  return counts
}

/** NIDF of every counted word: `(ln c_max − ln c(w)) / (ln c_max − ln c_min)`, c_min/c_max over the counts. */
export const nidfTable = (counts: WordCounts): Map<string, number> => {
  let min = Infinity
  let max = -Infinity
  for (const count of counts.values()) {
    if (count < min) min = count
    if (count > max) max = count
  }
  const logMax = Math.log(max)
  const range = logMax - Math.log(min)
  const table = new Map<string, number>()
  for (const [word, count] of counts) table.set(word, range === 0 ? 0 : (logMax - Math.log(count)) / range)
  return table
}

/**
 * A response's specificity: the mean NIDF over its DISTINCT tokens (case-sensitive), unknown tokens
 * scoring 1 (the rarest possible). NaN for a response without tokens.
 */
export const responseNidf = (tokens: ReadonlyArray<string>, table: ReadonlyMap<string, number>): number => {
  const distinct = new Set(tokens)
  let sum = 0
  for (const token of distinct) sum += table.get(token) ?? 1
  return distinct.size === 0 ? Number.NaN : sum / distinct.size
}

const mean = (xs: ReadonlyArray<number>) => xs.reduce((s, x) => s + x, 0) / xs.length
const populationSd = (xs: ReadonlyArray<number>) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length)
}
const sampleSd = (xs: ReadonlyArray<number>) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1))
}
const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Corpus numbers over the responses that have a score: mean, sample SD, median, min, max, and the
 * notebook's outlier-free mean (|z| > 3 removed, z from the population SD as scipy's `zscore`).
 */
export const aggregateNidf = (scores: ReadonlyArray<number>): Record<string, number> => {
  const valid = scores.filter(Number.isFinite)
  const m = mean(valid)
  const sd = populationSd(valid)
  const kept = valid.filter((x) => Math.abs((x - m) / sd) <= 3)
  return {
    nidf_mean: m,
    nidf_sd: sampleSd(valid),
    nidf_median: median(valid),
    nidf_min: valid.reduce((a, b) => Math.min(a, b), Infinity),
    nidf_max: valid.reduce((a, b) => Math.max(a, b), -Infinity),
    nidf_mean_no_outliers: mean(kept),
    nidf_n_no_outliers: kept.length,
    nidf_n: valid.length
  }
}

/** Aggregate keys, for the manifest: a higher NIDF is a more specific (less generic) response. */
export const NIDF_KEYS: MetricKeys = {
  ...keysWith("higher", { nidf_mean: "NIDF", nidf_median: "NIDF median", nidf_mean_no_outliers: "NIDF (|z|≤3)" }),
  ...keysWith("none", { nidf_sd: "NIDF SD", nidf_min: "NIDF min", nidf_max: "NIDF max", nidf_n_no_outliers: "n (|z|≤3)", nidf_n: "n" })
}
