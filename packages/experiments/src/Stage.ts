/**
 * Stage definitions as data. A stage plugin is one module: the YAML sections it owns under `stages:` (with their
 * spec Schemas), the node kinds it plans (each with a typed inputs Schema, the artifact kind it produces, the pool it
 * runs in and its executor), and how it plans them for one run. The planner, the runner, the store's artifact kinds
 * and the CLI read the table; none of them names a stage kind.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type { Tokenizer } from "@empo/core/Tokenizer"
import type { TrainingBackend, TrainingError } from "@empo/core/Training"
import type { PythonModule, WorkerClient } from "@empo/core/Worker"
import type { MetricRunner } from "@empo/metrics"
import type { StageId } from "@empo/store"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import type { ContentHasher } from "./internal/canonical.ts"
import type { PlannedStage, ResolvedRun } from "./Plan.ts"
import type { Plugins } from "./Plugins.ts"
import type { StageFailure } from "./StageExecutors.ts"

/** What a stage's executor gets: its node with decoded inputs, where to write, and its upstream outputs. */
export interface StageContext<Inputs = unknown> {
  readonly stage: PlannedStage
  /** `stage.inputs` decoded by the node kind's inputs Schema. */
  readonly inputs: Inputs
  /**
   * A temporary folder that does not exist yet (the Python worker refuses to write into an existing one):
   * the executor or its worker creates it; the runner moves it into place only when the executor succeeds.
   */
  readonly outputDir: string
  /**
   * The stage's own resumable state (training checkpoints): it survives interrupted and failed attempts, so a
   * rerun continues from it, and the runner removes it once the stage completed.
   */
  readonly checkpointDir: string
  /** Upstream output folders by role (`model`, `data`, `items`, `predictions`, `corpus`), resolved to local paths. */
  readonly upstream: Readonly<Record<string, string>>
  /** Appends a point to a metric series (batched into the store). */
  readonly metric: (key: string, step: number, value: number) => Effect.Effect<void>
  /** A one-line progress note for the terminal. */
  readonly progress: (message: string) => Effect.Effect<void>
}

/** Per-item values of one metric, for the store (comparisons pair items across runs by id). */
export interface StageItemScores {
  readonly metric: string
  readonly itemIds: ReadonlyArray<string>
  readonly perItem: Readonly<Record<string, ReadonlyArray<number>>>
}

/** What a finished stage reports besides its files. */
export interface StageResult {
  /**
   * Summary values by key. The runner stores each under the stage's role in its runs (`loss` of the `sft` stage
   * is `sft.loss`, of the `preference` stage `preference.loss`), unless the kind's `summaryKeys` is `as-reported`.
   */
  readonly summary?: Readonly<Record<string, number>>
  readonly itemScores?: ReadonlyArray<StageItemScores>
}

/**
 * What the app gives every stage executor besides the file system: how to reach the Python worker. Layers, not
 * services, so each stage gets its own worker process (a crash stays inside its stage) and only stages that need
 * one start it.
 */
export class StageServices extends Context.Tag("@empo/experiments/StageServices")<StageServices, {
  /** A fresh worker per stage, behind the training backend (train, generate, tiny model). */
  readonly trainingBackend: Layer.Layer<TrainingBackend, TrainingError>
  /** A worker client that starts Python only on its first request and serves the given plugin modules. */
  readonly worker: (modules: ReadonlyArray<PythonModule>) => Layer.Layer<WorkerClient>
  /** NLTK's tokenizer, built only by stages that score (it may need Punkt data). */
  readonly tokenizer: Layer.Layer<Tokenizer, { readonly message: string }, FileSystem.FileSystem | Path.Path>
}>() {}

/**
 * Provided around one stage by a remote executor (see `remote/RemoteStage.ts`): the training backend whose requests
 * run as jobs on the stage's host. Stages that use {@link StageServices.trainingBackend} through `withTrainingBackend`
 * get it instead of a local worker, without knowing where they run.
 */
export class RemoteTrainingBackend extends Context.Tag("@empo/experiments/RemoteTrainingBackend")<RemoteTrainingBackend, Layer.Layer<TrainingBackend, TrainingError>>() {}

/** Everything an executor may use. */
export type StageEnvironment = FileSystem.FileSystem | Path.Path | Plugins | MetricRunner | StageServices

