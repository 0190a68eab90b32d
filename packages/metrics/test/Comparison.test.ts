import { EvalItem, Metric, MetricScores, type TokenizerShape } from "@empo/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { bootstrapCorpusAggregates, cachingTokenizer, compareRuns, corpusAggregates } from "../src/Comparison.ts"

const items = (responses: ReadonlyArray<string>, context = "same prompt") =>
  responses.map((response, i) => new EvalItem({ id: `i${i}`, response, context }))

// A real corpus-level number (share of distinct responses) beside a per-item column and its mean.
const uniqueShare = (list: ReadonlyArray<EvalItem>) => new Set(list.map((x) => x.response)).size / list.length
const scoreOf = (list: ReadonlyArray<EvalItem>) => {
  const lengths = list.map((x) => x.response.length)
  return new MetricScores({
    metric: "toy", version: "1", params: {}, resources: [],
    perItem: { chars: lengths, context_chars: list.map((x) => x.context.length) },
    aggregate: { chars: lengths.reduce((s, x) => s + x, 0) / lengths.length, unique_share: uniqueShare(list) }
  })
}
const toy = Metric.of({ id: "toy", version: "1", params: {}, resources: [], score: (list) => Effect.succeed(scoreOf(list)) })

const a = items(["ok", "ok", "ok", "fine", "ok", "ok", "sure", "ok", "ok", "ok", "ok", "ok"])
const b = items(["yes", "no", "maybe", "ok", "sure", "fine", "right", "good", "ok", "well", "hm", "so"])

describe("compareRuns and corpus-level intervals", () => {
  it("a paired column equal in A and B for every item is listed as identical, never tested to NaN", () => {
    const c = compareRuns(a, [scoreOf(a)], b, [scoreOf(b)], { resamples: 100, permutations: 100 })
    assert.isTrue(c.paired)
    assert.deepStrictEqual(c.identical, [{ metric: "toy", column: "context_chars" }])
    assert.deepStrictEqual(c.columns.map((x) => x.column), ["chars"])
    for (const x of c.columns) assert.isFalse(Number.isNaN(x.pT))
  })

  it("corpus-level aggregates get a seeded bootstrap CI by rescoring resampled items; per-item means are not among them", () =>
    Effect.gen(function* () {
      const c = compareRuns(a, [scoreOf(a)], b, [scoreOf(b)], { resamples: 100, permutations: 100 })
      assert.deepStrictEqual(corpusAggregates(c).map((x) => x.key), ["unique_share"])
      assert.isTrue(c.aggregates.every((x) => x.ci === null))
      const withCi = yield* bootstrapCorpusAggregates(c, a, b, [toy], { seed: 3, resamples: 300 })
      const share = withCi.aggregates.find((x) => x.key === "unique_share")!
      assert.strictEqual(share.delta, uniqueShare(b) - uniqueShare(a))
      assert.isNotNull(share.ci)
      assert.isBelow(share.ci!.low, share.ci!.high)
      assert.isAbove(share.ci!.low, 0)
      assert.isAtMost(share.ci!.high, 1)
      // The per-item mean keeps its column test and gets no second interval.
      assert.isNull(withCi.aggregates.find((x) => x.key === "chars")!.ci)
      const again = yield* bootstrapCorpusAggregates(c, a, b, [toy], { seed: 3, resamples: 300 })
      assert.deepStrictEqual(again.aggregates, withCi.aggregates)
      // A metric not given (say, one scored in Python) keeps no interval.
      const none = yield* bootstrapCorpusAggregates(c, a, b, [], { seed: 3, resamples: 300 })
      assert.isNull(none.aggregates.find((x) => x.key === "unique_share")!.ci)
    }))

  it("the caching tokenizer tokenizes each text once", () => {
    let calls = 0
    const base: TokenizerShape = {
      resource: { name: "t", sha256: "0" },
      wordTokenize: (text) => (calls++, text.split(" ")),
      sentTokenize: (text) => [text]
    }
    const cached = cachingTokenizer(base)
    assert.deepStrictEqual(cached.wordTokenize("a b"), ["a", "b"])
    cached.wordTokenize("a b")
    cached.wordTokenize("c")
    assert.strictEqual(calls, 2)
    assert.deepStrictEqual(cached.resource, base.resource)
  })
})
