import type { EvalItem, MetricScores } from "@empo/core"
import {
  bootstrapDeltaCi,
  cohensD,
  cohensDz,
  type ConfidenceInterval,
  mean,
  pairedBootstrapDeltaCi,
  pairedPermutationTest,
  pairedTTest,
  welchTTest
} from "./Statistics.ts"

/** The comparison of one per-item score column between two systems (B − A). */
export interface ColumnComparison {
  readonly metric: string
  readonly column: string
  readonly meanA: number
  readonly meanB: number
  readonly delta: number
  readonly ci: ConfidenceInterval
  /** Paired: seeded sign-flip permutation test; unpaired: Welch. */
  readonly pPermutation: number | null
  readonly t: number
  readonly pT: number
  readonly test: "paired t" | "Welch t"
  /** d_z when paired, pooled d otherwise. */
  readonly effectSize: number
}

/** The comparison of one corpus-level aggregate (no per-item values, so no interval). */
export interface AggregateComparison {
  readonly metric: string
  readonly key: string
  readonly a: number
  readonly b: number
  readonly delta: number
}

export interface Comparison {
  readonly paired: boolean
  readonly nA: number
  readonly nB: number
  readonly columns: ReadonlyArray<ColumnComparison>
  readonly aggregates: ReadonlyArray<AggregateComparison>
}

export interface CompareOptions {
  /** Force Welch / independent bootstrap even when the items pair up (the study's model-vs-human tests). */
  readonly unpaired?: boolean
  readonly seed?: number
  readonly resamples?: number
  readonly permutations?: number
  readonly confidence?: number
}

/** Two runs are paired when they score the same item ids in the same order (same prompts, two systems). */
export const isPaired = (a: ReadonlyArray<EvalItem>, b: ReadonlyArray<EvalItem>): boolean =>
  a.length === b.length && a.every((item, i) => item.id === b[i]!.id)

const finitePairs = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  const xa: Array<number> = []
  const xb: Array<number> = []
  a.forEach((x, i) => {
    const y = b[i]!
    if (Number.isFinite(x) && Number.isFinite(y)) {
      xa.push(x)
      xb.push(y)
    }
  })
  return [xa, xb] as const
}

/** Compares every per-item column and every aggregate the two runs share; deltas are B − A. */
export const compareRuns = (
  itemsA: ReadonlyArray<EvalItem>,
  scoresA: ReadonlyArray<MetricScores>,
  itemsB: ReadonlyArray<EvalItem>,
  scoresB: ReadonlyArray<MetricScores>,
  options: CompareOptions = {}
): Comparison => {
  const paired = options.unpaired !== true && isPaired(itemsA, itemsB)
  const { seed = 0, resamples = 2000, permutations = 10_000, confidence = 0.95 } = options
  const columns: Array<ColumnComparison> = []
  const aggregates: Array<AggregateComparison> = []
  for (const sa of scoresA) {
    const sb = scoresB.find((s) => s.metric === sa.metric)
    if (sb === undefined) continue
    for (const [column, va] of Object.entries(sa.perItem)) {
      const vb = sb.perItem[column]
      if (vb === undefined) continue
      if (paired) {
        const [a, b] = finitePairs(va, vb)
        if (a.length < 2) continue
        const t = pairedTTest(b, a)
        columns.push({
          metric: sa.metric, column, meanA: mean(a), meanB: mean(b), delta: mean(b) - mean(a),
          ci: pairedBootstrapDeltaCi(b, a, { seed, resamples, confidence }),
          pPermutation: pairedPermutationTest(b, a, { seed, permutations }).p,
          t: t.t, pT: t.p, test: "paired t", effectSize: cohensDz(b, a)
        })
      } else {
        const a = va.filter(Number.isFinite)
        const b = vb.filter(Number.isFinite)
        if (a.length < 2 || b.length < 2) continue
        const t = welchTTest(b, a)
        columns.push({
          metric: sa.metric, column, meanA: mean(a), meanB: mean(b), delta: mean(b) - mean(a),
          ci: bootstrapDeltaCi(b, a, { seed, resamples, confidence }),
          pPermutation: null, t: t.t, pT: t.p, test: "Welch t", effectSize: cohensD(b, a)
        })
      }
    }
    for (const [key, a] of Object.entries(sa.aggregate)) {
      const b = sb.aggregate[key]
      if (b !== undefined) aggregates.push({ metric: sa.metric, key, a, b, delta: b - a })
    }
  }
  return { paired, nA: itemsA.length, nB: itemsB.length, columns, aggregates }
}