/** The pool a node runs in: `local` for cheap TypeScript work, `compute` for worker (GPU) work. */
export type StagePool = "local" | "compute"

/** One kind of planned node: its typed inputs (what is hashed), its artifacts and how it executes. */
export interface StageKindDefinition<Inputs = any, R extends StageEnvironment = StageEnvironment> {
  readonly kind: string
  /** The store's artifact kind of its output files (`dataset`, `model`, `predictions`, `metrics`, …). */
  readonly artifactKind: string
  readonly pool: StagePool
  readonly inputs: Schema.Schema<Inputs, any>
  /**
   * How its summary keys are stored: `by-role` (the default) prefixes the stage's role in the run, so two stages of
   * one kind (SFT and preference training) never report the same key; `as-reported` keeps keys that already name
   * their own source (the evaluate stage's `<metric>.<key>`, unique by metric plugin id).
   */
  readonly summaryKeys?: "by-role" | "as-reported"
  /** `R` is what it really uses (a subset of {@link StageEnvironment}), so a test can run it with just that. */
  readonly execute: (context: StageContext<Inputs>) => Effect.Effect<StageResult, StageFailure, R>
}

/** Identity helper that checks a node kind against {@link StageKindDefinition}. */
export const defineStageKind = <Inputs, R extends StageEnvironment = never>(definition: StageKindDefinition<Inputs, R>): StageKindDefinition<Inputs, R> => definition

/** Where a stage's model comes from: a reference (hub id, folder) or an upstream stage. */
export type ModelSource = { readonly ref: string } | { readonly stage: StageId }

/** A run's planning state as the stage plugins build it, in catalogue order. */
export interface PlanContext {
  readonly run: ResolvedRun
  readonly hasher: ContentHasher
  /** The content address of a node: `${kind}-${hash(kind, inputs, deps)}`. */
  readonly node: (kind: string, inputs: Readonly<Record<string, unknown>>, deps?: Readonly<Record<string, StageId>>) => PlannedStage
  /**
   * Builds a node once per planning, keyed by the identity of `key`'s parts: runs of a sweep share their sections
   * (never mutated) and upstream ids, so a 10,000-run grid hashes each shared stage once.
   */
  readonly once: (key: ReadonlyArray<unknown>, build: () => PlannedStage) => PlannedStage
  /** Adds a node to this run under a role name (the first name wins for a node two roles share); returns its id. */
  readonly add: (role: string, stage: PlannedStage) => StageId
  /** The id of the node this run planned under `role`, if any. */
  readonly role: (role: string) => StageId | undefined
  /** The model the next stage starts from; training stages replace it. */
  model: ModelSource
  /** Every model of this run in order, by role (`base`, `sft`, `preference`): what benchmarks compare. */
  readonly models: Array<{ readonly role: string; readonly source: ModelSource }>
  /** The decoded (defaults applied) and encoded value of a `stages.<key>` section, if the run has it. */
  readonly section: (key: string) => { readonly decoded: unknown; readonly encoded: Readonly<Record<string, unknown>> } | undefined
}

/** A stage plugin: its YAML sections, the node kinds it plans, and its planning step. */
export interface StagePlugin {
  readonly manifest: {
    readonly id: string
    readonly kind: "stage"
    readonly version: string
    readonly description: string
  }
  /** `stages.<key>` sections it owns, with their spec Schemas (decoded with defaults, unknown fields refused). */
  readonly sections?: Readonly<Record<string, Schema.Schema<any, any>>>
  readonly kinds: ReadonlyArray<StageKindDefinition>
  /** Adds this plugin's nodes for one run; runs after the plugins listed before it in the catalogue. */
  readonly plan: (context: PlanContext) => void
}

/** Identity helper that checks a plugin value against {@link StagePlugin}. */
export const defineStage = (plugin: StagePlugin): StagePlugin => plugin

/** Model inputs and dependencies of a node that starts from `model`. */
export const modelInputs = (model: ModelSource): Record<string, unknown> => ("ref" in model ? { model: model.ref } : {})
export const modelDeps = (model: ModelSource): Record<string, StageId> => ("stage" in model ? { model: model.stage } : {})
/** A memo key part for a model source (a ref string or a stage id; both are interned strings). */
export const modelKey = (model: ModelSource): ReadonlyArray<string> => ("ref" in model ? ["ref", model.ref] : ["stage", model.stage])
