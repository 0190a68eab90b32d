/**
 * The worker's `score` request: a metric plugin whose model runs in Python hands it the items (as a JSONL file,
 * so a large corpus never travels as one protocol line) and gets per-item columns back, with progress events.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { type EvalItem, MetricError, MetricResource } from "@empo/core"
import { callMethod, defineWorkerMethod, WorkerClient, type WorkerClientShape } from "@empo/core/Worker"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import { hashModelFiles } from "./ModelFiles.ts"

/** `score`: metric id, its params and the items file → per-item scores (`null` where undefined), aggregates, meta. */
export const ScoreMethod = defineWorkerMethod({
  name: "score",
  request: Schema.Struct({ metric: Schema.String, params: Schema.Unknown, items: Schema.String }),
  response: Schema.Struct({
    perItem: Schema.Record({ key: Schema.String, value: Schema.Array(Schema.NullOr(Schema.Number)) }),
    aggregate: Schema.Record({ key: Schema.String, value: Schema.Number }),
    meta: Schema.Record({ key: Schema.String, value: Schema.String })
  }),
  event: Schema.Struct({ done: Schema.Int, total: Schema.Int })
})

/** What the worker scored, NaN where it sent `null`. */
export interface WorkerScores {
  readonly perItem: Record<string, Array<number>>
  readonly meta: Record<string, string>
}

/** One line of the items file: the texts a neural metric reads. */
const itemLine = (item: EvalItem): string =>
  JSON.stringify({ response: item.response, context: item.context, ...(item.target === undefined ? {} : { target: item.target }) })

/**
 * Scores `items` with the worker's scorer `metric`. A worker failure of kind `input` (a bad checkpoint, a folder
 * without a tokenizer) is an input fault of the metric (exit 2); every column must be as long as the item list.
 */
export const scoreInWorker = (
  worker: WorkerClientShape,
  metric: string,
  params: unknown,
  items: ReadonlyArray<EvalItem>
): Effect.Effect<WorkerScores, MetricError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const fail = (reason: string, inputFault = false) => new MetricError({ metric, reason, inputFault })
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: `empo-${metric}-` }).pipe(Effect.mapError((e) => fail(`cannot write the items file: ${e.message}`)))
    const file = path.join(dir, "items.jsonl")
    yield* fs.writeFileString(file, items.map(itemLine).join("\n") + "\n").pipe(Effect.mapError((e) => fail(`cannot write the items file: ${e.message}`)))
    const result = yield* callMethod(ScoreMethod, { metric, params, items: file }, (event) =>
      Effect.logDebug(`${metric}: ${event.done}/${event.total}`)).pipe(
      Effect.provideService(WorkerClient, worker),
      Effect.mapError((e) => fail(e.reason, e.kind === "input"))
    )
    const perItem: Record<string, Array<number>> = {}
    for (const [key, values] of Object.entries(result.perItem)) {
      if (values.length !== items.length) return yield* fail(`the worker returned ${values.length} values of \`${key}\` for ${items.length} items`)
      perItem[key] = values.map((v) => v ?? Number.NaN)
    }
    return { perItem, meta: { ...result.meta } }
  }))

/** The mean of the finite values (NaN when there are none). */
export const finiteMean = (values: ReadonlyArray<number>): number => {
  const kept = values.filter((v) => Number.isFinite(v))
  return kept.length === 0 ? Number.NaN : kept.reduce((a, b) => a + b, 0) / kept.length
}

/** `tiny:<corpus>` (an encoder) or `tiny:<seed>` (EPITOME checkpoints): built by the worker on first use, then cached. */
export const tinyPrefix = "tiny:"

/**
 * The resources a model reference stands for: every file of a local folder; for `tiny:<corpus>` the corpus file
 * (what the tiny model is built from) and the reference; for a hub id (resolved by the worker's own cache) the
 * id itself — so that changing any of them misses the metric cache. A path that does not exist is not a hub id.
 */
export const modelReferenceResources = (metric: string, ref: string, label: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const named = new MetricResource({ name: `${label}:${ref}`, sha256: createHash("sha256").update(ref).digest("hex") })
    if (ref.startsWith(tinyPrefix)) {
      const corpus = ref.slice(tinyPrefix.length)
      if (/^\d+$/.test(corpus)) return [named]
      return [named, ...(yield* hashModelFiles(metric, [corpus], { label }))]
    }
    const info = yield* fs.stat(ref).pipe(Effect.option)
    if (info._tag === "Some" && info.value.type === "Directory") return yield* hashModelFiles(metric, ref, { label })
    if (info._tag === "Some" || ref.startsWith(".") || ref.startsWith("/") || ref.split("/").length > 2) {
      return yield* new MetricError({ metric, inputFault: true, reason: `${label} ${ref} is not a model folder` + (info._tag === "None" ? " (it does not exist)" : "") })
    }
    return [named]
  })

/**
 * A model reference as the worker must see it: the worker runs in `<repo>/python`, so a local path (or the corpus
 * of `tiny:<corpus>`) is made absolute against this process's working directory; a hub id is left as it is.
 */
export const workerPath = (ref: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (ref.startsWith(tinyPrefix)) {
      const rest = ref.slice(tinyPrefix.length)
      return /^\d+$/.test(rest) ? ref : `${tinyPrefix}${path.resolve(rest)}`
    }
    return (yield* fs.exists(ref).pipe(Effect.orElseSucceed(() => false))) ? path.resolve(ref) : ref
  })
