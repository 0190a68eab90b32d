/**
 * The training and generation contract shared by the Python worker, the optimizer plugins and the
 * experiment runner. Requests and events cross the Node↔Python boundary as JSON, so every shape here
 * is a Schema and the field names are the wire names (camelCase on both sides).
 *
 * Stability: fields are only ever added (optional or with defaults), never renamed or removed.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import { Conversation } from "./Chat.ts"
import { UserError } from "./Errors.ts"

/** Which TRL trainer runs: SFTTrainer, DPOTrainer (`sigmoid` / `ipo` loss) or KTOTrainer. */
export const TrainStage = Schema.Literal("sft", "dpo", "ipo", "kto")
export type TrainStage = typeof TrainStage.Type

/** Learning-rate schedules accepted by transformers' `lr_scheduler_type`. */
export const LrScheduler = Schema.Literal("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")
export type LrScheduler = typeof LrScheduler.Type

const PositiveInt = Schema.Int.pipe(Schema.positive())
const NonNegative = Schema.Number.pipe(Schema.nonNegative())
const Positive = Schema.Number.pipe(Schema.positive())
const Fraction = Schema.Number.pipe(Schema.between(0, 1))

/** LoRA adapter settings (peft `LoraConfig`); QLoRA (4-bit base) only where CUDA and bitsandbytes exist. */
export class LoraSettings extends Schema.Class<LoraSettings>("LoraSettings")({
  r: PositiveInt,
  alpha: Positive,
  dropout: Fraction,
  targetModules: Schema.Array(Schema.String),
  /** Load the base model in 4-bit nf4 (QLoRA). Refused by the worker without CUDA + bitsandbytes. */
  quantize4bit: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/**
 * Hyper-parameters of one training run after a plugin resolved its params, presets and defaults.
 * Stage-specific fields are optional; the worker rejects a field that makes no sense for the stage.
 */
export class TrainHyperParameters extends Schema.Class<TrainHyperParameters>("TrainHyperParameters")({
  learningRate: Positive,
  /** Per-device train batch size (KTO needs ≥ 2). */
  batchSize: PositiveInt,
  evalBatchSize: Schema.optional(PositiveInt),
  gradientAccumulationSteps: Schema.optionalWith(PositiveInt, { default: () => 1 }),
  epochs: Schema.optionalWith(Positive, { default: () => 1 }),
  /** Overrides `epochs` when set. */
  maxSteps: Schema.optional(PositiveInt),
  /** Token limit of a whole sequence (prompt + completion); TRL drops pairs whose prompt alone exceeds it. */
  maxLength: PositiveInt,
  warmupRatio: Schema.optionalWith(Fraction, { default: () => 0 }),
  scheduler: Schema.optionalWith(LrScheduler, { default: () => "linear" as const }),
  maxGradNorm: Schema.optionalWith(Positive, { default: () => 1 }),
  weightDecay: Schema.optionalWith(NonNegative, { default: () => 0 }),
  /** DPO/IPO/KTO temperature β. */
  beta: Schema.optional(Positive),
  /** DPO only (conservative DPO). */
  labelSmoothing: Schema.optional(Schema.Number.pipe(Schema.between(0, 0.5))),
  /** KTO only. */
  desirableWeight: Schema.optional(Positive),
  undesirableWeight: Schema.optional(Positive),
  lora: Schema.optional(LoraSettings),
  /** Emit a `log` event every N optimizer steps. */
  loggingSteps: Schema.optionalWith(PositiveInt, { default: () => 1 }),
  /** Save a resumable checkpoint every N steps (none when absent). */
  saveSteps: Schema.optional(PositiveInt),
  /** Evaluate on `evalData` every N steps (only at the end when absent). */
  evalSteps: Schema.optional(PositiveInt)
}) {}

/**
 * One training run. Data files are JSONL in TRL's conversational format:
 * `sft` → `{messages}`, `dpo`/`ipo` → `{prompt, chosen, rejected}`, `kto` → `{prompt, completion, label}`;
 * extra columns (provenance, ids) are ignored.
 */
export class TrainRequest extends Schema.Class<TrainRequest>("TrainRequest")({
  stage: TrainStage,
  /** A local HF model folder (full model or peft adapter), a hub id, or a checkpoint folder. */
  model: Schema.String,
  trainData: Schema.String,
  evalData: Schema.optional(Schema.String),
  /** Final artifacts appear here only when training completed (written to a sibling temp dir, then renamed). */
  outputDir: Schema.String,
  seed: Schema.optionalWith(Schema.Int, { default: () => 42 }),
  /** A `checkpoint-N` folder written by an earlier run with the same output dir; wins over `checkpointDir`'s. */
  resumeFrom: Schema.optional(Schema.String),
  /**
   * A folder owned by the caller's stage that survives interrupted attempts: checkpoints go there (instead of
   * `<outputDir>.checkpoints`), and a run resumes from its newest complete `checkpoint-N` ("latest"). Without
   * `hyper.saveSteps` the worker then saves every tenth of the run; it keeps the last two and never deletes the
   * folder (its owner removes it when the stage completes).
   */
  checkpointDir: Schema.optional(Schema.String),
  hyper: TrainHyperParameters
}) {}

/** Decoding settings; greedy unless `doSample`. */
export class DecodingParameters extends Schema.Class<DecodingParameters>("DecodingParameters")({
  maxNewTokens: Schema.optionalWith(PositiveInt, { default: () => 200 }),
  doSample: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  temperature: Schema.optionalWith(Positive, { default: () => 1 }),
  topP: Schema.optionalWith(Fraction, { default: () => 1 }),
  repetitionPenalty: Schema.optionalWith(Positive, { default: () => 1 })
}) {}

/** Generate one response per generation item (`{id, prompt, target, prev, emotion}` JSONL). */
export class GenerateRequest extends Schema.Class<GenerateRequest>("GenerateRequest")({
  /** A local model or peft adapter folder, or a hub id. */
  model: Schema.String,
  items: Schema.String,
  /** Predictions JSONL, written atomically; one {@link Prediction} per item, in item order. */
  output: Schema.String,
  /** Prepended as a `system` message unless the item's prompt already starts with one. */
  systemPrompt: Schema.optional(Schema.String),
  batchSize: Schema.optionalWith(PositiveInt, { default: () => 8 }),
  decoding: Schema.optionalWith(DecodingParameters, { default: () => new DecodingParameters({}) }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 42 }),
  /** Only the first N items (smoke runs). */
  limit: Schema.optional(PositiveInt)
}) {}

/** One line of a predictions JSONL file (the metrics reader's input). */
export class Prediction extends Schema.Class<Prediction>("Prediction")({
  id: Schema.String,
  prompt: Conversation,
  /** The generated text only (special tokens stripped). */
  response: Schema.String,
  target: Schema.String,
  prev: Schema.String,
  emotion: Schema.String
}) {}

/** A file the run produced, identified by content. */
export class Artifact extends Schema.Class<Artifact>("Artifact")({
  /** Relative to the output dir. */
  path: Schema.String,
  sha256: Schema.String,
  bytes: Schema.Int
}) {}

/** Numbers TRL logged, by TRL's own key (`loss`, `rewards/accuracies`, `logps/chosen`, `kl`, …). */
export const MetricRecord = Schema.Record({ key: Schema.String, value: Schema.Number })
export type MetricRecord = typeof MetricRecord.Type

/** Training started: data sizes after TRL's filtering and the planned number of optimizer steps. */
export class TrainStarted extends Schema.TaggedClass<TrainStarted>()("started", {
  stage: TrainStage,
  device: Schema.String,
  trainRows: Schema.Int,
  evalRows: Schema.optional(Schema.Int),
  totalSteps: Schema.Int,
  trainableParameters: Schema.Int,
  /** Step the run continues from (0 unless resumed). */
  startStep: Schema.Int,
  /** Present when the run resumed from a checkpoint (`resumeFrom` or the newest in `checkpointDir`). */
  resumedFromStep: Schema.optional(Schema.Int)
}) {}

/** One training log dict of TRL (`on_log` during training). */
export class TrainLog extends Schema.TaggedClass<TrainLog>()("log", {
  step: Schema.Int,
  epoch: Schema.Number,
  loss: Schema.optional(Schema.Number),
  learningRate: Schema.optional(Schema.Number),
  /** Every numeric key TRL logged, unchanged (includes `loss`, `learning_rate`, `rewards/*`, `logps/*`, `kl`, …). */
  metrics: MetricRecord,
  /** Wall seconds since the previous log event's step ended. */
  secondsPerStep: Schema.optional(Schema.Number)
}) {}

/** A resumable checkpoint was written. */
export class TrainCheckpoint extends Schema.TaggedClass<TrainCheckpoint>()("checkpoint", {
  step: Schema.Int,
  path: Schema.String
}) {}

/** An evaluation on `evalData` (TRL's `eval_*` keys, prefix kept). */
export class TrainEval extends Schema.TaggedClass<TrainEval>()("eval", {
  step: Schema.Int,
  metrics: MetricRecord
}) {}

/** The run completed and its artifacts are in place. */
export class TrainFinished extends Schema.TaggedClass<TrainFinished>()("finished", {
  outputDir: Schema.String,
  steps: Schema.Int,
  artifacts: Schema.Array(Artifact),
  /** TRL's train summary (`train_loss`, `train_runtime`, …) plus the last logged value of every metric. */
  metrics: MetricRecord
}) {}

/** Everything a training run reports, in order: started, (log | checkpoint | eval)*, finished. */
export const TrainEvent = Schema.Union(TrainStarted, TrainLog, TrainCheckpoint, TrainEval, TrainFinished)
export type TrainEvent = typeof TrainEvent.Type

/** Generation started. */
export class GenerateStarted extends Schema.TaggedClass<GenerateStarted>()("started", {
  total: Schema.Int,
  device: Schema.String
}) {}

/** Items done so far. */
export class GenerateProgress extends Schema.TaggedClass<GenerateProgress>()("progress", {
  done: Schema.Int,
  total: Schema.Int
}) {}

/** The predictions file is complete. */
export class GenerateFinished extends Schema.TaggedClass<GenerateFinished>()("finished", {
  output: Schema.String,
  rows: Schema.Int,
  sha256: Schema.String,
  seconds: Schema.Number
}) {}

/** Everything a generation run reports. */
export const GenerateEvent = Schema.Union(GenerateStarted, GenerateProgress, GenerateFinished)
export type GenerateEvent = typeof GenerateEvent.Type

/** A plugin module the worker serves methods from (`error` when it could not be loaded). */
export class WorkerPluginModule extends Schema.Class<WorkerPluginModule>("WorkerPluginModule")({
  module: Schema.String,
  methods: Schema.Array(Schema.String),
  error: Schema.optional(Schema.String)
}) {}

/** Versions of the Python stack and the accelerator the worker sees. */
export class WorkerVersions extends Schema.Class<WorkerVersions>("WorkerVersions")({
  python: Schema.String,
  executable: Schema.String,
  packages: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) }),
  cuda: Schema.Boolean,
  devices: Schema.Array(Schema.String),
  bitsandbytes: Schema.Boolean,
  threads: Schema.Int,
  /** The modules named in `EMPO_WORKER_PLUGINS` (imported to answer this request) and their methods. */
  plugins: Schema.optionalWith(Schema.Array(WorkerPluginModule), { default: () => [] })
}) {}

