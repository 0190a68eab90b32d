import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { EvalItem, Metric } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { readPredictions } from "@empo/metrics"
import { contractEnvironment } from "@empo/metrics/testing/metricContract"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { diffLevel, EpitomeSavedParams, parseLevel, plugin } from "../src/index.ts"

const build = Effect.gen(function* () {
  return yield* Effect.provide(Metric, plugin.layer(yield* Schema.decodeUnknown(EpitomeSavedParams)({})))
})

describe("epitome-saved", () => {
  it("diff is the squared level difference; levels are 0, 1 or 2", () => {
    assert.strictEqual(diffLevel(2, 0), 4)
    assert.strictEqual(diffLevel(0, 1), 1)
    assert.strictEqual(parseLevel("2"), 2)
    assert.isUndefined(parseLevel("3"))
    assert.isUndefined(parseLevel(""))
    assert.isUndefined(parseLevel("1.5"))
  })

  // empo-method §6.2 diff-Epitome table.
  const reference = [
    { name: "baseline", file: "baseline_zephyr-7b-sft-full.txt", diff: [1.1201, 0.6031, 1.4409], mean: 1.0547, pred: [1.2264, 0.0268, 0.7008] },
    { name: "DPO d270", file: "dpo_zephyr-7b-sft-full124_d270.txt", diff: [0.5953, 0.8000, 0.7213], mean: 0.7055, pred: [0.7047, 0.3031, 0.1472] }
  ] as const
  for (const ref of reference) {
    it.effect(`${ref.name}: diff-ER/IP/EX match §6.2 to 4 decimals, and equal the saved diff_* columns`, () =>
      Effect.gen(function* () {
        const { items } = yield* readPredictions(sharedData("predictions", ref.file))
        const { aggregate, perItem } = yield* (yield* build).score(items)
        const fmt = (x: number | undefined) => x!.toFixed(4)
        assert.deepStrictEqual([aggregate["diff_ER"], aggregate["diff_IP"], aggregate["diff_EX"]].map(fmt), ref.diff.map((x) => x.toFixed(4)))
        assert.strictEqual(fmt(aggregate["diff_mean"]), ref.mean.toFixed(4))
        assert.deepStrictEqual([aggregate["pred_ER"], aggregate["pred_IP"], aggregate["pred_EX"]].map(fmt), ref.pred.map((x) => x.toFixed(4)))
        assert.deepStrictEqual([aggregate["gt_ER"], aggregate["gt_IP"], aggregate["gt_EX"]].map(fmt), ["0.5315", "0.3000", "0.3063"])
        items.forEach((item, i) => assert.strictEqual(perItem["diff_ER"]![i], Number(item.fields["diff_ER_scores"])))
      }).pipe(Effect.provide(contractEnvironment), Effect.provide(NodeContext.layer)))
  }

  it.effect("a missing level column is an input fault (exit 2) naming the column", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip((yield* build).score([new EvalItem({ id: "7", response: "r", context: "c", fields: { pred_ER_scores: "1" } })]))
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, "gt_ER_scores")
    }).pipe(Effect.provide(contractEnvironment)))

  it.effect("a value that is not a level names the item", () =>
    Effect.gen(function* () {
      const fields = { pred_ER_scores: "7", gt_ER_scores: "0" }
      const error = yield* Effect.flip((yield* build).score([new EvalItem({ id: "9", response: "r", context: "c", fields })]))
      assert.include(error.message, "item 9")
    }).pipe(Effect.provide(contractEnvironment)))
})
