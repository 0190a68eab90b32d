import { mean, pairedDifferences, standardDeviation, variance } from "@empo/metrics/Statistics"
import tCdf from "@stdlib/stats-base-dists-t-cdf"

/** One rating as the analysis reads it: a condition's response to one item, with a value per dimension. */
export interface AnalysisRating {
  readonly condition: string
  readonly item: string
  readonly rater: string
  readonly response: string
  readonly values: Readonly<Record<string, number>>
}

export interface DimSummary {
  readonly mean: number
  readonly sd: number
  readonly n: number
}

export interface PairTest {
  readonly dim: string
  readonly a: string
  readonly b: string
  readonly t: number
  readonly p: number
  /** Holm-adjusted p within the dimension's family of ordered pairs (with `holm`). */
  readonly p_holm?: number
  readonly d: number
  readonly significant: boolean
}

/** What `empo human analyze --json` prints. */
export interface Analysis {
  readonly conditions: Readonly<Record<string, Readonly<Record<string, DimSummary>>>>
  readonly pairs: ReadonlyArray<PairTest>
  readonly alpha: Readonly<Record<string, number>>
  readonly length_r: Readonly<Record<string, number>>
}

export interface AnalysisOptions {
  /** Every dimension to summarise (Dim1…Dim5). */
  readonly dims: ReadonlyArray<string>
  /** The dimensions with pairwise tests (the sliders: Dim1…Dim4). */
  readonly tested: ReadonlyArray<string>
  readonly holm?: boolean
  readonly alpha?: number
}

/** Paired one-sided t-test of A > B (scipy `ttest_rel(a, b, alternative="greater")`). */
export const pairedTTestGreater = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): { readonly t: number; readonly p: number } => {
  const d = pairedDifferences(a, b)
  const t = mean(d) / (standardDeviation(d) / Math.sqrt(d.length))
  return { t, p: Number.isNaN(t) ? Number.NaN : 1 - tCdf(t, d.length - 1) }
}

/** The study's Cohen's d: mean difference over the pooled sample SD of two equally sized groups. */
export const studyCohensD = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  const n = a.length
  return (mean(a) - mean(b)) / Math.sqrt(((n - 1) * variance(a) + (n - 1) * variance(b)) / (2 * n - 2))
}

/** Holm–Bonferroni step-down adjusted p-values, in the input order. */
export const holm = (ps: ReadonlyArray<number>): Array<number> => {
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p)
  const out = new Array<number>(ps.length)
  let running = 0
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (ps.length - rank) * p))
    out[i] = running
  })
  return out
}

/**
 * Krippendorff's alpha for interval data: units are lists of the values raters gave one (item, condition);
 * units with fewer than two values are not pairable and are left out. 1 − D_o / D_e with squared differences.
 */
export const krippendorffIntervalAlpha = (units: ReadonlyArray<ReadonlyArray<number>>): number => {
  let n = 0
  let observed = 0
  let sum = 0
  let sumSq = 0
  for (const values of units) {
    const m = values.length
    if (m < 2) continue
    let s = 0
    let s2 = 0
    for (const v of values) {
      s += v
      s2 += v * v
    }
    // Σ over ordered pairs c ≠ k of (v_c − v_k)² = 2(m·Σv² − (Σv)²)
    observed += (2 * (m * s2 - s * s)) / (m - 1)
    n += m
    sum += s
    sumSq += s2
  }
  if (n < 2) return Number.NaN
  const expected = (2 * (n * sumSq - sum * sum)) / (n * (n - 1))
  return expected === 0 ? Number.NaN : 1 - observed / n / expected
}

export const pearson = (x: ReadonlyArray<number>, y: ReadonlyArray<number>): number => {
  const mx = mean(x)
  const my = mean(y)
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my)
    sxx += (x[i]! - mx) ** 2
    syy += (y[i]! - my) ** 2
  }
  return sxy / Math.sqrt(sxx * syy)
}

/**
 * The study's analysis (empo-method §5.8): the mean of the ratings of each (condition, item) is that item's
 * score; per condition and dimension the mean and sample SD of the item scores; for each tested dimension and
 * ordered pair (A, B) the paired one-sided t-test A > B over the items both have and the study's pooled-SD
 * Cohen's d, significant at p < alpha (Holm-adjusted with `holm`); Krippendorff's interval alpha per dimension over
 * the (item, condition) units; Pearson r of the response length in characters with each dimension's item scores.
 */
export const analyze = (ratings: ReadonlyArray<AnalysisRating>, options: AnalysisOptions): Analysis => {
  const level = options.alpha ?? 0.05
  const units = new Map<string, { condition: string; item: string; response: string; values: Map<string, Array<number>> }>()
  for (const r of ratings) {
    const key = JSON.stringify([r.condition, r.item])
    const unit = units.get(key) ?? { condition: r.condition, item: r.item, response: r.response, values: new Map() }
    for (const dim of options.dims) {
      const v = r.values[dim]
      if (v !== undefined && Number.isFinite(v)) unit.values.set(dim, [...(unit.values.get(dim) ?? []), v])
    }
    units.set(key, unit)
  }
  const conditionNames = [...new Set([...units.values()].map((u) => u.condition))].sort()
  const scores = new Map<string, Map<string, Map<string, number>>>()
  for (const u of units.values()) {
    const byDim = scores.get(u.condition) ?? new Map<string, Map<string, number>>()
    for (const [dim, vs] of u.values) {
      const byItem = byDim.get(dim) ?? new Map<string, number>()
      byItem.set(u.item, mean(vs))
      byDim.set(dim, byItem)
    }
    scores.set(u.condition, byDim)
  }
  const conditions: Record<string, Record<string, DimSummary>> = {}
  for (const c of conditionNames) {
    conditions[c] = {}
    for (const dim of options.dims) {
      const xs = [...(scores.get(c)?.get(dim)?.values() ?? [])]
      conditions[c]![dim] = { mean: mean(xs), sd: standardDeviation(xs), n: xs.length }
    }
  }
  const pairs: Array<PairTest> = []
  for (const dim of options.tested) {
    const family: Array<Omit<PairTest, "significant">> = []
    for (const a of conditionNames) {
      for (const b of conditionNames) {
        if (a === b) continue
        const sa = scores.get(a)?.get(dim) ?? new Map<string, number>()
        const sb = scores.get(b)?.get(dim) ?? new Map<string, number>()
        const items = [...sa.keys()].filter((i) => sb.has(i)).sort()
        const xa = items.map((i) => sa.get(i)!)
        const xb = items.map((i) => sb.get(i)!)
        const { t, p } = pairedTTestGreater(xa, xb)
        family.push({ dim, a, b, t, p, d: studyCohensD(xa, xb) })
      }
    }
    const adjusted = options.holm === true ? holm(family.map((f) => f.p)) : undefined
    family.forEach((f, k) => pairs.push({
      ...f,
      ...(adjusted === undefined ? {} : { p_holm: adjusted[k]! }),
      significant: (adjusted?.[k] ?? f.p) < level
    }))
  }
  const alpha: Record<string, number> = {}
  const lengthR: Record<string, number> = {}
  for (const dim of options.dims) {
    const withDim = [...units.values()].filter((u) => (u.values.get(dim)?.length ?? 0) > 0)
    alpha[dim] = krippendorffIntervalAlpha(withDim.map((u) => u.values.get(dim)!))
    lengthR[dim] = pearson(withDim.map((u) => [...u.response].length), withDim.map((u) => mean(u.values.get(dim)!)))
  }
  return { conditions, pairs, alpha, length_r: lengthR }
}
