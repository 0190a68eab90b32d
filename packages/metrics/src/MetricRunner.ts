import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { type EvalItem, type InputError, IoError, type MetricBaseEnvironment, type MetricError, MetricScores, type MetricShape, type UnknownPluginError } from "@empo/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import { type MetricRequest, MetricRegistry } from "./MetricRegistry.ts"

/** What the runner reports while it works (the CLI prints it on stderr). */
export type RunProgress =
  | { readonly _tag: "MetricStarted"; readonly metric: string; readonly items: number }
  | { readonly _tag: "MetricFinished"; readonly metric: string; readonly millis: number; readonly cached: boolean }

export interface RunOptions {
  /** Directory of cached results; none = no caching. */
  readonly cacheDir?: string | undefined
  readonly onProgress?: (event: RunProgress) => Effect.Effect<void>
}

/** Every metric's scores for one list of items. */
export interface RunResult {
  readonly n: number
  readonly itemsHash: string
  readonly scores: ReadonlyArray<MetricScores>
}

/** JSON with object keys sorted, so equal values always hash equally. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** Content hash of the items: any change to a response, context, target or field changes it. */
export const hashItems = (items: ReadonlyArray<EvalItem>): string => {
  const h = createHash("sha256")
  for (const item of items) {
    h.update(canonicalJson([item.id, item.response, item.context, item.target ?? null, item.emotion ?? null, item.fields]))
    h.update("\n")
  }
  return h.digest("hex")
}

/** The cache key of one metric run: items + metric id + version + params + resources' sha256. */
export const cacheKey = (itemsHash: string, metric: MetricShape): string =>
  sha256(canonicalJson({ items: itemsHash, metric: metric.id, version: metric.version, params: metric.params, resources: metric.resources.map((r) => [r.name, r.sha256]) }))

const ScoresJson = Schema.parseJson(MetricScores)

/**
 * Runs several metrics over items read once, reusing cached results keyed by content. It never needs the
 * Python worker itself: a `WorkerClient` in the caller's context reaches only the metrics that declare
 * `python` (a run of feature metrics starts no Python), and such a metric fails clearly without one.
 */
export class MetricRunner extends Context.Tag("@empo/metrics/MetricRunner")<MetricRunner, {
  readonly run: (
    items: ReadonlyArray<EvalItem>,
    metrics: ReadonlyArray<MetricRequest>,
    options?: RunOptions
  ) => Effect.Effect<RunResult, UnknownPluginError | InputError | MetricError | IoError, MetricBaseEnvironment>
}>() {
  static readonly layer: Layer.Layer<MetricRunner, never, MetricRegistry> = Layer.effect(
    MetricRunner,
    Effect.gen(function* () {
      const registry = yield* MetricRegistry

      const readCache = (file: string) =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) return Option.none<MetricScores>()
          const text = yield* fs.readFileString(file).pipe(Effect.option)
          // An unreadable or stale-format cache entry is a miss, never an error.
          return Option.flatMap(text, (t) => Schema.decodeOption(ScoresJson)(t))
        })

      const writeCache = (dir: string, file: string, scores: MetricScores) =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          yield* fs.makeDirectory(dir, { recursive: true })
          const encoded = yield* Schema.encode(ScoresJson)(scores).pipe(Effect.orDie)
          const temp = `${file}.${process.pid}.tmp`
          yield* fs.writeFileString(temp, encoded)
          yield* fs.rename(temp, file)
        }).pipe(Effect.mapError((cause) => new IoError({ operation: "write cache", path: file, cause })))

      const run = Effect.fn("MetricRunner.run")(function* (
        items: ReadonlyArray<EvalItem>,
        metrics: ReadonlyArray<MetricRequest>,
        options: RunOptions = {}
      ) {
        const path = yield* Path.Path
        const progress = options.onProgress ?? (() => Effect.void)
        const itemsHash = hashItems(items)
        // Build every metric first so a bad id or parameter fails before any scoring starts.
        const built: Array<MetricShape> = []
        for (const request of metrics) built.push(yield* registry.build(request))
        const scores: Array<MetricScores> = []
        for (const metric of built) {
          yield* progress({ _tag: "MetricStarted", metric: metric.id, items: items.length })
          const started = performance.now()
          const file = options.cacheDir === undefined ? undefined : path.join(options.cacheDir, `${metric.id}-${cacheKey(itemsHash, metric)}.json`)
          const cached = file === undefined ? Option.none<MetricScores>() : yield* readCache(file)
          const result = Option.isSome(cached) ? cached.value : yield* metric.score(items)
          if (file !== undefined && Option.isNone(cached)) yield* writeCache(options.cacheDir!, file, result)
          yield* progress({ _tag: "MetricFinished", metric: metric.id, millis: performance.now() - started, cached: Option.isSome(cached) })
          scores.push(result)
        }
        return { n: items.length, itemsHash, scores }
      })

      return MetricRunner.of({ run })
    })
  )
}
