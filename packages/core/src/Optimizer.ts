/**
 * Optimizer plugins: one per training stage (SFT, DPO, IPO, KTO). A plugin decodes its params (with
 * presets as data files), checks the combination, and provides an {@link Optimizer} that turns a
 * {@link TrainJob} into a {@link TrainRequest} for the {@link TrainingBackend}.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Struct from "effect/Struct"
import { InputError, UserError } from "./Errors.ts"
import { LoraSettings, type TrainEvent, TrainHyperParameters, TrainingBackend, type TrainingError, TrainRequest, type TrainStage } from "./Training.ts"

/**
 * What the caller decides per run (model, data, output and checkpoint folders, seed, resume); the plugin's
 * params decide the rest. The fields are {@link TrainRequest}'s, so every one of them reaches the worker.
 */
export class TrainJob extends Schema.Class<TrainJob>("TrainJob")(Struct.omit(TrainRequest.fields, "stage", "hyper")) {}

/** A training stage that was refused or failed. Input faults (bad params, wrong data shape) exit 2. */
export class OptimizerError extends UserError<OptimizerError>()("OptimizerError", {
  optimizer: Schema.String,
  reason: Schema.String,
  inputFault: Schema.optionalWith(Schema.Boolean, { default: () => false })
}, {
  exitCode: (e) => e.inputFault ? 2 : 1,
  message: (e) => `optimizer ${e.optimizer}: ${e.reason}`
}) {}

/** A configured optimizer (one plugin + its decoded params). */
export interface OptimizerShape {
  readonly id: string
  readonly stage: TrainStage
  /** Params after presets and defaults, recorded with results. */
  readonly params: unknown
  /** Streams the run's events; fails with the backend's {@link TrainingError} or an {@link OptimizerError}. */
  readonly train: (job: TrainJob) => Stream.Stream<TrainEvent, TrainingError | OptimizerError>
}

/** The optimizer being run. */
export class Optimizer extends Context.Tag("@empo/core/Optimizer")<Optimizer, OptimizerShape>() {}

/** Row shape an optimizer trains on. */
export const TrainDataFormat = Schema.Literal("sft", "preference", "kto")
export type TrainDataFormat = typeof TrainDataFormat.Type

/** An optimizer plugin: metadata, a params Schema, presets as data, and a Layer factory providing {@link Optimizer}. */
export interface OptimizerPlugin<P = any> {
  readonly manifest: {
    readonly id: string
    readonly kind: "optimizer"
    readonly version: string
    readonly description: string
    readonly stage: TrainStage
    readonly dataFormat: TrainDataFormat
    /** Folder of `<name>.json` preset files (partial params), or none. */
    readonly presetsDir?: URL
  }
  readonly params: Schema.Schema<P, any>
  readonly layer: (params: P) => Layer.Layer<Optimizer, never, TrainingBackend>
}

/** Identity helper that checks a plugin value against {@link OptimizerPlugin}. */
export const defineOptimizer = <P>(plugin: OptimizerPlugin<P>): OptimizerPlugin<P> => plugin

/** Preset names a plugin ships (file names without `.json`). */
export const listPresets = Effect.fn("Optimizer.listPresets")(function*(plugin: OptimizerPlugin) {
  const dir = plugin.manifest.presetsDir
  if (dir === undefined) return [] as Array<string>
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const entries = yield* fs.readDirectory(yield* path.fromFileUrl(dir)).pipe(Effect.orElseSucceed(() => [] as Array<string>))
  return entries.filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -5)).sort()
})

/** Reads preset `name` of a plugin as raw (undecoded) params. */
export const loadPreset = Effect.fn("Optimizer.loadPreset")(function*(plugin: OptimizerPlugin, name: string) {
  const known = yield* listPresets(plugin)
  if (!known.includes(name)) {
    return yield* new InputError({
      reason: `unknown preset "${name}" for optimizer ${plugin.manifest.id}; known: ${known.length === 0 ? "(none)" : known.join(", ")}`,
      field: "preset"
    })
  }
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const file = path.join(yield* path.fromFileUrl(plugin.manifest.presetsDir!), `${name}.json`)
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((cause) => new InputError({ reason: `cannot read preset: ${cause.message}`, file }))
  )
  return yield* Schema.decodeUnknown(Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Unknown })))(text).pipe(
    Effect.mapError((error) => new InputError({ reason: ParseResult.TreeFormatter.formatErrorSync(error), file }))
  )
})

/**
 * Decodes params for a plugin: preset (if any) overlaid with explicit overrides, then the plugin's Schema
 * (which applies defaults and refuses impossible combinations).
 */
export const resolveOptimizerParams = Effect.fn("Optimizer.resolveParams")(function*<P>(
  plugin: OptimizerPlugin<P>,
  options: { readonly preset?: string | undefined; readonly overrides?: Record<string, unknown> | undefined }
) {
  const base = options.preset === undefined ? {} : yield* loadPreset(plugin, options.preset)
  const raw = { ...base, ...options.overrides }
  return yield* Schema.decodeUnknown(plugin.params)(raw, { onExcessProperty: "error" }).pipe(
    Effect.mapError((error) =>
      new InputError({
        reason: `invalid params for optimizer ${plugin.manifest.id}${options.preset === undefined ? "" : ` (preset ${options.preset})`}:\n${
          ParseResult.TreeFormatter.formatErrorSync(error)
        }`,
        field: "params"
      })
    )
  )
})

