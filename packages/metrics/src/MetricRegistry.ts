import {
  DuplicatePluginError,
  InputError,
  Metric,
  type MetricBaseEnvironment,
  MetricError,
  type MetricPlugin,
  type MetricShape,
  UnknownPluginError,
  WorkerClient,
  WorkerError,
  type WorkerClientShape
} from "@empo/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** A metric requested by id with its raw (undecoded) parameters. */
export interface MetricRequest {
  readonly id: string
  readonly params?: unknown
}

/** What a metric that did not declare `python` gets as its worker: every request is refused, nothing starts. */
const refusingWorker = (metric: string): WorkerClientShape => ({
  request: (method) =>
    Effect.fail(new WorkerError({ method, kind: "missing", reason: `metric ${metric} does not declare \`python\` in its manifest, so it has no worker` }))
})

/**
 * The worker a metric plugin's layer is built with. A plugin that declares `python` gets the `WorkerClient` of
 * the caller's context (the bridge's lazy client starts Python on its first request); without one in the
 * context it fails naming the module. Every other plugin gets a client that refuses, so feature metrics never
 * start Python whatever the caller provides.
 */
export const metricWorker = (plugin: MetricPlugin): Effect.Effect<WorkerClientShape, MetricError> =>
  Effect.gen(function* () {
    const python = plugin.manifest.python
    if (python === undefined) return refusingWorker(plugin.manifest.id)
    const worker = yield* Effect.serviceOption(WorkerClient)
    if (Option.isNone(worker)) {
      return yield* new MetricError({
        metric: plugin.manifest.id,
        reason: `needs the Python worker (module ${python.name}), but this command was started without one`
      })
    }
    return worker.value
  })

/** The metric plugins an app ships, looked up by id; params are decoded by each plugin's own Schema. */
export class MetricRegistry extends Context.Tag("@empo/metrics/MetricRegistry")<MetricRegistry, {
  readonly plugins: ReadonlyArray<MetricPlugin>
  readonly ids: ReadonlyArray<string>
  readonly plugin: (id: string) => Effect.Effect<MetricPlugin, UnknownPluginError>
  /** Decodes `params` with the plugin's Schema (defaults applied). */
  readonly decodeParams: (id: string, params?: unknown) => Effect.Effect<unknown, UnknownPluginError | InputError>
  /**
   * Builds a ready metric: decoded params, resources loaded and hashed. A `WorkerClient` in the caller's context
   * is handed only to plugins that declare `python` (see {@link metricWorker}).
   */
  readonly build: (request: MetricRequest) => Effect.Effect<MetricShape, UnknownPluginError | InputError | MetricError, MetricBaseEnvironment>
}>() {
  static readonly make = (plugins: ReadonlyArray<MetricPlugin>): Effect.Effect<MetricRegistry["Type"], DuplicatePluginError> =>
    Effect.gen(function* () {
      const byId = new Map<string, MetricPlugin>()
      for (const p of plugins) {
        if (byId.has(p.manifest.id)) return yield* new DuplicatePluginError({ kind: "metric", id: p.manifest.id })
        byId.set(p.manifest.id, p)
      }
      const ids = [...byId.keys()]
      const plugin = Effect.fn("MetricRegistry.plugin")(function* (id: string) {
        const found = byId.get(id)
        if (found === undefined) return yield* new UnknownPluginError({ kind: "metric", id, known: ids })
        return found
      })
      const decodeParams = Effect.fn("MetricRegistry.decodeParams")(function* (id: string, params?: unknown) {
        const p = yield* plugin(id)
        return yield* Schema.decodeUnknown(p.params)(params ?? {}).pipe(
          Effect.mapError((e) =>
            new InputError({ reason: `invalid parameters for metric \`${id}\`: ${ParseResult.TreeFormatter.formatErrorSync(e)}`, field: `params.${id}` })
          )
        )
      })
      const build = Effect.fn("MetricRegistry.build")(function* (request: MetricRequest) {
        const p = yield* plugin(request.id)
        const params = yield* decodeParams(request.id, request.params)
        const worker = yield* metricWorker(p)
        return yield* Effect.provide(Metric, p.layer(params)).pipe(Effect.provideService(WorkerClient, worker))
      })
      return MetricRegistry.of({ plugins: [...byId.values()], ids, plugin, decodeParams, build })
    })

  /** The registry over an explicit plugin list (an app gets it from its plugin catalogue). */
  static readonly layer = (plugins: ReadonlyArray<MetricPlugin>): Layer.Layer<MetricRegistry, DuplicatePluginError> =>
    Layer.effect(MetricRegistry, MetricRegistry.make(plugins))
}
