import tCdf from "@stdlib/stats-base-dists-t-cdf"
import * as prand from "pure-rand"

/** Result of a t-test: statistic, degrees of freedom and two-sided p-value. */
export interface TTestResult {
  readonly t: number
  readonly df: number
  readonly p: number
}

/** A percentile confidence interval around a point estimate. */
export interface ConfidenceInterval {
  readonly estimate: number
  readonly low: number
  readonly high: number
  readonly confidence: number
}

/** Options shared by the resampling procedures; the seed makes every result reproducible. */
export interface ResamplingOptions {
  readonly seed?: number
  readonly resamples?: number
  readonly confidence?: number
}

const finite = (xs: ReadonlyArray<number>): ReadonlyArray<number> => xs.filter(Number.isFinite)

export const mean = (xs: ReadonlyArray<number>): number => {
  let sum = 0
  for (const x of xs) sum += x
  return xs.length === 0 ? Number.NaN : sum / xs.length
}

/** Variance with `ddof` degrees of freedom removed (1 = sample variance, 0 = population). */
export const variance = (xs: ReadonlyArray<number>, ddof = 1): number => {
  if (xs.length - ddof <= 0) return Number.NaN
  const m = mean(xs)
  let ss = 0
  for (const x of xs) ss += (x - m) * (x - m)
  return ss / (xs.length - ddof)
}

export const standardDeviation = (xs: ReadonlyArray<number>, ddof = 1): number => Math.sqrt(variance(xs, ddof))

/** Quantile with linear interpolation between order statistics (NumPy's default method). */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

const twoSidedP = (t: number, df: number): number => Number.isNaN(t) ? Number.NaN : Math.min(1, 2 * tCdf(-Math.abs(t), df))

/** Welch's unequal-variance two-sample t-test (scipy `ttest_ind(equal_var=False)`). */
export const welchTTest = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): TTestResult => {
  const va = variance(a) / a.length
  const vb = variance(b) / b.length
  const t = (mean(a) - mean(b)) / Math.sqrt(va + vb)
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1))
  return { t, df, p: twoSidedP(t, df) }
}

/** Paired t-test on `a[i] − b[i]` (scipy `ttest_rel`). */
export const pairedTTest = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): TTestResult => {
  const d = pairedDifferences(a, b)
  const t = mean(d) / (standardDeviation(d) / Math.sqrt(d.length))
  const df = d.length - 1
  return { t, df, p: twoSidedP(t, df) }
}

/** Cohen's d with the pooled sample SD of two independent groups. */
export const cohensD = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  const pooled = ((a.length - 1) * variance(a) + (b.length - 1) * variance(b)) / (a.length + b.length - 2)
  return (mean(a) - mean(b)) / Math.sqrt(pooled)
}

/** Cohen's d_z for paired data: mean difference over the SD of the differences. */
export const cohensDz = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  const d = pairedDifferences(a, b)
  return mean(d) / standardDeviation(d)
}

export const pairedDifferences = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): ReadonlyArray<number> => {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`)
  return a.map((x, i) => x - b[i]!)
}

const rng = (seed: number) => prand.xoroshiro128plus(seed | 0)

const percentileInterval = (estimate: number, stats: Array<number>, confidence: number): ConfidenceInterval => {
  stats.sort((x, y) => x - y)
  const alpha = (1 - confidence) / 2
  return { estimate, low: quantile(stats, alpha), high: quantile(stats, 1 - alpha), confidence }
}

/** Percentile bootstrap CI of the mean of one sample. */
export const bootstrapMeanCi = (xs: ReadonlyArray<number>, options: ResamplingOptions = {}): ConfidenceInterval => {
  const values = finite(xs)
  const { confidence = 0.95, resamples = 2000, seed = 0 } = options
  const gen = rng(seed)
  const stats: Array<number> = []
  for (let r = 0; r < resamples; r++) {
    let sum = 0
    for (let i = 0; i < values.length; i++) sum += values[prand.unsafeUniformIntDistribution(0, values.length - 1, gen)]!
    stats.push(sum / values.length)
  }
  return percentileInterval(mean(values), stats, confidence)
}

/** Percentile bootstrap CI of mean(a) − mean(b) for two independent samples (each resampled on its own). */
export const bootstrapDeltaCi = (
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>,
  options: ResamplingOptions = {}
): ConfidenceInterval => {
  const { confidence = 0.95, resamples = 2000, seed = 0 } = options
  const gen = rng(seed)
  const resampleMean = (xs: ReadonlyArray<number>) => {
    let sum = 0
    for (let i = 0; i < xs.length; i++) sum += xs[prand.unsafeUniformIntDistribution(0, xs.length - 1, gen)]!
    return sum / xs.length
  }
  const stats: Array<number> = []
  for (let r = 0; r < resamples; r++) stats.push(resampleMean(a) - resampleMean(b))
  return percentileInterval(mean(a) - mean(b), stats, confidence)
}

/** Percentile bootstrap CI of the mean paired difference (rows resampled together). */
export const pairedBootstrapDeltaCi = (
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>,
  options: ResamplingOptions = {}
): ConfidenceInterval => bootstrapMeanCi(pairedDifferences(a, b), options)

/**
 * Seeded two-sided paired permutation test: randomly flips the sign of each paired difference and
 * counts how often |mean| reaches the observed one. p uses the +1 correction, so it is never 0.
 */
export const pairedPermutationTest = (
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>,
  options: { readonly permutations?: number; readonly seed?: number } = {}
): { readonly observed: number; readonly p: number; readonly permutations: number } => {
  const { permutations = 10_000, seed = 0 } = options
  const d = pairedDifferences(a, b)
  const observed = mean(d)
  const threshold = Math.abs(observed) - 1e-12 * Math.max(1, Math.abs(observed))
  const gen = rng(seed)
  let extreme = 0
  for (let r = 0; r < permutations; r++) {
    let sum = 0
    for (let i = 0; i < d.length; i++) sum += prand.unsafeUniformIntDistribution(0, 1, gen) === 0 ? d[i]! : -d[i]!
    if (Math.abs(sum / d.length) >= threshold) extreme++
  }
  return { observed, p: (extreme + 1) / (permutations + 1), permutations }
}