// ---------------------------------------------------------------------------------------------------------
// Shared params of the TRL-backed plugins
// ---------------------------------------------------------------------------------------------------------

/** A list of strings, also accepted as one comma-separated string (`--param lora.targetModules=q_proj,v_proj`). */
export const StringList = Schema.transform(
  Schema.Union(Schema.String, Schema.Array(Schema.String)),
  Schema.Array(Schema.String),
  {
    strict: true,
    decode: (value) => typeof value === "string" ? value.split(",").map((s) => s.trim()).filter((s) => s !== "") : value,
    encode: (value) => value
  }
)

/** LoRA params (peft); `quantize4bit` = QLoRA, refused without CUDA + bitsandbytes. */
export const LoraParams = Schema.Struct({
  r: Schema.Int.pipe(Schema.positive()),
  alpha: Schema.Number.pipe(Schema.positive()),
  dropout: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.1 }),
  targetModules: Schema.optionalWith(StringList, {
    default: () => ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
  }),
  quantize4bit: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/** Params every TRL stage takes, with TRL's defaults where the study did not fix a value. */
export const commonTrainParamFields = {
  learningRate: Schema.Number.pipe(Schema.positive()),
  batchSize: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 8 }),
  evalBatchSize: Schema.optional(Schema.Int.pipe(Schema.positive())),
  gradientAccumulationSteps: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  epochs: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1 }),
  maxSteps: Schema.optional(Schema.Int.pipe(Schema.positive())),
  maxLength: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 512 }),
  warmupRatio: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0 }),
  scheduler: Schema.optionalWith(Schema.Literal("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial"), {
    default: () => "linear" as const
  }),
  maxGradNorm: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1 }),
  weightDecay: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 0 }),
  lora: Schema.optional(LoraParams),
  loggingSteps: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  saveSteps: Schema.optional(Schema.Int.pipe(Schema.positive())),
  evalSteps: Schema.optional(Schema.Int.pipe(Schema.positive()))
} as const

/** The params Schema of a TRL-backed plugin: the common fields plus the stage's own. */
export const trlParams = <const Fields extends Schema.Struct.Fields>(stageFields: Fields) =>
  Schema.Struct({ ...commonTrainParamFields, ...stageFields })

/** A positive number param with a default (β, the KTO weights). */
export const positiveParam = (fallback: number) => Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => fallback })

/** Decoded params of a TRL-backed plugin: the common fields plus stage-specific ones (β, label smoothing, KTO weights). */
export type TrlParams = Schema.Struct.Type<typeof commonTrainParamFields> & {
  readonly beta?: number | undefined
  readonly labelSmoothing?: number | undefined
  readonly desirableWeight?: number | undefined
  readonly undesirableWeight?: number | undefined
}

/**
 * The Layer every TRL-backed plugin provides: its decoded params become the request's hyper-parameters
 * (plugin params are a subset of {@link TrainHyperParameters}' fields, so they pass through unchanged).
 */
export const trlOptimizerLayer = <P extends TrlParams>(
  id: string,
  stage: TrainStage,
  params: P
): Layer.Layer<Optimizer, never, TrainingBackend> =>
  Layer.effect(
    Optimizer,
    Effect.gen(function*() {
      const backend = yield* TrainingBackend
      const { lora, ...rest } = params
      const hyper = new TrainHyperParameters({ ...rest, ...(lora === undefined ? {} : { lora: new LoraSettings(lora) }) })
      return Optimizer.of({
        id,
        stage,
        params,
        train: (job) =>
          backend.train(new TrainRequest({ stage, ...job, hyper })).pipe(
            Stream.withSpan(`Optimizer.train`, { attributes: { optimizer: id, stage } })
          )
      })
    })
  )

/** The rows each TRL trainer reads: SFT whole dialogues, DPO/IPO preference pairs, KTO unpaired completions. */
export const trlDataFormat: Readonly<Record<TrainStage, TrainDataFormat>> = { sft: "sft", dpo: "preference", ipo: "preference", kto: "kto" }

/**
 * A TRL-backed optimizer plugin from what differs between them: its stage, description, params Schema and presets
 * folder (the id defaults to the stage, the row format follows from it). The manifest and the Layer
 * ({@link trlOptimizerLayer}) are the same for all.
 */
export const defineTrlOptimizer = <P extends TrlParams>(stage: TrainStage, plugin: {
  readonly description: string
  readonly params: Schema.Schema<P, any>
  /** Folder of `<name>.json` presets, e.g. `new URL("../presets/", import.meta.url)`. */
  readonly presetsDir?: URL
  readonly id?: string
  readonly version?: string
}): OptimizerPlugin<P> => {
  const id = plugin.id ?? stage
  return defineOptimizer({
    manifest: {
      id,
      kind: "optimizer",
      version: plugin.version ?? "0.1.0",
      description: plugin.description,
      stage,
      dataFormat: trlDataFormat[stage],
      ...(plugin.presetsDir === undefined ? {} : { presetsDir: plugin.presetsDir })
    },
    params: plugin.params,
    layer: (params) => trlOptimizerLayer(id, stage, params)
  })
}
