import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { EvalItem, Metric, type MetricPlugin, WorkerClient, WorkerError } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { NltkTokenizer } from "@empo/text"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { metricWorker } from "../MetricRegistry.ts"

/** A few ordinary items; plugins that read extra columns pass their own. */
export const contractItems: ReadonlyArray<EvalItem> = [
  new EvalItem({ id: "0", context: "I lost my job today and I am scared.", response: "I'm so sorry to hear that. Do you have any savings?", target: "Oh no, that is terrible.", emotion: "afraid" }),
  new EvalItem({ id: "1", context: "My sister is getting married next week!", response: "That's wonderful! Congratulations to her.", target: "How exciting!", emotion: "excited" }),
  new EvalItem({ id: "2", context: "I finally finished my thesis.", response: "That's wonderful! You must be proud.", target: "Congratulations, that is a big deal.", emotion: "proud" }),
  new EvalItem({ id: "3", context: "My dog died.", response: "I'm so sorry to hear that.", target: "I am sorry for your loss.", emotion: "sad" })
]

/** A worker that refuses every request: what a feature metric's layer sees in unit tests. */
export const noWorker: Layer.Layer<WorkerClient> = Layer.succeed(WorkerClient, WorkerClient.of({
  request: (method) => Effect.fail(new WorkerError({ method, kind: "missing", reason: "no Python worker in this test (pass `worker` to metricContract)" }))
}))

/**
 * What plugin layers get in the contract suite: the platform, the NLTK tokenizer built from the shared Punkt
 * data, and {@link noWorker}.
 */
export const contractEnvironment = Layer.mergeAll(NltkTokenizer.layerFromFile(sharedData("nltk", "punkt_english.json")), noWorker).pipe(
  Layer.provideMerge(NodeContext.layer)
)

export interface ContractOptions<P> {
  /** Raw params the plugin must accept (defaults are applied by its Schema). */
  readonly params?: unknown
  /** Raw params the plugin must reject. */
  readonly badParams: unknown
  readonly items?: ReadonlyArray<EvalItem>
  /** Extra check on the decoded params. */
  readonly checkParams?: (params: P) => void
  /** The worker a plugin that declares `python` scores through (a real worker, or a fake for unit tests). */
  readonly worker?: Layer.Layer<WorkerClient>
  /** Milliseconds per scoring test (a real worker loads torch and a model first); vitest's default otherwise. */
  readonly timeout?: number
}

/**
 * The behaviour every metric plugin promises (promptfoo/evalite-style shared suite). Call it from a plugin's
 * `test/contract.test.ts`: `metricContract(plugin, { badParams: { … } })`.
 */
export const metricContract = <P>(plugin: MetricPlugin<P>, options: ContractOptions<P>): void => {
  const items = options.items ?? contractItems
  // The same worker rule as the registry: only a plugin that declares `python` reaches `options.worker`.
  const build = Effect.gen(function* () {
    const params = yield* Schema.decodeUnknown(plugin.params)(options.params ?? {})
    const worker = yield* metricWorker(plugin)
    return yield* Effect.provide(Metric, plugin.layer(params)).pipe(Effect.provideService(WorkerClient, worker))
  }).pipe(Effect.provide(options.worker === undefined ? contractEnvironment : Layer.merge(contractEnvironment, options.worker)))


  describe(`metric plugin contract: ${plugin.manifest.id}`, () => {
    it("has complete metadata", () => {
      assert.match(plugin.manifest.id, /^[a-z][a-z0-9-]*$/)
      assert.strictEqual(plugin.manifest.kind, "metric")
      assert.match(plugin.manifest.version, /^\d+\.\d+\.\d+/)
      assert.isAbove(plugin.manifest.description.length, 10)
      const keys = Object.entries(plugin.manifest.keys)
      assert.isAbove(keys.length, 0)
      for (const [key, info] of keys) {
        assert.include(["higher", "lower", "none"], info.direction, `direction of ${key}`)
        assert.isAbove(info.label.length, 0, `label of ${key}`)
      }
    })

    it.effect("decodes its default params", () =>
      Effect.gen(function* () {
        const params = yield* Schema.decodeUnknown(plugin.params)(options.params ?? {})
        options.checkParams?.(params)
      }))

    it.effect("rejects bad params", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Schema.decodeUnknown(plugin.params)(options.badParams))
        assert.strictEqual(error._tag, "ParseError")
      }))

    it.effect("scores items: one value per item per column, finite aggregates, declared keys, metadata", () =>
      Effect.gen(function* () {
        const metric = yield* build
        assert.strictEqual(metric.id, plugin.manifest.id)
        assert.strictEqual(metric.version, plugin.manifest.version)
        for (const r of metric.resources) assert.match(r.sha256, /^[0-9a-f]{64}$/)
        const scores = yield* metric.score(items)
        assert.strictEqual(scores.metric, plugin.manifest.id)
        assert.strictEqual(scores.version, plugin.manifest.version)
        assert.isAbove(Object.keys(scores.perItem).length + Object.keys(scores.aggregate).length, 0)
        for (const [column, values] of Object.entries(scores.perItem)) assert.strictEqual(values.length, items.length, `column ${column}`)
        for (const [key, value] of Object.entries(scores.aggregate)) assert.isTrue(Number.isFinite(value), `aggregate ${key} = ${value}`)
        for (const key of Object.keys(plugin.manifest.keys)) assert.property(scores.aggregate, key)
      }), options.timeout)

    it.effect("is deterministic", () =>
      Effect.gen(function* () {
        const metric = yield* build
        const first = yield* metric.score(items)
        const second = yield* metric.score(items)
        assert.deepStrictEqual(second.perItem, first.perItem)
        assert.deepStrictEqual(second.aggregate, first.aggregate)
      }), options.timeout)
  })
}
