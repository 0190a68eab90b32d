import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { ExperimentPlan } from "@empo/experiments/Plan"
import { Plugins } from "@empo/experiments/Plugins"
import type { SpecError } from "@empo/experiments/SpecError"
import { loadExperiment } from "@empo/experiments/SpecLoader"
import { RunStore, type StoreError } from "@empo/store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import { closeSync, openSync } from "node:fs"
import { LaunchError } from "./TuiErrors.ts"
import { isProcessAlive } from "@empo/experiments/Process"

/** What the Launch screen previews before starting: every run and how many of its stages are already done. */
export interface LaunchPreview {
  readonly plan: ExperimentPlan
  readonly runs: ReadonlyArray<{ readonly id: string; readonly label: string; readonly stages: number; readonly cached: number }>
  /** Distinct stages of the sweep (shared stages count once) and how many are completed in the store. */
  readonly stages: number
  readonly cachedStages: number
}

/** A runner started from the TUI; written to `<state dir>/<experiment>.json` so a later TUI can cancel it. */
export class LaunchRecord extends Schema.Class<LaunchRecord>("LaunchRecord")({
  experiment: Schema.String,
  file: Schema.String,
  pid: Schema.Int,
  logFile: Schema.String,
  startedAt: Schema.Number
}) {}

export interface LauncherOptions {
  /** argv that runs a sweep, completed with `<file> --db <db>` (e.g. node, the empo bin, "run"). */
  readonly runnerCommand: ReadonlyArray<string>
  readonly dbPath: string
  /** Where launch records and runner logs go (beside the store). */
  readonly stateDir: string
  /** Folder listed on the Launch screen. */
  readonly experimentsDir: string
}

/** Validates, previews, starts and cancels sweeps; the runner itself is the real CLI in its own process. */
export class Launcher extends Context.Tag("@empo/tui/Launcher")<Launcher, {
  /** YAML files under the experiments folder, relative to the working directory. */
  readonly listSpecs: () => Effect.Effect<ReadonlyArray<string>>
  readonly preview: (file: string) => Effect.Effect<LaunchPreview, SpecError | StoreError>
  /** Spawns the runner detached (it keeps going when the TUI quits); output goes to a log file. */
  readonly start: (plan: ExperimentPlan) => Effect.Effect<LaunchRecord, LaunchError>
  readonly launchOf: (experiment: string) => Effect.Effect<Option.Option<LaunchRecord>>
  /** Sends SIGINT (graceful stop) to the runner of an experiment; returns the pid signalled. */
  readonly cancel: (experiment: string) => Effect.Effect<number, LaunchError | StoreError>
  readonly logTail: (experiment: string, lines: number) => Effect.Effect<ReadonlyArray<string>>
  /** A spec's lines, shown beside its validation problems (empty when unreadable). */
  readonly sourceLines: (file: string) => Effect.Effect<ReadonlyArray<string>>
}>() {
  static readonly layer = (options: LauncherOptions): Layer.Layer<Launcher, never, Plugins | RunStore | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      Launcher,
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const store = yield* RunStore
        const plugins = yield* Plugins
        const recordFile = (experiment: string) => path.join(options.stateDir, `${experiment}.json`)

        const listSpecs = Effect.fn("Launcher.listSpecs")(function* () {
          const entries = yield* fs.readDirectory(options.experimentsDir, { recursive: true }).pipe(Effect.orElseSucceed(() => []))
          return entries.filter((e) => /\.ya?ml$/.test(e) && !e.split(path.sep).some((part) => part.startsWith("_") || part.startsWith(".")))
            .sort().map((e) => path.join(options.experimentsDir, e))
        })

        const preview = Effect.fn("Launcher.preview")(function* (file: string) {
          const plan = yield* loadExperiment(file).pipe(
            Effect.provideService(Plugins, plugins), Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))
          const completed = new Set<string>()
          for (const id of plan.stages.keys()) {
            const record = yield* store.getStage(id)
            if (Option.isSome(record) && record.value.status === "completed") completed.add(id)
          }
          return {
            plan,
            runs: plan.runs.map((r) => ({ id: r.id, label: r.label, stages: r.stages.length, cached: r.stages.filter((s) => completed.has(s.stageId)).length })),
            stages: plan.stages.size,
            cachedStages: completed.size
          } satisfies LaunchPreview
        })

        const writeRecord = (record: LaunchRecord) => Effect.gen(function* () {
          const target = recordFile(record.experiment)
          const temp = `${target}.${process.pid}.tmp`
          yield* fs.writeFileString(temp, JSON.stringify(Schema.encodeSync(LaunchRecord)(record)))
          yield* fs.rename(temp, target)
        })

        const launchOf = Effect.fn("Launcher.launchOf")(function* (experiment: string) {
          return yield* fs.readFileString(recordFile(experiment)).pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.parseJson(LaunchRecord))),
            Effect.option
          )
        })

        const start = Effect.fn("Launcher.start")(function* (plan: ExperimentPlan) {
          const fail = (operation: string) => (cause: unknown) => new LaunchError({ operation, cause })
          yield* fs.makeDirectory(options.stateDir, { recursive: true }).pipe(Effect.mapError(fail(`create ${options.stateDir}`)))
          const logFile = path.join(options.stateDir, `${plan.name}.log`)
          const [command, ...args] = options.runnerCommand
          const pid = yield* Effect.try({
            try: () => {
              // The runner outlives the TUI: its own process group, output to a file, not our pipes.
              const log = openSync(logFile, "a")
              try {
                const child = spawn(command!, [...args, plan.file, "--db", options.dbPath], { detached: true, stdio: ["ignore", log, log] })
                child.unref()
                if (child.pid === undefined) throw new Error(`could not start ${command}`)
                return child.pid
              } finally {
                closeSync(log)
              }
            },
            catch: fail(`start the runner for ${plan.name}`)
          })
          const startedAt = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const record = new LaunchRecord({ experiment: plan.name, file: plan.file, pid, logFile, startedAt })
          yield* writeRecord(record).pipe(Effect.mapError(fail("record the launch")))
          return record
        })

        const cancel = Effect.fn("Launcher.cancel")(function* (experiment: string) {
          const launched = yield* launchOf(experiment)
          const stages = yield* store.stagesOf(experiment)
          // A runner started elsewhere (`empo run` in another shell) is found through the stage it is running.
          const candidates = [
            ...Option.toArray(launched).map((l) => l.pid),
            ...stages.filter((s) => s.status === "running" && s.pid !== null).map((s) => s.pid!)
          ]
          const pid = candidates.find(isProcessAlive)
          if (pid === undefined) return yield* new LaunchError({ operation: `cancel ${experiment}`, cause: new Error("no runner process is alive for this experiment") })
          yield* Effect.try({ try: () => process.kill(pid, "SIGINT"), catch: (cause) => new LaunchError({ operation: `signal process ${pid}`, cause }) })
          return pid
        })

        const logTail = Effect.fn("Launcher.logTail")(function* (experiment: string, lines: number) {
          const text = yield* fs.readFileString(path.join(options.stateDir, `${experiment}.log`)).pipe(Effect.orElseSucceed(() => ""))
          return text.split("\n").filter((l) => l.trim() !== "").slice(-lines)
        })

        const sourceLines = Effect.fn("Launcher.sourceLines")(function* (file: string) {
          return (yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))).split("\n")
        })

        return Launcher.of({ listSpecs, preview, start, launchOf, cancel, logTail, sourceLines })
      })
    )
}
