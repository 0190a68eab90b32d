import { isPlatformError, type PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { UserError } from "@empo/core/Errors"
import { type MetricPoint, type RunId, RunStore, type StageId, type StageRecord, type StoreError } from "@empo/store"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import type { ExperimentPlan, PlannedStage, StageKind } from "./Plan.ts"
import { Plugins, stagePluginsOf } from "./Plugins.ts"
import type { StagePool } from "./Stage.ts"
import { describeFileSystemError, fileSystemFailure, osReason, type StageContext, StageExecutors, StageFailure } from "./StageExecutors.ts"
import { isProcessAlive } from "./Process.ts"
import type { ExecutorEntry } from "./Inventory.ts"
import { localAccelerate, wantsLocalAccelerate } from "./LocalAccelerate.ts"
import { makeRemoteStages, type RemoteSetup } from "./remote/RemoteStage.ts"

/** What the runner reports while it works; the CLI renders it on stderr. */
export type RunnerEvent =
  | { readonly _tag: "Planned"; readonly runs: number; readonly toRun: number; readonly cached: number; readonly failedBefore: number }
  | { readonly _tag: "StageStarted"; readonly stage: PlannedStage; readonly runs: ReadonlyArray<string> }
  | { readonly _tag: "StageProgress"; readonly stage: PlannedStage; readonly message: string }
  | { readonly _tag: "StageFinished"; readonly stage: PlannedStage; readonly outcome: "completed" | "failed" | "interrupted"; readonly millis: number; readonly error?: string }
  | { readonly _tag: "RunFinished"; readonly runId: RunId; readonly label: string; readonly status: "completed" | "failed" }

export interface RunnerOptions {
  /** Stage outputs go to `<workDir>/<stage id>/`. */
  readonly workDir: string
  /** Stages of the `compute` pool (worker, GPU) run at the same time. */
  readonly concurrency: number
  /** Stages of the `local` pool (cheap TypeScript work: datasets, items, feature metrics); default 2. */
  readonly localConcurrency?: number
  readonly retryFailed: boolean
  /** The executor stages run on, recorded with each stage; `local` today. */
  readonly executor?: string
  readonly host: string
  readonly pid: number
  /** How long a running stage's claim lasts without a heartbeat (default 60 s; renewed every third of it). */
  readonly leaseMillis?: number
  readonly onEvent?: (event: RunnerEvent) => Effect.Effect<void>
  /**
   * A named remote executor (`--executor NAME`): node kinds it `places` run there (see `remote/RemoteStage.ts`), the
   * rest here; each stage records the executor it ran on.
   */
  readonly remote?: { readonly setup: RemoteSetup; readonly places: (kind: StageKind, pool: StagePool) => boolean }
  /** A `kind: local` inventory entry (`--executor NAME`): its `gpusPerStage`/`accelerate` for training stages run here. */
  readonly localEntry?: ExecutorEntry
}

const DEFAULT_LEASE_MILLIS = 60_000

/**
 * Where a stage's files live, as the runner resolves them for its executors. Stages address each other by id
 * only; this maps ids to places: folders under the work dir for the local executor, and the seam where a remote
 * executor maps them to a host's paths or a staging area.
 */
export interface StageLocations {
  /** The completed output (what downstream stages read, what the store records). */
  readonly output: (id: StageId) => string
  /** Where an attempt writes before the runner moves it into place. */
  readonly partial: (id: StageId) => string
  /** The stage's resumable state: kept across attempts, removed when it completes. */
  readonly checkpoints: (id: StageId) => string
}

/** `<workDir>/<id>`, `<id>.partial` and `<id>.checkpoints`: the local executor's layout. */
export const localStageLocations = (workDir: string, join: (...parts: Array<string>) => string): StageLocations => ({
  output: (id) => join(workDir, id),
  partial: (id) => `${join(workDir, id)}.partial`,
  checkpoints: (id) => `${join(workDir, id)}.checkpoints`
})

/** How each stage of a plan stands before running: what the dry run prints. */
export interface StagePlanStatus {
  readonly stage: PlannedStage
  readonly action: "run" | "cached" | "failed-skip" | "retry" | "restart"
  readonly attempts: number
}

/** What a sweep ended with. */
export interface SweepSummary {
  readonly runs: ReadonlyArray<{ readonly id: RunId; readonly label: string; readonly status: "completed" | "failed" | "interrupted" }>
  readonly executed: number
  readonly cached: number
  readonly failed: number
}

/** Another runner process still owns a stage of this experiment. Exit code 2. */
export class RunnerBusyError extends UserError<RunnerBusyError>()("RunnerBusyError", {
  experiment: Schema.String,
  pid: Schema.Number,
  host: Schema.optionalWith(Schema.String, { default: () => "" })
}, {
  exitCode: 2,
  message: (e) => {
    const where = e.host === "" ? "" : ` on ${e.host}`
    return `experiment ${e.experiment} is being run by process ${e.pid}${where}; wait for it or stop it first (its claim lapses a minute after it dies)`
  }
}) {}

/** The work dir (where every stage's output goes) cannot be created, so no stage can run. Exit code 1. */
export class WorkDirError extends UserError<WorkDirError>()("WorkDirError", {
  path: Schema.String,
  reason: Schema.String
}, {
  exitCode: 1,
  message: (e) => `cannot create work dir ${e.path}: ${e.reason}`
}) {}


const tail = (text: string, lines = 40) => text.split("\n").slice(-lines).join("\n")

const stageAction = (record: StageRecord | undefined, retryFailed: boolean): StagePlanStatus["action"] => {
  if (record === undefined) return "run"
  switch (record.status) {
    case "completed": return "cached"
    case "failed": return retryFailed ? "retry" : "failed-skip"
    case "interrupted":
    case "running": return "restart"
    case "pending": return "run"
  }
}

/**
 * Executes an experiment plan: a DAG of content-addressed stages under a concurrency limit. Completed
 * stages are never run again; a stage's files appear under their final name only once it completed.
 */
export class Runner extends Context.Tag("@empo/experiments/Runner")<Runner, {
  readonly register: (plan: ExperimentPlan, options: Pick<RunnerOptions, "workDir">) => Effect.Effect<void, StoreError>
  readonly status: (plan: ExperimentPlan, retryFailed: boolean) => Effect.Effect<ReadonlyArray<StagePlanStatus>, StoreError>
  readonly run: (plan: ExperimentPlan, options: RunnerOptions) => Effect.Effect<SweepSummary, StoreError | RunnerBusyError | WorkDirError>
}>() {
  static readonly layer: Layer.Layer<Runner, never, RunStore | StageExecutors | Plugins | FileSystem.FileSystem | Path.Path> = Layer.effect(
    Runner,
    Effect.gen(function* () {
      const store = yield* RunStore
      const executors = yield* StageExecutors
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      // The table every node kind is read from: which artifacts it makes and which pool it runs in.
      const kinds = new Map(stagePluginsOf(yield* Plugins).flatMap((p) => p.kinds.map((k) => [k.kind, k] as const)))
      const artifactKindOf = (kind: StageKind) => kinds.get(kind)?.artifactKind ?? "output"
      const poolOf = (kind: StageKind): StagePool => kinds.get(kind)?.pool ?? "compute"
      // A stage's summaries are named by its role (`sft.loss`, `preference.loss`): stages of one kind report the
      // same keys. The role is the same in every run that shares the stage (the planner derives it from the stage).
      const summaryOf = (stage: PlannedStage, role: string | undefined, summary: Readonly<Record<string, number>>) =>
        kinds.get(stage.kind)?.summaryKeys === "as-reported" || role === undefined
          ? summary
          : Object.fromEntries(Object.entries(summary).map(([key, value]) => [`${role}.${key}`, value]))

      const outputDirOf = (workDir: string, id: StageId) => localStageLocations(workDir, path.join).output(id)

      const register = Effect.fn("Runner.register")(function* (plan: ExperimentPlan, options: Pick<RunnerOptions, "workDir">) {
        yield* store.upsertExperiment({ name: plan.name, description: plan.description, specFile: plan.file, spec: plan.specJson })
        for (const stage of plan.stages.values()) {
          yield* store.registerStage({ id: stage.id, kind: stage.kind, inputs: { inputs: stage.inputs, deps: stage.deps }, outputDir: outputDirOf(options.workDir, stage.id) })
        }
        for (const run of plan.runs) {
          yield* store.registerRun({ id: run.id, experiment: plan.name, label: run.label, seed: run.seed, position: run.position, config: run.configJson, params: run.params, stages: run.stages })
        }
      })

      const status = (plan: ExperimentPlan, retryFailed: boolean) => planStatus(plan, retryFailed).pipe(Effect.provideService(RunStore, store))

      const sha256File = (file: string) =>
        fs.stream(file).pipe(
          Stream.runFold(createHash("sha256"), (hash, chunk) => hash.update(chunk)),
          Effect.map((hash) => hash.digest("hex"))
        )

      const listFiles = (dir: string): Effect.Effect<Array<string>, PlatformError> =>
        fs.readDirectory(dir, { recursive: true }).pipe(
          Effect.flatMap((entries) => Effect.filter(entries.sort(), (entry) => fs.stat(path.join(dir, entry)).pipe(Effect.map((s) => s.type === "File")))))

      // Hashes a finished stage's files, then moves its folder into place (last, so a failure never leaves a final
      // folder behind). Every file-system failure here belongs to that stage alone: a StageFailure naming the path.
      const placeOutput = (tempDir: string, finalDir: string) => Effect.gen(function* () {
        if (!(yield* fs.exists(tempDir).pipe(Effect.mapError(fileSystemFailure())))) {
          yield* fs.makeDirectory(tempDir, { recursive: true }).pipe(Effect.mapError(fileSystemFailure()))
        }
        const names = yield* listFiles(tempDir).pipe(Effect.mapError(fileSystemFailure()))
        const files = yield* Effect.forEach(names, (name) => Effect.gen(function* () {
          const size = yield* fs.stat(path.join(tempDir, name)).pipe(Effect.map((s) => Number(s.size)))
          const sha256 = yield* sha256File(path.join(tempDir, name))
          return { name, path: path.join(finalDir, name), size, sha256 }
        }).pipe(Effect.mapError(fileSystemFailure(`read ${path.join(tempDir, name)}`))))
        yield* fs.remove(finalDir, { recursive: true, force: true }).pipe(Effect.mapError(fileSystemFailure()))
        yield* fs.rename(tempDir, finalDir).pipe(Effect.mapError(fileSystemFailure(`move ${tempDir} to ${finalDir}`)))
        return files
      })

      const crashReason = (cause: Cause.Cause<StageFailure>): string => {
        const defect = Cause.dieOption(cause)
        if (Option.isSome(defect) && isPlatformError(defect.value)) return `executor crashed: ${describeFileSystemError(defect.value)}`
        return `executor crashed: ${Cause.pretty(cause).split("\n")[0]}`
      }

      const run = Effect.fn("Runner.run")(function* (plan: ExperimentPlan, options: RunnerOptions) {
        const emit = options.onEvent ?? (() => Effect.void)
        yield* fs.makeDirectory(options.workDir, { recursive: true }).pipe(
          Effect.mapError((e) => new WorkDirError({ path: options.workDir, reason: osReason(e) })))
        yield* register(plan, options)
        const before = yield* store.stagesOf(plan.name)
        const now = yield* Clock.currentTimeMillis
        // A running stage is another runner's while its lease lives, unless that runner is a dead process here.
        const foreign = before.find((s) => s.status === "running" && s.pid !== options.pid &&
          s.leaseExpiresAt !== null && s.leaseExpiresAt > now &&
          !(s.host === options.host && s.pid !== null && !isProcessAlive(s.pid)))
        if (foreign !== undefined) return yield* new RunnerBusyError({ experiment: plan.name, pid: foreign.pid ?? 0, host: foreign.host ?? "" })
        yield* store.recoverInterrupted(plan.name)
        yield* Effect.forEach(plan.runs, (r) => store.setRunStatus(r.id, "running"), { discard: true })
        const statuses = yield* status(plan, options.retryFailed)
        const actionOf = new Map(statuses.map((s) => [s.stage.id, s.action]))
        yield* emit({
          _tag: "Planned", runs: plan.runs.length,
          toRun: statuses.filter((s) => s.action === "run" || s.action === "retry" || s.action === "restart").length,
          cached: statuses.filter((s) => s.action === "cached").length,
          failedBefore: statuses.filter((s) => s.action === "failed-skip").length
        })

        const runsOfStage = new Map<StageId, Array<string>>()
        const roleOf = new Map<StageId, string>()
        for (const r of plan.runs) {
          for (const s of r.stages) {
            runsOfStage.set(s.stageId, [...(runsOfStage.get(s.stageId) ?? []), r.label])
            if (!roleOf.has(s.stageId)) roleOf.set(s.stageId, s.name)
          }
        }

        // Metric points from every stage go through one queue and reach SQLite in batches.
        const points = yield* Queue.unbounded<MetricPoint>()
        const writer = yield* Stream.fromQueue(points).pipe(
          Stream.groupedWithin(2000, Duration.millis(200)),
          Stream.runForEach((chunk) => store.appendMetricPoints([...chunk])),
          Effect.fork
        )

        const permits: Record<StagePool, Effect.Semaphore> = {
          compute: yield* Effect.makeSemaphore(Math.max(1, options.concurrency)),
          local: yield* Effect.makeSemaphore(Math.max(1, options.localConcurrency ?? 2))
        }
        const executor = options.executor ?? "local"
        const remote = options.remote === undefined ? undefined : {
          ...(yield* makeRemoteStages(options.remote.setup, store).pipe(Effect.orDie)),
          name: options.remote.setup.executor.name,
          places: options.remote.places
        }
        const localTraining = options.localEntry !== undefined && wantsLocalAccelerate(options.localEntry) ? localAccelerate(options.localEntry) : undefined
        const locations = localStageLocations(options.workDir, path.join)
        const leaseMillis = options.leaseMillis ?? DEFAULT_LEASE_MILLIS
        type Outcome = "completed" | "failed" | "blocked"
        const outcomes = new Map<StageId, Deferred.Deferred<Outcome>>()
        for (const id of plan.stages.keys()) outcomes.set(id, yield* Deferred.make<Outcome>())
        let executed = 0
        let cached = 0
        let failed = 0

        // Everything but the executor itself is uninterruptible, so a SIGINT always leaves the store and the
        // stage folder consistent: the stage is recorded as interrupted and its partial output removed.
        const execute = (stage: PlannedStage) => Effect.uninterruptibleMask((restore) => Effect.gen(function* () {
          const finalDir = locations.output(stage.id)
          const tempDir = locations.partial(stage.id)
          const checkpointDir = locations.checkpoints(stage.id)
          const upstream = Object.fromEntries(Object.entries(stage.deps).map(([role, id]) => [role, locations.output(id)]))
          const placedRemote = remote !== undefined && remote.places(stage.kind, poolOf(stage.kind))
          yield* store.stageStarted(stage.id, { executor: placedRemote ? remote.name : executor, host: options.host, pid: options.pid, leaseMillis })
          yield* emit({ _tag: "StageStarted", stage, runs: runsOfStage.get(stage.id) ?? [] })
          const started = yield* Clock.currentTimeMillis
          const context: StageContext = {
            stage, inputs: stage.inputs, outputDir: tempDir, checkpointDir, upstream,
            metric: (key, step, value) => Clock.currentTimeMillis.pipe(Effect.flatMap((time) => points.offer({ stageId: stage.id, key, step, value, time })), Effect.asVoid),
            progress: (message) => emit({ _tag: "StageProgress", stage, message })
          }
          const timeout = plan.stageTimeoutSeconds
          const local = executors(stage.kind)
          const run = local === undefined ? undefined
            : placedRemote ? remote.wrap(local)
            : stage.kind === "train" && localTraining !== undefined ? localTraining(local)
            : local
          // The lease is renewed while the stage works, so another runner can tell a live stage from a dead claim.
          const heartbeat = store.renewLease(stage.id, leaseMillis).pipe(
            Effect.ignore, Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1000, Math.floor(leaseMillis / 3))))), Effect.delay(Duration.millis(Math.floor(leaseMillis / 3))))
          const work = (run === undefined
            ? Effect.fail(new StageFailure({ reason: `no stage plugin defines node kind \`${stage.kind}\`; is its plugin in the catalogue?` }))
            : run(context)
          ).pipe(
            timeout === undefined ? (e) => e : Effect.timeoutFail({
              duration: Duration.seconds(timeout),
              onTimeout: () => new StageFailure({ reason: `timed out after ${timeout} s` })
            }),
            (e) => Effect.raceFirst(e, Effect.zipRight(heartbeat, Effect.never))
          )
          const clearLeftover = fs.remove(tempDir, { recursive: true, force: true }).pipe(Effect.mapError(fileSystemFailure()))
          const exit = yield* Effect.exit(Effect.zipRight(clearLeftover, restore(work)))
          if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) {
            yield* store.stageFailed(stage.id, { error: "interrupted (SIGINT)", stderrTail: null, status: "interrupted" }).pipe(Effect.ignore)
            yield* fs.remove(tempDir, { recursive: true, force: true }).pipe(Effect.ignore)
            yield* emit({ _tag: "StageFinished", stage, outcome: "interrupted", millis: 0 })
            return yield* Effect.interrupt
          }
          const millis = (yield* Clock.currentTimeMillis) - started

          const fail = (cause: Cause.Cause<StageFailure>) => Effect.gen(function* () {
            const failure = Cause.failureOption(cause)
            const error = Option.isSome(failure) ? failure.value.reason : crashReason(cause)
            const stderrTail = Option.isSome(failure) && failure.value.stderrTail !== undefined ? tail(failure.value.stderrTail) : null
            yield* store.stageFailed(stage.id, { error, stderrTail })
            yield* fs.remove(tempDir, { recursive: true, force: true }).pipe(Effect.ignore)
            yield* emit({ _tag: "StageFinished", stage, outcome: "failed", millis, error })
            failed++
            return "failed" as const
          })

          if (Exit.isFailure(exit)) return yield* fail(exit.cause)
          const placed = yield* Effect.exit(placeOutput(tempDir, finalDir))
          if (Exit.isFailure(placed)) return yield* fail(placed.cause)
          const consumed: Array<number> = []
          for (const dep of Object.values(stage.deps)) consumed.push(...(yield* store.artifactsOf(dep)).map((a) => a.id))
          for (const file of placed.value) {
            yield* store.recordArtifact({ stageId: stage.id, name: file.name, kind: artifactKindOf(stage.kind), path: file.path, sha256: file.sha256, size: file.size })
          }
          yield* store.recordLineage(stage.id, consumed)
          yield* store.setSummaryMetrics(stage.id, summaryOf(stage, roleOf.get(stage.id), exit.value.summary ?? {}))
          if (exit.value.itemScores !== undefined && exit.value.itemScores.length > 0) yield* store.recordItemScores(stage.id, exit.value.itemScores)
          yield* store.stageCompleted(stage.id)
          // Checkpoints only serve an unfinished stage; on real models they are gigabytes.
          yield* fs.remove(checkpointDir, { recursive: true, force: true }).pipe(Effect.ignore)
          yield* emit({ _tag: "StageFinished", stage, outcome: "completed", millis })
          executed++
          return "completed" as const
        }))

        const schedule = (stage: PlannedStage): Effect.Effect<void, StoreError> => Effect.gen(function* () {
          const depOutcomes = yield* Effect.forEach(Object.values(stage.deps), (id) => Deferred.await(outcomes.get(id)!))
          const action = actionOf.get(stage.id)!
          let outcome: Outcome
          if (depOutcomes.some((o) => o !== "completed")) outcome = "blocked"
          else if (action === "cached") {
            cached++
            outcome = "completed"
          } else if (action === "failed-skip") outcome = "failed"
          else outcome = yield* permits[poolOf(stage.kind)].withPermits(1)(execute(stage))
          yield* Deferred.succeed(outcomes.get(stage.id)!, outcome)
        })

        yield* Effect.forEach([...plan.stages.values()], schedule, { concurrency: "unbounded", discard: true })
        yield* Queue.shutdown(points)
        yield* writer.await
        // groupedWithin ends when the queue shuts down; flush anything still buffered.
        const leftover = yield* Queue.takeAll(points).pipe(Effect.orElseSucceed(() => [] as Array<MetricPoint>))
        yield* store.appendMetricPoints([...leftover])

        const runs: Array<SweepSummary["runs"][number]> = []
        for (const r of plan.runs) {
          const results = yield* Effect.forEach(r.stages, (s) => Deferred.await(outcomes.get(s.stageId)!))
          const status = results.every((o) => o === "completed") ? "completed" as const : "failed" as const
          yield* store.setRunStatus(r.id, status)
          yield* emit({ _tag: "RunFinished", runId: r.id, label: r.label, status })
          runs.push({ id: r.id, label: r.label, status })
        }
        return { runs, executed, cached, failed } satisfies SweepSummary
      }, (effect, plan) => effect.pipe(Effect.onInterrupt(() => Effect.forEach(plan.runs, (r) => store.setRunStatus(r.id, "interrupted").pipe(Effect.ignore), { discard: true }))))

      return Runner.of({ register, status, run })
    })
  )
}

/** How each stage of a plan stands in the store (what `--dry-run` prints); needs only the store. */
export const planStatus = Effect.fn("Runner.planStatus")(function* (plan: ExperimentPlan, retryFailed: boolean) {
  const store = yield* RunStore
  return yield* Effect.forEach([...plan.stages.values()], (stage) =>
    store.getStage(stage.id).pipe(Effect.map((record): StagePlanStatus => ({
      stage,
      action: stageAction(Option.getOrUndefined(record), retryFailed),
      attempts: Option.match(record, { onNone: () => 0, onSome: (r) => r.attempts })
    }))))
})
