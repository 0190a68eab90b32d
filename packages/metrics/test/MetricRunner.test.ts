import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { callMethod, defineMetric, defineWorkerMethod, EvalItem, Metric, MetricError, MetricResource, MetricScores, WorkerClient } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { MetricRegistry } from "../src/MetricRegistry.ts"
import { cacheKey, hashItems, MetricRunner } from "../src/MetricRunner.ts"
import { hashModelFiles } from "../src/ModelFiles.ts"
import { summarize, writeResults } from "../src/Results.ts"
import { contractEnvironment } from "../src/testing/metricContract.ts"
import { sharedData } from "@empo/core/testing/sharedData"
import { NltkTokenizer } from "@empo/text"

let scored = 0
const chars = defineMetric({
  manifest: { id: "chars", kind: "metric", version: "1.0.0", description: "characters per response (test plugin)", keys: { chars_mean: { direction: "none", label: "chars" } } },
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
      assert.strictEqual(error._tag, "DuplicatePluginError")
      assert.strictEqual(error.message, "two metric plugins share the id `chars`")
    }))

  it.effect("unknown id → UnknownPluginError listing the known ids; bad params → InputError from the plugin's Schema", () =>
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
      assert.strictEqual(error._tag, "UnknownPluginError")
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

// A metric that scores in Python: response lengths computed by the worker's `toy.lengths` method.
const toyLengths = defineWorkerMethod({
  name: "toy.lengths",
  request: Schema.Struct({ texts: Schema.Array(Schema.String) }),
  response: Schema.Struct({ lengths: Schema.Array(Schema.Number) })
})
const scoreThroughWorker = (id: string) => (items: ReadonlyArray<EvalItem>) =>
  callMethod(toyLengths, { texts: items.map((i) => i.response) }).pipe(
    Effect.map(({ lengths }) =>
      new MetricScores({ metric: id, version: "1.0.0", params: {}, resources: [], perItem: { len: lengths }, aggregate: { len_mean: lengths.reduce((s, x) => s + x, 0) / lengths.length } })),
    Effect.mapError((e) => new MetricError({ metric: id, reason: e.message }))
  )
const workerMetric = (id: string, declaresPython: boolean) =>
  defineMetric({
    manifest: {
      id, kind: "metric", version: "1.0.0", description: "response length from the worker (test plugin)",
      keys: { len_mean: { direction: "none", label: "length" } },
      ...(declaresPython ? { python: { name: "empo_metric_toy", path: "/nonexistent" } } : {})
    },
    params: Schema.Struct({}),
    layer: () =>
      Layer.effect(Metric, Effect.gen(function* () {
        const worker = yield* WorkerClient
        const score = (items: ReadonlyArray<EvalItem>) => scoreThroughWorker(id)(items).pipe(Effect.provideService(WorkerClient, worker))
        return Metric.of({ id, version: "1.0.0", params: {}, resources: [], score })
      }))
  })

const fakeWorker = () => {
  const requests: Array<string> = []
  const layer = Layer.succeed(WorkerClient, WorkerClient.of({
    request: (method, payload) =>
      Effect.sync(() => {
        requests.push(method)
        return { lengths: (payload as { texts: Array<string> }).texts.map((t) => t.length) }
      })
  }))
  return { requests, layer }
}

// The tokenizer only: the contract environment's refusing worker would shadow the worker each test provides.
const registryOf = (plugins: Parameters<typeof MetricRegistry.layer>[0]) =>
  MetricRunner.layer.pipe(
    Layer.provideMerge(MetricRegistry.layer(plugins)),
    Layer.provideMerge(NltkTokenizer.layerFromFile(sharedData("nltk", "punkt_english.json"))),
    Layer.provideMerge(NodeContext.layer))

describe("metrics that use the Python worker", () => {
  it.effect("a metric that declares `python` scores through the caller's WorkerClient", () => {
    const worker = fakeWorker()
    return Effect.gen(function* () {
      const result = yield* (yield* MetricRunner).run(items, [{ id: "toy" }])
      assert.deepStrictEqual(result.scores[0]!.perItem["len"], [5, 7])
      assert.deepStrictEqual(worker.requests, ["toy.lengths"])
    }).pipe(Effect.provide(registryOf([workerMetric("toy", true)])), Effect.provide(worker.layer))
  })

  it.effect("without a WorkerClient, a python metric fails naming its module; feature metrics still run", () =>
    Effect.gen(function* () {
      const runner = yield* MetricRunner
      const error = yield* Effect.flip(runner.run(items, [{ id: "toy" }]))
      assert.strictEqual(error._tag, "MetricError")
      assert.include(error.message, "needs the Python worker (module empo_metric_toy)")
      const features = yield* runner.run(items, [{ id: "chars" }])
      assert.strictEqual(features.scores[0]!.aggregate["chars_mean"], 6)
    }).pipe(Effect.provide(registryOf([workerMetric("toy", true), chars]))))

  it.effect("a metric that does not declare `python` never reaches the worker, even when one is provided", () => {
    const worker = fakeWorker()
    return Effect.gen(function* () {
      const error = yield* Effect.flip((yield* MetricRunner).run(items, [{ id: "sneaky" }]))
      assert.include(error.message, "does not declare `python`")
      assert.deepStrictEqual(worker.requests, [])
    }).pipe(Effect.provide(registryOf([workerMetric("sneaky", false)])), Effect.provide(worker.layer))
  })
})

describe("hashModelFiles", () => {
  const modelFolder = () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-model-")), "classifier")
    fs.mkdirSync(path.join(dir, "tokenizer"), { recursive: true })
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ hidden: 8 }))
    fs.writeFileSync(path.join(dir, "model.safetensors"), Buffer.alloc(200_000, 7))
    fs.writeFileSync(path.join(dir, "tokenizer", "vocab.txt"), "a\nb\n")
    return dir
  }
  let modelScores = 0
  const modelMetric = (dir: string) => defineMetric({
    manifest: { id: "model", kind: "metric", version: "1.0.0", description: "a metric that reads a model folder (test plugin)", keys: { n: { direction: "none", label: "n" } } },
    params: Schema.Struct({}),
    layer: () =>
      Layer.effect(Metric, Effect.gen(function* () {
        const resources = yield* hashModelFiles("model", dir)
        return Metric.of({
          id: "model", version: "1.0.0", params: {}, resources,
          score: (scoredItems) => Effect.sync(() => {
            modelScores++
            return new MetricScores({ metric: "model", version: "1.0.0", params: {}, resources, perItem: {}, aggregate: { n: scoredItems.length } })
          })
        })
      }))
  })

  it.effect("hashes every file below a model folder; one changed byte changes the cache key and misses the cache", () => {
    const dir = modelFolder()
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-cache-"))
    return Effect.gen(function* () {
      const registry = yield* MetricRegistry
      const runner = yield* MetricRunner
      const before = yield* registry.build({ id: "model" })
      assert.deepStrictEqual(before.resources.map((r) => r.name), ["classifier/config.json", "classifier/model.safetensors", "classifier/tokenizer/vocab.txt"])
      const expected = (yield* Effect.promise(() => import("node:crypto"))).createHash("sha256").update(fs.readFileSync(path.join(dir, "model.safetensors"))).digest("hex")
      assert.strictEqual(before.resources[1]!.sha256, expected)
      modelScores = 0
      yield* runner.run(items, [{ id: "model" }], { cacheDir })
      yield* runner.run(items, [{ id: "model" }], { cacheDir })
      assert.strictEqual(modelScores, 1)

      const weights = fs.readFileSync(path.join(dir, "model.safetensors"))
      weights[123_456] = 8
      fs.writeFileSync(path.join(dir, "model.safetensors"), weights)
      const after = yield* registry.build({ id: "model" })
      assert.notStrictEqual(cacheKey(hashItems(items), after), cacheKey(hashItems(items), before))
      yield* runner.run(items, [{ id: "model" }], { cacheDir })
      assert.strictEqual(modelScores, 2)
    }).pipe(Effect.provide(registryOf([modelMetric(dir)])))
  })

  it.effect("a missing model folder is the input's fault, naming the path", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(hashModelFiles("model", "/nonexistent/classifier"))
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, "metric model: cannot read model file /nonexistent/classifier")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("a list of files is named by base name (with an optional label)", () => {
    const dir = modelFolder()
    return Effect.gen(function* () {
      const resources = yield* hashModelFiles("model", [path.join(dir, "config.json")], { label: "er" })
      assert.deepStrictEqual(resources.map((r) => r.name), ["er/config.json"])
    }).pipe(Effect.provide(NodeContext.layer))
  })
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
    assert.isNull(paired.aggregates[0]!.ci)
    const welch = compareRuns(ids, scores([1, 2, 3, 4]), ids, scores([2, 3, 5, 5]), { unpaired: true, resamples: 200 })
    assert.strictEqual(welch.columns[0]!.test, "Welch t")
    assert.isNull(welch.columns[0]!.pPermutation)
  })
})
