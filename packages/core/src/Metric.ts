import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { UserError } from "./Errors.ts"
import type { MetricKeys } from "./MetricKey.ts"
import type { Tokenizer } from "./Tokenizer.ts"
import type { PythonModule, WorkerClient } from "./Worker.ts"

/** One response to score, with what metrics may compare it to. */
export class EvalItem extends Schema.Class<EvalItem>("EvalItem")({
  id: Schema.String,
  /** The text being scored (a model's generation, or the gold turn with `--human`). */
  response: Schema.String,
  /** The user turn right before the response (`prevs`). */
  context: Schema.String,
  /** The gold listener turn, when known. */
  target: Schema.optional(Schema.String),
  emotion: Schema.optional(Schema.String),
  /** Extra per-row columns of the predictions file (e.g. saved EPITOME levels), by column name. */
  fields: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { default: () => ({}) })
}) {}

/** A resource a metric read (lexicon, counts file), identified by content so results can be cached. */
export class MetricResource extends Schema.Class<MetricResource>("MetricResource")({
  name: Schema.String,
  sha256: Schema.String
}) {}

/** What one metric produced for a list of items. */
export class MetricScores extends Schema.Class<MetricScores>("MetricScores")({
  metric: Schema.String,
  version: Schema.String,
  params: Schema.Unknown,
  resources: Schema.Array(MetricResource),
  /** Per-item columns, each as long as the item list (NaN where a value is undefined). */
  perItem: Schema.Record({ key: Schema.String, value: Schema.Array(Schema.Number) }),
  /** Corpus-level numbers, e.g. `nidf_mean`, `compression_ratio`. */
  aggregate: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** Facts about how the numbers were made that are not numbers (e.g. BERTScore's hash string, the device). */
  meta: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
}) {}

/** A metric failed: bad items (missing fields it needs), unreadable resources, or a bug. */
export class MetricError extends UserError<MetricError>()("MetricError", {
  metric: Schema.String,
  reason: Schema.String,
  /** 2 when the input is at fault (a missing column), else 1. */
  inputFault: Schema.optionalWith(Schema.Boolean, { default: () => false })
}, {
  exitCode: (e) => (e.inputFault ? 2 : 1),
  message: (e) => `metric ${e.metric}: ${e.reason}`
}) {}

/** A scoring service; one instance per configured metric plugin. */
export interface MetricShape {
  readonly id: string
  readonly version: string
  /** Parameters after defaults, recorded in results. */
  readonly params: unknown
  readonly resources: ReadonlyArray<MetricResource>
  readonly score: (items: ReadonlyArray<EvalItem>) => Effect.Effect<MetricScores, MetricError>
}

/** The metric being run. */
export class Metric extends Context.Tag("@empo/core/Metric")<Metric, MetricShape>() {}

/** What every metric plugin's layer may use while it is built (reading its resources, tokenizing). */
export type MetricBaseEnvironment = FileSystem.FileSystem | Path.Path | Tokenizer

/**
 * What a metric plugin's layer may use: the base environment and the Python worker. Only a plugin whose
 * manifest declares `python` gets a working {@link WorkerClient}; the others get one that refuses every
 * request, so scoring feature metrics never starts Python.
 */
export type MetricEnvironment = MetricBaseEnvironment | WorkerClient

/** A param of a metric that names a file, and where the file is when the param is not given. */
export interface MetricFileParam {
  readonly param: string
  /** Path inside the data folder (`EMPO_DATA_DIR`, then the cache) used when the param is absent. */
  readonly dataFile?: string
  /** How to obtain the file, printed when it is missing. */
  readonly hint?: string
}

/** A metric plugin: metadata, a params Schema, and a Layer factory that provides {@link Metric}. */
export interface MetricPlugin<P = any> {
  readonly manifest: {
    readonly id: string
    readonly kind: "metric"
    readonly version: string
    readonly description: string
    /** Aggregate keys it reports, each with the direction that is better and a short label (comparisons, docs). */
    readonly keys: MetricKeys
    /** The Python module this metric scores with: declaring it is what makes the runner provide the worker. */
    readonly python?: PythonModule
    /** The params that name files it reads, so an experiment is checked before any stage starts. */
    readonly files?: ReadonlyArray<MetricFileParam>
    /** Whether it tokenizes (and so needs NLTK's Punkt data); absent means it may. */
    readonly tokenizes?: boolean
  }
  readonly params: Schema.Schema<P, any>
  readonly layer: (params: P) => Layer.Layer<Metric, MetricError, MetricEnvironment>
}

/** Identity helper that checks a plugin value against {@link MetricPlugin}. */
export const defineMetric = <P>(plugin: MetricPlugin<P>): MetricPlugin<P> => plugin