/** Settings of a tiny Llama-architecture model built from scratch (no download). */
export class TinyModelRequest extends Schema.Class<TinyModelRequest>("TinyModelRequest")({
  /** ED CSV (`conv_id, utterance_idx, …, utterance` or `sp1/sp2` columns) or SFT JSONL (`{messages}`). */
  corpus: Schema.String,
  outputDir: Schema.String,
  layers: Schema.optionalWith(PositiveInt, { default: () => 2 }),
  hidden: Schema.optionalWith(PositiveInt, { default: () => 128 }),
  heads: Schema.optionalWith(PositiveInt, { default: () => 4 }),
  vocab: Schema.optionalWith(PositiveInt, { default: () => 2000 }),
  maxPositions: Schema.optionalWith(PositiveInt, { default: () => 512 }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 42 })
}) {}

/** What was built. */
export class TinyModelInfo extends Schema.Class<TinyModelInfo>("TinyModelInfo")({
  outputDir: Schema.String,
  parameters: Schema.Int,
  vocabSize: Schema.Int,
  texts: Schema.Int
}) {}

/**
 * Why the training backend failed. `input` = the request or its data is wrong (exit 2); `missing` = Python,
 * torch or TRL is not installed; `crashed` = the worker died; `cancelled` / `timeout`; `failed` = an
 * exception inside the worker (traceback tail attached).
 */
