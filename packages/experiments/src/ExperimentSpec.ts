import { GrounderId } from "@empo/grounding/Grounders"
import * as Schema from "effect/Schema"

const PositiveInt = Schema.Int.pipe(Schema.positive())
const Params = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** Where the training data comes from and how preference data is built from it (see `empo data build`). */
export class DataSpec extends Schema.Class<DataSpec>("DataSpec")({
  /** ED folder or file, relative to the working directory (`${VAR}` / `${VAR:-default}` are expanded in every string). */
  source: Schema.NonEmptyString.annotations({ description: "Dataset folder or file (ED CSVs, tarball, HF export), relative to the working directory; ${VAR:-default} is expanded" }),
  format: Schema.optionalWith(Schema.Literal("auto", "ed-raw", "ed-pairs", "hf"), { default: () => "auto" as const }),
  /** The split training data is built from. */
  split: Schema.optionalWith(Schema.Literal("train", "valid", "test", "all"), { default: () => "train" as const }),
  grounder: Schema.optionalWith(GrounderId, { default: () => "plutchik-1" as const }),
  /** The emotion map file of the `user-map` grounder. */
  grounderMap: Schema.optional(Schema.NonEmptyString),
  /** The NRC-VAD lexicon of the `vad-distance` grounder. */
  lexicon: Schema.optional(Schema.NonEmptyString),
  /** Rejected responses per prompt. */
  negatives: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 64)), { default: () => 3 }),
  mode: Schema.optionalWith(Schema.Literal("faithful", "balanced"), { default: () => "balanced" as const }),
  /** A system prompt name (p1, p2, dpo, …) or literal text, for training rows. */
  systemPrompt: Schema.optional(Schema.String),
  /** Keep only the first N rows of each built dataset (smoke runs). */
  limit: Schema.optional(PositiveInt),
  /** Seed of negative sampling; independent of the run seed so one dataset serves every seed. */
  seed: Schema.optionalWith(Schema.Int, { default: () => 0 })
}) {}

/** A tiny Llama-architecture model built from scratch on the training corpus (no download). */
export const TinyModel = Schema.Struct({
  kind: Schema.Literal("tiny"),
  layers: Schema.optionalWith(PositiveInt, { default: () => 2 }),
  hidden: Schema.optionalWith(PositiveInt, { default: () => 64 }),
  heads: Schema.optionalWith(PositiveInt, { default: () => 4 }),
  vocab: Schema.optionalWith(PositiveInt, { default: () => 2000 }),
  maxPositions: Schema.optionalWith(PositiveInt, { default: () => 512 })
})

/** A model on the Hugging Face hub (needs the network and, in practice, a GPU). */
export const HubModel = Schema.Struct({ kind: Schema.Literal("hub"), id: Schema.NonEmptyString })

/** A model folder on disk. */
export const LocalModel = Schema.Struct({ kind: Schema.Literal("local"), path: Schema.NonEmptyString })

/** The base model. */
export const ModelSpec = Schema.Union(TinyModel, HubModel, LocalModel)
export type ModelSpec = typeof ModelSpec.Type

/** A training stage: an optimizer plugin, an optional preset of that plugin, and params over the preset. */
export class TrainStageSpec extends Schema.Class<TrainStageSpec>("TrainStageSpec")({
  optimizer: Schema.NonEmptyString,
  preset: Schema.optional(Schema.NonEmptyString),
  params: Schema.optionalWith(Params, { default: () => ({}) })
}) {}

/** Generation for evaluation: which split, how many items, decoding. */
export class GenerateStageSpec extends Schema.Class<GenerateStageSpec>("GenerateStageSpec")({
  split: Schema.optionalWith(Schema.Literal("train", "valid", "test"), { default: () => "test" as const }),
  limit: Schema.optional(PositiveInt),
  systemPrompt: Schema.optional(Schema.String),
  batchSize: Schema.optionalWith(PositiveInt, { default: () => 8 }),
  maxNewTokens: Schema.optionalWith(PositiveInt, { default: () => 64 }),
  doSample: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  temperature: Schema.optional(Schema.Number.pipe(Schema.positive())),
  topP: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  repetitionPenalty: Schema.optional(Schema.Number.pipe(Schema.positive()))
}) {}

/** A metric plugin id, or an id with params for that plugin. */
export const MetricRef = Schema.Union(
  Schema.NonEmptyString,
  Schema.Struct({ id: Schema.NonEmptyString, params: Schema.optionalWith(Params, { default: () => ({}) }) })
)
export type MetricRef = typeof MetricRef.Type

