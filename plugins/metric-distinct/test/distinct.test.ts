import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Metric } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { readPredictions } from "@empo/metrics"
import { contractEnvironment } from "@empo/metrics/testing/metricContract"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { DistinctParams, distinctRatio, itemDistinct, NgramCounter, ngramEntropy, plugin, tallyNgrams } from "../src/index.ts"

describe("distinct-n (pure)", () => {
  it("counts n-grams within responses, never across them", () => {
    const corpus = [["a", "b", "a"], ["b", "a"]]
    const bigrams = tallyNgrams(corpus, 2)
    assert.strictEqual(bigrams.total, 3) // ab, ba | ba
    assert.strictEqual(bigrams.counts.size, 2)
    assert.closeTo(distinctRatio(bigrams), 2 / 3, 1e-12)
    assert.closeTo(distinctRatio(tallyNgrams(corpus, 1)), 2 / 5, 1e-12)
    assert.isNaN(distinctRatio(tallyNgrams([["a"]], 2)))
  })

  it("entropy is log2 of the support for a uniform distribution", () => {
    assert.closeTo(ngramEntropy(tallyNgrams([["a", "b", "c", "d"]], 1)), 2, 1e-12)
    assert.strictEqual(ngramEntropy(tallyNgrams([["a", "a"]], 1)), 0)
  })

  it("item distinct-n", () => {
    assert.closeTo(itemDistinct(["x", "x", "y"], 1), 2 / 3, 1e-12)
    assert.isNaN(itemDistinct([], 1))
  })
})

// empo-method §6.2, supplementary row: corpus distinct-1/-2/-3 over lowercased NLTK tokens.
const reference = [
  { name: "baseline", file: "baseline_zephyr-7b-sft-full.txt", human: false, d: [0.0437, 0.2367, 0.4458] },
  { name: "DPO d270", file: "dpo_zephyr-7b-sft-full124_d270.txt", human: false, d: [0.0520, 0.2845, 0.5298] },
  { name: "human", file: "baseline_zephyr-7b-sft-full.txt", human: true, d: [0.0850, 0.4619, 0.7929] }
] as const

describe("distinct on the study's predictions (§6.2)", () => {
  for (const ref of reference) {
    it.effect(`${ref.name}: distinct-1/2/3 match to 4 decimals`, () =>
      Effect.gen(function* () {
        const { items } = yield* readPredictions(sharedData("predictions", ref.file), { human: ref.human })
        const params = yield* Schema.decodeUnknown(DistinctParams)({})
        const metric = yield* Effect.provide(Metric, plugin.layer(params))
        const scores = yield* metric.score(items)
        assert.strictEqual(items.length, 2540)
        ref.d.forEach((expected, i) => assert.strictEqual(scores.aggregate[`distinct_${i + 1}`]!.toFixed(4), expected.toFixed(4)))
        assert.strictEqual(scores.perItem["item_distinct_1"]!.length, 2540)
        assert.notProperty(scores.perItem, "distinct_1")
      }).pipe(Effect.provide(contractEnvironment), Effect.provide(NodeContext.layer)))
  }
})

describe("NgramCounter", () => {
  it.effect("equals the string tallies bit for bit on the study's responses, resampled with repeats as the bootstrap does", () =>
    Effect.gen(function* () {
      const { items } = yield* readPredictions(sharedData("predictions", "dpo_zephyr-7b-sft-full124_d270.txt"), { human: false })
      const texts = items.map((item) => item.response)
      const tokens = (text: string) => text.toLowerCase().split(/\s+/).filter((t) => t.length > 0)
      // Repeats and a permuted order: the counter must reset its counts between corpora.
      const resampled = texts.map((_, i) => texts[(i * 7919) % 97]!)
      const counter = new NgramCounter([1, 2, 3], tokens)
      for (const n of [1, 2, 3]) {
        for (const corpus of [texts, resampled, texts.slice(0, 10), [] as Array<string>, texts]) {
          const tally = tallyNgrams(corpus.map(tokens), n)
          const counted = counter.corpus(corpus, n)
          if (corpus.length === 0) {
            assert.isNaN(counted.distinct)
            assert.isNaN(counted.entropy)
            continue
          }
          assert.strictEqual(counted.distinct, distinctRatio(tally))
          assert.strictEqual(counted.entropy, ngramEntropy(tally))
        }
        for (const text of texts.slice(0, 200)) {
          const expected = itemDistinct(tokens(text), n)
          if (Number.isNaN(expected)) assert.isNaN(counter.itemDistinct(text, n))
          else assert.strictEqual(counter.itemDistinct(text, n), expected)
        }
      }
    }).pipe(Effect.provide(NodeContext.layer)))
})
