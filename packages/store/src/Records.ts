import * as Schema from "effect/Schema"

/** A run's stable id: a hash of its resolved configuration. */
export const RunId = Schema.String.pipe(Schema.brand("RunId"))
export type RunId = typeof RunId.Type

/** A stage's content address: a hash of its kind and inputs, shared by every run that needs it. */
export const StageId = Schema.String.pipe(Schema.brand("StageId"))
export type StageId = typeof StageId.Type

/** Lifecycle of a stage; `interrupted` means a runner died while it was running. */
export const StageStatus = Schema.Literal("pending", "running", "completed", "failed", "interrupted")
export type StageStatus = typeof StageStatus.Type

const nullUntilMigrated = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(Schema.NullOr(schema), { default: () => null })

/** Lifecycle of a run, derived from its stages by the runner. */
export const RunStatus = Schema.Literal("pending", "running", "completed", "failed", "interrupted")
export type RunStatus = typeof RunStatus.Type

/** A flattened parameter value (`stages.preference.params.beta` → 0.1). */
export const ParamValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
export type ParamValue = typeof ParamValue.Type

/** An experiment as last submitted. */
export class ExperimentRecord extends Schema.Class<ExperimentRecord>("ExperimentRecord")({
  name: Schema.String,
  description: Schema.String,
  specFile: Schema.NullOr(Schema.String),
  specJson: Schema.String,
  createdAt: Schema.Number,
  updatedAt: Schema.Number
}) {}

/** One run of an experiment (one point of its sweep). */
export class RunRecord extends Schema.Class<RunRecord>("RunRecord")({
  id: RunId,
  experiment: Schema.String,
  label: Schema.String,
  seed: Schema.Number,
  position: Schema.Number,
  configJson: Schema.String,
  status: RunStatus,
  createdAt: Schema.Number,
  startedAt: Schema.NullOr(Schema.Number),
  finishedAt: Schema.NullOr(Schema.Number)
}) {}

/** One unit of work (dataset, sft, preference, generate, evaluate, …). */
export class StageRecord extends Schema.Class<StageRecord>("StageRecord")({
  id: StageId,
  kind: Schema.String,
  inputsJson: Schema.String,
  outputDir: Schema.String,
  status: StageStatus,
  attempts: Schema.Number,
  createdAt: Schema.Number,
  startedAt: Schema.NullOr(Schema.Number),
  finishedAt: Schema.NullOr(Schema.Number),
  host: Schema.NullOr(Schema.String),
  pid: Schema.NullOr(Schema.Number),
  error: Schema.NullOr(Schema.String),
  stderrTail: Schema.NullOr(Schema.String),
  // Absent (null) in a database from before migration 0003 read through the read-only layer.
  /** The executor pool that ran the latest attempt (`local`, a Slurm or Ray pool later). */
  executor: nullUntilMigrated(Schema.String),
  /** The scheduler's job id of the latest attempt, when it ran as one. */
  jobId: nullUntilMigrated(Schema.String),
  /** While `running`: the epoch ms after which, without a heartbeat, the attempt counts as dead. */
  leaseExpiresAt: nullUntilMigrated(Schema.Number),
  heartbeatAt: nullUntilMigrated(Schema.Number)
}) {}

/** One attempt at a stage: who ran it, where, and how it ended (`running` while it has not). */
export class StageAttemptRecord extends Schema.Class<StageAttemptRecord>("StageAttemptRecord")({
  stageId: StageId,
  attempt: Schema.Number,
  executor: Schema.String,
  host: Schema.String,
  pid: Schema.NullOr(Schema.Number),
  jobId: Schema.NullOr(Schema.String),
  startedAt: Schema.Number,
  finishedAt: Schema.NullOr(Schema.Number),
  status: StageStatus,
  error: Schema.NullOr(Schema.String)
}) {}

/**
 * A remote job's lifecycle: `submitted` is recorded before the engine is asked (so a crash between the two is
 * followed or relaunched, never doubled), `launched` once it accepted, then how the runner closed it.
 */
export const StageJobState = Schema.Literal("submitted", "launched", "collected", "failed", "cancelled", "lost")
export type StageJobState = typeof StageJobState.Type

/** One remote job of a stage (SSH, Slurm, Ray): where it runs and how to find it again. */
export class StageJobRecord extends Schema.Class<StageJobRecord>("StageJobRecord")({
  jobKey: Schema.String,
  stageId: StageId,
  attempt: Schema.Number,
  /** The inventory name of the executor. */
  executor: Schema.String,
  /** `ssh`, `slurm`, `ray`. */
  kind: Schema.String,
  /** The host the job runs on (`root@127.0.0.1:2222`, a Slurm login node, a Ray address). */
  host: Schema.String,
  /** The engine's id (supervisor pid, Slurm job id, Ray task id); the job key until the engine gave one. */
  jobId: Schema.String,
  locatorJson: Schema.String,
  state: StageJobState,
  /** Protocol lines already applied to the store: a reattached follower skips them. */
  linesRead: Schema.Number,
  createdAt: Schema.Number,
  updatedAt: Schema.Number
}) {}