/** Scoring of the generations. */
export class EvaluateStageSpec extends Schema.Class<EvaluateStageSpec>("EvaluateStageSpec")({
  metrics: Schema.NonEmptyArray(MetricRef)
}) {}

/**
 * The built-in pipeline's sections; stages left out are skipped (no `sft` = preference training starts from the
 * base model). Stage plugins add their own sections beside these; any other key is refused.
 */
export class StagesSpec extends Schema.Class<StagesSpec>("StagesSpec")({
  sft: Schema.optional(TrainStageSpec),
  preference: Schema.optional(TrainStageSpec),
  generate: Schema.optional(GenerateStageSpec),
  evaluate: Schema.optional(EvaluateStageSpec)
}) {}

/** Where stages execute: here, or on a named executor of the inventory (`empo run --executor NAME` overrides it). */
export class ExecutorSpec extends Schema.Class<ExecutorSpec>("ExecutorSpec")({
  kind: Schema.Literal("local"),
  /** An executor of the inventory (`.empo/executors.yaml`, `--executors`) its GPU stages go to; cheap stages stay here. */
  name: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: () => "an executor name: letters, digits, '.', '_' or '-'" }))),
  /** Kill a stage that runs longer than this many seconds. */
  stageTimeoutSeconds: Schema.optional(Schema.Number.pipe(Schema.positive()))
}) {}

const Range = Schema.Tuple(Schema.Number, Schema.Number)

/** A distribution to sample a swept value from. */
export const Distribution = Schema.Union(
  Schema.Struct({ uniform: Range }),
  Schema.Struct({ logUniform: Schema.Tuple(Schema.Number.pipe(Schema.positive()), Schema.Number.pipe(Schema.positive())) }),
  Schema.Struct({ intUniform: Schema.Tuple(Schema.Int, Schema.Int) }),
  Schema.Struct({ choice: Schema.NonEmptyArray(Schema.Unknown) })
)
export type Distribution = typeof Distribution.Type

/** A dotted path into the spec, e.g. `stages.preference.params.beta`. */
const AxisValues = Schema.Array(Schema.Unknown).pipe(Schema.minItems(1, { message: () => "an axis needs at least one value" }))

const AxisPath = Schema.String.pipe(Schema.pattern(/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/, { message: () => "a dotted field path such as stages.preference.params.beta" }))

/** How the base config is varied: the product of `grid`, the tied lists of `zip`, and `random` samples, minus `exclude`. */
export class SweepSpec extends Schema.Class<SweepSpec>("SweepSpec")({
  grid: Schema.optionalWith(Schema.Record({ key: AxisPath, value: AxisValues }), { default: () => ({}) }),
  zip: Schema.optionalWith(Schema.Record({ key: AxisPath, value: AxisValues }), { default: () => ({}) }),
  random: Schema.optional(Schema.Struct({
    n: PositiveInt,
    seed: Schema.optionalWith(Schema.Int, { default: () => 0 }),
    params: Schema.Record({ key: AxisPath, value: Distribution })
  })),
  /** A run is dropped when it matches every key of one rule. */
  exclude: Schema.optionalWith(Schema.Array(Schema.Record({ key: AxisPath, value: Schema.Unknown })), { default: () => [] })
}) {}

/** One experiment file: a base configuration plus an optional sweep over it. */
export class ExperimentSpec extends Schema.Class<ExperimentSpec>("ExperimentSpec")({
  name: Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9._-]*$/, { message: () => "lower-case letters, digits, '.', '_' or '-'" })),
  description: Schema.optionalWith(Schema.String, { default: () => "" }),
  seeds: Schema.optionalWith(Schema.Array(Schema.Int).pipe(Schema.minItems(1, { message: () => "list at least one seed" })), { default: () => [0] }),
  data: DataSpec,
  model: ModelSpec,
  stages: StagesSpec,
  executor: Schema.optionalWith(ExecutorSpec, { default: () => new ExecutorSpec({ kind: "local" }) }),
  sweep: Schema.optional(SweepSpec)
}) {}

/** One run's resolved configuration: the spec with its sweep applied and one seed chosen. */
export class RunConfig extends Schema.Class<RunConfig>("RunConfig")({
  name: ExperimentSpec.fields.name,
  seed: Schema.Int,
  data: DataSpec,
  model: ModelSpec,
  stages: StagesSpec,
  executor: ExecutorSpec
}) {}
