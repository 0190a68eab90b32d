import { keysWith, type MetricKeys } from "@empo/core/MetricKey"
import type { Vad } from "./Lexicons.ts"

/** The lexicons the scores are computed from. */
export interface VadLexicons {
  readonly vad: ReadonlyMap<string, Vad>
  readonly intensity: ReadonlyMap<string, number>
}

/** Maxima and means over a text's tokens; unknown tokens (punctuation included) count as zeros. */
export interface VadProfile {
  readonly maxV: number
  readonly meanV: number
  readonly maxA: number
  readonly meanA: number
  readonly maxD: number
  readonly meanD: number
  readonly maxIntensity: number
}

const ZERO: Vad = [0, 0, 0]

/**
 * The study's per-text profile (`vad.py`): lexicon lookups of the (already lower-cased) tokens, zeros
 * for unknown tokens. A text without tokens gets zeros (the study defaulted contexts to 0 and never met an
 * empty response).
 */
export const vadProfile = (tokens: ReadonlyArray<string>, lexicons: VadLexicons): VadProfile => {
  if (tokens.length === 0) return { maxV: 0, meanV: 0, maxA: 0, meanA: 0, maxD: 0, meanD: 0, maxIntensity: 0 }
  let maxV = -Infinity, maxA = -Infinity, maxD = -Infinity, maxIntensity = -Infinity
  let sumV = 0, sumA = 0, sumD = 0
  for (const token of tokens) {
    const [v, a, d] = lexicons.vad.get(token) ?? ZERO
    const intensity = lexicons.intensity.get(token) ?? 0
    if (v > maxV) maxV = v
    if (a > maxA) maxA = a
    if (d > maxD) maxD = d
    if (intensity > maxIntensity) maxIntensity = intensity
    sumV += v
    sumA += a
    sumD += d
  }
  const n = tokens.length
  return { maxV, meanV: sumV / n, maxA, meanA: sumA / n, maxD, meanD: sumD / n, maxIntensity }
}

/** Context minus response, signed, as `vad.py` stores them. */
export interface VadDiffs {
  readonly diffMaxV: number
  readonly diffMeanV: number
  readonly diffMaxA: number
  readonly diffMeanA: number
  readonly diffMaxD: number
  readonly diffMeanD: number
  readonly diffMaxIntensity: number
}

export const vadDiffs = (context: VadProfile, response: VadProfile): VadDiffs => ({
  diffMaxV: context.maxV - response.maxV,
  diffMeanV: context.meanV - response.meanV,
  diffMaxA: context.maxA - response.maxA,
  diffMeanA: context.meanA - response.meanA,
  diffMaxD: context.maxD - response.maxD,
  diffMeanD: context.meanD - response.meanD,
  diffMaxIntensity: context.maxIntensity - response.maxIntensity
})

/** Per-item columns, in the order they are reported. */
export const VAD_COLUMNS = [
  "context_max_v", "context_mean_v", "context_max_a", "context_mean_a", "context_max_d", "context_mean_d",
  "context_max_intensity",
  "max_v", "mean_v", "max_a", "mean_a", "max_d", "mean_d", "max_intensity",
  "diff_max_v", "diff_mean_v", "diff_max_a", "diff_mean_a", "diff_max_d", "diff_mean_d", "diff_max_intensity"
] as const
export type VadColumn = (typeof VAD_COLUMNS)[number]

/** One item's columns from its context and response profiles (response columns carry no prefix, as in `vad.py`). */
export const vadRow = (context: VadProfile, response: VadProfile): Record<VadColumn, number> => {
  const diffs = vadDiffs(context, response)
  return {
    context_max_v: context.maxV, context_mean_v: context.meanV,
    context_max_a: context.maxA, context_mean_a: context.meanA,
    context_max_d: context.maxD, context_mean_d: context.meanD,
    context_max_intensity: context.maxIntensity,
    max_v: response.maxV, mean_v: response.meanV,
    max_a: response.maxA, mean_a: response.meanA,
    max_d: response.maxD, mean_d: response.meanD,
    max_intensity: response.maxIntensity,
    diff_max_v: diffs.diffMaxV, diff_mean_v: diffs.diffMeanV,
    diff_max_a: diffs.diffMaxA, diff_mean_a: diffs.diffMeanA,
    diff_max_d: diffs.diffMaxD, diff_mean_d: diffs.diffMeanD,
    diff_max_intensity: diffs.diffMaxIntensity
  }
}

const mean = (values: ReadonlyArray<number>): number => values.reduce((s, x) => s + x, 0) / values.length

/** Sample standard deviation (ddof = 1, pandas' default, as the study's notebook reports). */
export const sampleSd = (values: ReadonlyArray<number>): number => {
  const m = mean(values)
  return Math.sqrt(values.reduce((s, x) => s + (x - m) ** 2, 0) / (values.length - 1))
}

const DIFF_COLUMNS = ["diff_max_v", "diff_max_a", "diff_max_d", "diff_max_intensity", "diff_mean_v", "diff_mean_a", "diff_mean_d"] as const

/**
 * Corpus numbers: for each diff, the signed mean (what `vad.py` printed) and the mean and SD of absolute
 * values (the paper's numbers); plus the mean response maxima.
 */
export const aggregateVad = (columns: Record<VadColumn, ReadonlyArray<number>>): Record<string, number> => {
  const aggregate: Record<string, number> = {}
  for (const name of DIFF_COLUMNS) {
    const values = columns[name]
    const absolute = values.map(Math.abs)
    aggregate[`${name}_signed_mean`] = mean(values)
    aggregate[`${name}_abs_mean`] = mean(absolute)
    aggregate[`${name}_abs_sd`] = sampleSd(absolute)
  }
  for (const name of ["max_v", "max_a", "max_d", "max_intensity"] as const) aggregate[`response_${name}_mean`] = mean(columns[name])
  return aggregate
}

const DIMENSION_LABEL: Record<string, string> = { v: "V", a: "A", d: "D", intensity: "I" }
const diffLabel = (name: (typeof DIFF_COLUMNS)[number]) => {
  const [, kind, dimension] = /^diff_(max|mean)_(.+)$/.exec(name)!
  return `Δ${DIMENSION_LABEL[dimension!]} ${kind}`
}

/**
 * Aggregate keys, for the manifest. The study (after Lee et al.) wants a response close to its context's
 * emotion, so the mean |diff| is lower-is-better; the signed mean can err either way and the SD and the
 * response maxima describe rather than score.
 */
export const VAD_KEYS: MetricKeys = {
  ...Object.fromEntries(DIFF_COLUMNS.flatMap((name) => [
    [`${name}_signed_mean`, { direction: "none", label: `${diffLabel(name)} (signed)` }],
    [`${name}_abs_mean`, { direction: "lower", label: `|${diffLabel(name)}|` }],
    [`${name}_abs_sd`, { direction: "none", label: `|${diffLabel(name)}| SD` }]
  ] as const)),
  ...keysWith("none", { response_max_v_mean: "V max", response_max_a_mean: "A max", response_max_d_mean: "D max", response_max_intensity_mean: "I max" })
}
