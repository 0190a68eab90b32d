import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { defineMetric, EvalItem, Metric, MetricResource, MetricScores } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { MetricRegistry } from "../src/MetricRegistry.ts"
import { MetricRunner } from "../src/MetricRunner.ts"
import { summarize, writeResults } from "../src/Results.ts"
import { contractEnvironment } from "../src/testing/metricContract.ts"

let scored = 0
const chars = defineMetric({
  manifest: { id: "chars", kind: "metric", version: "1.0.0", description: "characters per response (test plugin)", keys: ["chars_mean"] },
  params: Schema.Struct({ scale: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1 }) }),
  layer: (params) =>
    Layer.succeed(Metric, Metric.of({
      id: "chars", version: "1.0.0", params, resources: [new MetricResource({ name: "none", sha256: "0".repeat(64) })],
      score: (items) =>
        Effect.sync(() => {
          scored++
          const values = items.map((i) => i.response.length * params.scale)
          return new MetricScores({ metric: "chars", version: "1.0.0", params, resources: [], perItem: { chars: values }, aggregate: { chars_mean: values.reduce((s, x) => s + x, 0) / values.length } })
        })
    }))
})

const items = [new EvalItem({ id: "a", response: "hello", context: "c" }), new EvalItem({ id: "b", response: "hi, you", context: "c" })]
const layer = MetricRunner.layer.pipe(Layer.provideMerge(MetricRegistry.layer([chars])), Layer.provideMerge(contractEnvironment), Layer.provideMerge(NodeContext.layer))

describe("MetricRegistry", () => {
  it.effect("rejects duplicate ids", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(MetricRegistry.make([chars, chars]))
      assert.strictEqual(error._tag, "DuplicateMetricError")
    }))

  it.effect("unknown id → InputError listing the known ids; bad params → InputError from the plugin's Schema", () =>
    Effect.gen(function* () {
      const registry = yield* MetricRegistry.make([chars])
      const unknown = yield* Effect.flip(registry.plugin("vad"))
      assert.strictEqual(unknown.exitCode, 2)
      assert.include(unknown.message, "unknown metric `vad`; known metrics: chars")
      const bad = yield* Effect.flip(registry.decodeParams("chars", { scale: -1 }))
      assert.include(bad.message, "invalid parameters for metric `chars`")
      assert.deepStrictEqual(yield* registry.decodeParams("chars"), { scale: 1 })
    }))
})

describe("MetricRunner", () => {
  it.effect("scores once, then serves the cache; a change of params or items misses it", () =>
    Effect.gen(function* () {
      const runner = yield* MetricRunner
      const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-cache-"))
      scored = 0
      const first = yield* runner.run(items, [{ id: "chars" }], { cacheDir })
      const second = yield* runner.run(items, [{ id: "chars" }], { cacheDir })
      assert.strictEqual(scored, 1)
      assert.deepStrictEqual(second.scores[0]!.perItem, first.scores[0]!.perItem)
      assert.deepStrictEqual(summarize(first), { n: 2, metrics: { chars: { chars_mean: 6 } } })
      yield* runner.run(items, [{ id: "chars", params: { scale: 2 } }], { cacheDir })
      assert.strictEqual(scored, 2)
      yield* runner.run([items[0]!], [{ id: "chars" }], { cacheDir })
      assert.strictEqual(scored, 3)
      // A corrupt cache entry is a miss, not an error.
      for (const f of fs.readdirSync(cacheDir)) fs.writeFileSync(path.join(cacheDir, f), "{broken")
      yield* runner.run(items, [{ id: "chars" }], { cacheDir })
      assert.strictEqual(scored, 4)
    }).pipe(Effect.provide(layer)))

  it.effect("fails before scoring anything when one requested metric is unknown", () =>
    Effect.gen(function* () {
      scored = 0
      const error = yield* Effect.flip((yield* MetricRunner).run(items, [{ id: "chars" }, { id: "nope" }]))
      assert.strictEqual(error._tag, "InputError")
      assert.strictEqual(scored, 0)
    }).pipe(Effect.provide(layer)))

  it.effect("writes per-item JSONL/CSV and summary.json atomically", () =>
    Effect.gen(function* () {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-out-")), "scores")
      const result = yield* (yield* MetricRunner).run(items, [{ id: "chars" }])
      yield* writeResults(out, items, result)
      assert.deepStrictEqual(fs.readdirSync(out).sort(), ["scores.csv", "scores.jsonl", "summary.json"])
      assert.strictEqual(fs.readFileSync(path.join(out, "scores.csv"), "utf8"), "id,chars.chars\na,5\nb,7\n")
      assert.deepStrictEqual(fs.readFileSync(path.join(out, "scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)), [{ id: "a", "chars.chars": 5 }, { id: "b", "chars.chars": 7 }])
      assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")).metrics.chars.chars_mean, 6)
    }).pipe(Effect.provide(layer)))
})

describe("compareRuns", () => {
  it("pairs runs over the same item ids, unless told not to", async () => {
    const { compareRuns } = await import("../src/Comparison.ts")
    const scores = (values: Array<number>) => [new MetricScores({ metric: "m", version: "1", params: {}, resources: [], perItem: { x: values }, aggregate: { x_mean: values.reduce((s, v) => s + v, 0) / values.length } })]
    const ids = ["a", "b", "c", "d"].map((id) => new EvalItem({ id, response: "", context: "" }))
    const paired = compareRuns(ids, scores([1, 2, 3, 4]), ids, scores([2, 3, 5, 5]), { resamples: 200, permutations: 200 })
    assert.isTrue(paired.paired)
    assert.strictEqual(paired.columns[0]!.test, "paired t")
    assert.strictEqual(paired.columns[0]!.delta, 1.25)
    assert.strictEqual(paired.aggregates[0]!.delta, 1.25)
    const welch = compareRuns(ids, scores([1, 2, 3, 4]), ids, scores([2, 3, 5, 5]), { unpaired: true, resamples: 200 })
    assert.strictEqual(welch.columns[0]!.test, "Welch t")
    assert.isNull(welch.columns[0]!.pPermutation)
  })
})