export const TrainingFailureKind = Schema.Literal("input", "missing", "crashed", "cancelled", "timeout", "failed")
export type TrainingFailureKind = typeof TrainingFailureKind.Type

/** A training or generation run did not complete. */
export class TrainingError extends UserError<TrainingError>()("TrainingError", {
  kind: TrainingFailureKind,
  reason: Schema.String,
  /** Python exception type, when the worker raised. */
  pythonType: Schema.optional(Schema.String),
  traceback: Schema.optional(Schema.String)
}, {
  exitCode: (e) => e.kind === "input" ? 2 : 1,
  message: (e) => e.pythonType === undefined ? e.reason : `${e.pythonType}: ${e.reason}`
}) {}

/** Runs TRL training and generation (implemented by `@empo/bridge` over the Python worker). */
export interface TrainingBackendShape {
  readonly train: (request: TrainRequest) => Stream.Stream<TrainEvent, TrainingError>
  readonly generate: (request: GenerateRequest) => Stream.Stream<GenerateEvent, TrainingError>
  readonly tinyModel: (request: TinyModelRequest) => Effect.Effect<TinyModelInfo, TrainingError>
  readonly versions: Effect.Effect<WorkerVersions, TrainingError>
}

/** The process that runs TRL. */
export class TrainingBackend extends Context.Tag("@empo/core/TrainingBackend")<TrainingBackend, TrainingBackendShape>() {}