/** A remote job to record before launch. */
export interface NewStageJob {
  readonly jobKey: string
  readonly stageId: StageId
  readonly executor: string
  readonly kind: string
  readonly host: string
  readonly jobId: string
  readonly locator: unknown
}

/** Where and how a stage attempt runs, as the runner starts it. */
export interface StageExecution {
  readonly executor: string
  readonly host: string
  readonly pid: number | null
  readonly jobId?: string | null | undefined
  /** How long the attempt counts as alive without a heartbeat (`RunStore.renewLease`). */
  readonly leaseMillis: number
}

/** A stage as one run sees it: its role in the run (`name`) and order. */
export class RunStageRecord extends Schema.Class<RunStageRecord>("RunStageRecord")({
  ...StageRecord.fields,
  name: Schema.String,
  position: Schema.Number
}) {}

/** A stage of an experiment, with the run that needs it (a shared stage appears once per run). */
export class ExperimentStageRecord extends Schema.Class<ExperimentStageRecord>("ExperimentStageRecord")({
  ...RunStageRecord.fields,
  runId: RunId
}) {}

/** A point of a metric series (training loss at a step, …) as stored, with its row id for tailing. */
export class MetricPointRecord extends Schema.Class<MetricPointRecord>("MetricPointRecord")({
  id: Schema.Number,
  stageId: StageId,
  key: Schema.String,
  step: Schema.Number,
  value: Schema.Number,
  time: Schema.Number
}) {}

/** A metric point to append. */
export interface MetricPoint {
  readonly stageId: StageId
  readonly key: string
  readonly step: number
  readonly value: number
  readonly time: number
}

/** A file a stage produced, identified by content. */
export class ArtifactRecord extends Schema.Class<ArtifactRecord>("ArtifactRecord")({
  id: Schema.Number,
  stageId: StageId,
  name: Schema.String,
  kind: Schema.String,
  path: Schema.String,
  sha256: Schema.String,
  size: Schema.Number,
  createdAt: Schema.Number
}) {}

/**
 * A summary metric of a run, keyed by the role of the stage that reported it in the run (`sft.loss`,
 * `preference.loss`, `dataset-preference.rows`, `model.parameters`) or, for evaluations, `<metric>.<key>`.
 */
export class SummaryRecord extends Schema.Class<SummaryRecord>("SummaryRecord")({
  runId: RunId,
  stageId: StageId,
  key: Schema.String,
  value: Schema.Number
}) {}

/** A flattened parameter of a run. */
export class ParamRecord extends Schema.Class<ParamRecord>("ParamRecord")({
  runId: RunId,
  key: Schema.String,
  value: Schema.parseJson(ParamValue)
}) {}

/** Everything `runs show` needs about one run. */
export interface RunDetail {
  readonly run: RunRecord
  readonly params: ReadonlyArray<ParamRecord>
  readonly stages: ReadonlyArray<RunStageRecord>
  readonly summary: ReadonlyArray<SummaryRecord>
  readonly artifacts: ReadonlyArray<ArtifactRecord>
  readonly consumed: ReadonlyArray<{ readonly stageId: StageId; readonly artifactId: number }>
}

/** A summary metric row as `compare` reads it in bulk (a plain struct: 20,000 of them decode in a few ms). */
export const SummaryRow = Schema.Struct(SummaryRecord.fields)
export type SummaryRow = typeof SummaryRow.Type

/** A flattened parameter row as `compare` reads it in bulk. */
export const ParamRow = Schema.Struct(ParamRecord.fields)
export type ParamRow = typeof ParamRow.Type

/** The rows `compare` aggregates: runs, their params and their summary metrics. */
export interface ComparisonData {
  readonly runs: ReadonlyArray<RunRecord>
  readonly params: ReadonlyArray<ParamRow>
  readonly summary: ReadonlyArray<SummaryRow>
}

/** One stage's per-item values of one key as `itemScoresOf` reads them (JSON arrays; null where the value was NaN). */
export const ItemScoreRow = Schema.Struct({
  runId: RunId,
  stageId: StageId,
  metric: Schema.String,
  key: Schema.String,
  itemIds: Schema.parseJson(Schema.Array(Schema.String)),
  values: Schema.parseJson(Schema.Array(Schema.NullOr(Schema.Number)))
})
export type ItemScoreRow = typeof ItemScoreRow.Type

/** Per-item values of one metric's keys for one stage, aligned with `itemIds` (NaN where an item has no value). */
export interface ItemScores {
  readonly metric: string
  readonly itemIds: ReadonlyArray<string>
  readonly perItem: Readonly<Record<string, ReadonlyArray<number>>>
}

/** One key's per-item values for one run, in item order, so runs can be paired item by item. */
export interface RunItemScores {
  readonly runId: RunId
  readonly stageId: StageId
  readonly metric: string
  readonly key: string
  readonly itemIds: ReadonlyArray<string>
  /** NaN where the metric gave the item no value. */
  readonly values: ReadonlyArray<number>
}
