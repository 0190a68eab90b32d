import { InputError, Metric, type MetricEnvironment, type MetricError, type MetricPlugin, type MetricShape } from "@empo/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** Two plugins claim the same metric id: a wiring bug in the app's plugin list. */
export class DuplicateMetricError extends Schema.TaggedError<DuplicateMetricError>()("DuplicateMetricError", {
  id: Schema.String
}) {
  override get message(): string {
    return `two metric plugins share the id \`${this.id}\``
  }
}

/** A metric requested by id with its raw (undecoded) parameters. */
export interface MetricRequest {
  readonly id: string
  readonly params?: unknown
}

/** The metric plugins an app ships, looked up by id; params are decoded by each plugin's own Schema. */
export class MetricRegistry extends Context.Tag("@empo/metrics/MetricRegistry")<MetricRegistry, {
  readonly plugins: ReadonlyArray<MetricPlugin>
  readonly ids: ReadonlyArray<string>
  readonly plugin: (id: string) => Effect.Effect<MetricPlugin, InputError>
  /** Decodes `params` with the plugin's Schema (defaults applied). */
  readonly decodeParams: (id: string, params?: unknown) => Effect.Effect<unknown, InputError>
  /** Builds a ready metric: decoded params, resources loaded and hashed. */
  readonly build: (request: MetricRequest) => Effect.Effect<MetricShape, InputError | MetricError, MetricEnvironment>
}>() {
  static readonly make = (plugins: ReadonlyArray<MetricPlugin>): Effect.Effect<MetricRegistry["Type"], DuplicateMetricError> =>
    Effect.gen(function* () {
      const byId = new Map<string, MetricPlugin>()
      for (const p of plugins) {
        if (byId.has(p.manifest.id)) return yield* new DuplicateMetricError({ id: p.manifest.id })
        byId.set(p.manifest.id, p)
      }
      const ids = [...byId.keys()]
      const plugin = Effect.fn("MetricRegistry.plugin")(function* (id: string) {
        const found = byId.get(id)
        if (found === undefined) {
          return yield* new InputError({ reason: `unknown metric \`${id}\`; known metrics: ${ids.join(", ")}`, field: "metrics" })
        }
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
        return yield* Effect.provide(Metric, p.layer(params))
      })
      return MetricRegistry.of({ plugins: [...byId.values()], ids, plugin, decodeParams, build })
    })

  /** The registry over an explicit plugin list (the app's `plugins.ts`). */
  static readonly layer = (plugins: ReadonlyArray<MetricPlugin>): Layer.Layer<MetricRegistry, DuplicateMetricError> =>
    Layer.effect(MetricRegistry, MetricRegistry.make(plugins))
}
