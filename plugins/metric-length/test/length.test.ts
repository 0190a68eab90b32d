import * as NodeContext from "@effect/platform-node/NodeContext"
import { EvalItem, Metric } from "@empo/core/Metric"
import { sharedData } from "@empo/core/testing/sharedData"
import { NltkTokenizer } from "@empo/text"
import { noWorker } from "@empo/metrics/testing/metricContract"
import { readTildeCsv } from "@empo/text/testing/predictions"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { codePointLength, plugin } from "../src/index.ts"

const LengthLive = plugin.layer({}).pipe(
  Layer.provide(NltkTokenizer.layerFromFile(sharedData("nltk", "punkt_english.json"))),
  Layer.provide(noWorker),
  Layer.provide(NodeContext.layer)
)

const items = (file: string, column: "gens" | "gen_targets") =>
  readTildeCsv(sharedData("predictions", file)).map((row, i) =>
    new EvalItem({ id: String(i), response: row[column]!, context: row["prevs"]! }))

describe("metric-length", () => {
  it.effect("§6.2 mean chars and mean / median NLTK tokens for baseline, DPO and human", () =>
    Effect.gen(function* () {
      const metric = yield* Metric
      const cases = [
        ["baseline_zephyr-7b-sft-full.txt", "gens", 152.32, 33.31, 30],
        ["dpo_zephyr-7b-sft-full124_d270.txt", "gens", 62.82, 15.46, 14],
        ["baseline_zephyr-7b-sft-full.txt", "gen_targets", 65.19, 15.22, 13]
      ] as const
      for (const [file, column, chars, tokens, median] of cases) {
        const { aggregate, perItem } = yield* metric.score(items(file, column))
        assert.closeTo(aggregate["chars_mean"]!, chars, 0.005, `${file} ${column} chars`)
        assert.closeTo(aggregate["tokens_mean"]!, tokens, 0.005, `${file} ${column} tokens`)
        assert.strictEqual(aggregate["tokens_median"], median)
        assert.strictEqual(perItem["chars"]!.length, 2540)
      }
      const baseline = yield* metric.score(items("baseline_zephyr-7b-sft-full.txt", "gens"))
      assert.strictEqual(baseline.aggregate["tokens_max"], 180)
    }).pipe(Effect.provide(LengthLive)))

  it("counts code points as Python's len does", () => {
    assert.strictEqual(codePointLength("héllo 😊"), 7)
    assert.strictEqual(codePointLength(""), 0)
  })
})
