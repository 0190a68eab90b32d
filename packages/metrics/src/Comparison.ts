import type { EvalItem, MetricError, MetricScores, MetricShape, TokenizerShape } from "@empo/core"
import * as Effect from "effect/Effect"
import * as prand from "pure-rand"
import {
  bootstrapDeltaCi,
  cohensD,
  cohensDz,
  type ConfidenceInterval,
  mean,
  pairedBootstrapDeltaCi,
  pairedPermutationTest,
  pairedTTest,
  quantile,
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

/**
 * The comparison of one corpus-level aggregate. `ci` is a bootstrap over items (the metric rescored on
 * resampled item lists, see {@link bootstrapCorpusAggregates}); null until then, or when that metric was not rescored.
 */
export interface AggregateComparison {
  readonly metric: string
  readonly key: string
  readonly a: number
  readonly b: number
  readonly delta: number
  readonly ci: ConfidenceInterval | null
}

export interface Comparison {
  readonly paired: boolean
  readonly nA: number
  readonly nB: number
  readonly columns: ReadonlyArray<ColumnComparison>
  /**
   * Paired per-item columns with the same value in A and B for every item (the context's VAD: both systems
   * answer the same prompts): no test applies, so they are listed instead of reported as NaN.
   */
  readonly identical: ReadonlyArray<{ readonly metric: string; readonly column: string }>
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
  const identical: Array<{ metric: string; column: string }> = []
  for (const sa of scoresA) {
    const sb = scoresB.find((s) => s.metric === sa.metric)
    if (sb === undefined) continue
    for (const [column, va] of Object.entries(sa.perItem)) {
      const vb = sb.perItem[column]
      if (vb === undefined) continue
      if (paired) {
        const [a, b] = finitePairs(va, vb)
        if (a.length < 2) continue
        if (a.every((x, i) => x === b[i])) {
          identical.push({ metric: sa.metric, column })
          continue
        }
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
      if (b !== undefined) aggregates.push({ metric: sa.metric, key, a, b, delta: b - a, ci: null })
    }
  }
  return { paired, nA: itemsA.length, nB: itemsB.length, columns, identical, aggregates }
}

/**
 * Aggregates that no per-item column of the same name already tests: corpus values such as distinct-n,
 * compression ratio or the SD of a column, whose only interval is a bootstrap that rescores resampled items.
 */
export const corpusAggregates = (comparison: Comparison): ReadonlyArray<AggregateComparison> =>
  comparison.aggregates.filter((x) => !comparison.columns.some((c) => c.metric === x.metric && c.column === x.key))

export interface CorpusBootstrapOptions {
  readonly seed?: number
  readonly resamples?: number
  readonly confidence?: number
}

/**
 * Bias-centred percentile bootstrap CIs of the corpus-level deltas (B − A): each resample draws items with replacement
 * (the same item ids for both systems when the comparison is paired, each system on its own otherwise) and
 * rescores them with each given metric. Aggregates of metrics not given keep `ci: null`.
 */
export const bootstrapCorpusAggregates = Effect.fn("bootstrapCorpusAggregates")(function* (
  comparison: Comparison,
  itemsA: ReadonlyArray<EvalItem>,
  itemsB: ReadonlyArray<EvalItem>,
  metrics: ReadonlyArray<MetricShape>,
  options: CorpusBootstrapOptions = {}
) {
  const { seed = 0, resamples = 200, confidence = 0.95 } = options
  const targets = corpusAggregates(comparison).filter((x) => metrics.some((m) => m.id === x.metric))
  if (targets.length === 0 || resamples < 1) return comparison
  const gen = prand.xoroshiro128plus(seed | 0)
  const draw = (n: number) => Array.from({ length: n }, () => prand.unsafeUniformIntDistribution(0, n - 1, gen))
  const deltas = new Map<AggregateComparison, Array<number>>(targets.map((t) => [t, []]))
  for (let r = 0; r < resamples; r++) {
    const indicesA = draw(itemsA.length)
    const indicesB = comparison.paired ? indicesA : draw(itemsB.length)
    const sampleA = indicesA.map((i) => itemsA[i]!)
    const sampleB = indicesB.map((i) => itemsB[i]!)
    for (const metric of metrics) {
      const mine = targets.filter((t) => t.metric === metric.id)
      if (mine.length === 0) continue
      const scoredA: MetricScores = yield* metric.score(sampleA)
      const scoredB: MetricScores = yield* metric.score(sampleB)
      for (const t of mine) deltas.get(t)!.push(scoredB.aggregate[t.key]! - scoredA.aggregate[t.key]!)
    }
  }
  const alpha = (1 - confidence) / 2
  return {
    ...comparison,
    aggregates: comparison.aggregates.map((x) => {
      const stats = deltas.get(x)?.filter(Number.isFinite).sort((p, q) => p - q)
      if (stats === undefined || stats.length === 0) return x
      // Centred on the observed delta: a resample repeats responses, which by itself lowers distinct-n and
      // unique counts, so the raw percentiles sit off the estimate by that bias.
      const bias = mean(stats) - x.delta
      return { ...x, ci: { estimate: x.delta, low: quantile(stats, alpha) - bias, high: quantile(stats, 1 - alpha) - bias, confidence } }
    })
  } satisfies Comparison
}) as (
  comparison: Comparison,
  itemsA: ReadonlyArray<EvalItem>,
  itemsB: ReadonlyArray<EvalItem>,
  metrics: ReadonlyArray<MetricShape>,
  options?: CorpusBootstrapOptions
) => Effect.Effect<Comparison, MetricError>

/** A tokenizer that remembers each text's tokens: bootstrap resamples repeat the same responses many times. */
export const cachingTokenizer = (tokenizer: TokenizerShape): TokenizerShape => {
  const words = new Map<string, ReadonlyArray<string>>()
  const sentences = new Map<string, ReadonlyArray<string>>()
  const remember = (cache: Map<string, ReadonlyArray<string>>, tokenize: (text: string) => ReadonlyArray<string>) => (text: string) => {
    let tokens = cache.get(text)
    if (tokens === undefined) cache.set(text, tokens = tokenize(text))
    return tokens
  }
  return { resource: tokenizer.resource, wordTokenize: remember(words, tokenizer.wordTokenize), sentTokenize: remember(sentences, tokenizer.sentTokenize) }
}
