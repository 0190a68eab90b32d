import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Path from "@effect/platform/Path"
import {
  type ExperimentPlan,
  StageExecutors,
  loadExperiment,
  planStatus,
  Plugins,
  Runner,
  type RunnerEvent,
  type StagePlanStatus,
  type SweepSummary
} from "@empo/experiments"
import { MetricRunner } from "@empo/metrics"
import { RunStore } from "@empo/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as os from "node:os"
import { StageServicesLive } from "../StageServicesLive.ts"
import { InputError, UserError } from "@empo/core"
import { compareCommand } from "./compare.ts"
import { executorsCommand, executorsOption, openNamedExecutor } from "./executors.ts"
import { dbOption, jsonOption, runsCommand } from "./runs.ts"

/** Some runs of the sweep failed; their stages are in the store with errors and stderr tails. Exit code 1. */
export class SweepFailedError extends UserError<SweepFailedError>()("SweepFailedError", {
  experiment: Schema.String,
  failed: Schema.Int,
  total: Schema.Int
}, {
  exitCode: 1,
  message: (e) =>
    `${e.failed} of ${e.total} runs of ${e.experiment} failed; see \`empo runs ls --experiment ${e.experiment} --status failed\` and \`empo runs show <id>\`, then rerun with --retry-failed`
}) {}

const file = Args.file({ name: "experiment.yaml", exists: "yes" }).pipe(Args.withDescription("the experiment file"))
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("print the runs, the stages to execute and the cache hits; run nothing"))
const concurrency = Options.integer("concurrency").pipe(Options.withDefault(1), Options.withDescription("stages run at the same time"))
const retryFailed = Options.boolean("retry-failed").pipe(Options.withDescription("run stages that failed before again (they are skipped otherwise)"))
const workDir = Options.text("work-dir").pipe(Options.optional, Options.withDescription("where stage outputs go (default: `stages/` beside the store)"))
const executorOption = Options.text("executor").pipe(Options.optional, Options.withDescription("run GPU stages (train, generate, tiny model) on this executor of the inventory; overrides the experiment's executor.name"))

const actionText: Record<StagePlanStatus["action"], string> = {
  run: "run", cached: "cached (completed)", "failed-skip": "skip (failed; --retry-failed)", retry: "retry (failed before)", restart: "restart (interrupted)"
}

const renderDryRun = (plan: ExperimentPlan, statuses: ReadonlyArray<StagePlanStatus>): string => {
  const byId = new Map(statuses.map((s) => [s.stage.id, s]))
  const users = new Map<string, number>()
  for (const r of plan.runs) for (const s of r.stages) users.set(s.stageId, (users.get(s.stageId) ?? 0) + 1)
  const count = (pred: (s: StagePlanStatus) => boolean) => statuses.filter(pred).length
  const lines = [
    `experiment ${plan.name}: ${plan.runs.length} runs, ${plan.stages.size} distinct stages — ${count((s) => s.action === "run" || s.action === "retry" || s.action === "restart")} to execute, ${count((s) => s.action === "cached")} cached, ${count((s) => s.action === "failed-skip")} failed (skipped)`
  ]
  for (const run of plan.runs) {
    lines.push("", `run ${run.id}  ${run.label}`)
    for (const s of run.stages) {
      const shared = users.get(s.stageId)! > 1 ? `  shared by ${users.get(s.stageId)} runs` : ""
      lines.push(`  ${s.name.padEnd(20)} ${s.stageId.padEnd(28)} ${actionText[byId.get(s.stageId)!.action]}${shared}`)
    }
  }
  return lines.join("\n")
}

const progressPrinter = () => {
  let started = 0
  let total = 0
  const stderr = (line: string) => Effect.sync(() => process.stderr.write(`${line}\n`))
  return (event: RunnerEvent): Effect.Effect<void> => {
    switch (event._tag) {
      case "Planned":
        total = event.toRun
        return stderr(`${event.runs} runs: ${event.toRun} stages to execute, ${event.cached} cached${event.failedBefore > 0 ? `, ${event.failedBefore} failed before (use --retry-failed)` : ""}`)
      case "StageStarted": {
        started++
        const who = event.runs.length === 0 ? "" : ` for ${event.runs[0]}${event.runs.length > 1 ? ` (+${event.runs.length - 1} more runs)` : ""}`
        return stderr(`[${started}/${total}] ${event.stage.kind} ${event.stage.id}${who}`)
      }
      case "StageProgress":
        return stderr(`    ${event.stage.id.slice(0, 18)}: ${event.message}`)
      case "StageFinished":
        return stderr(`    ${event.stage.id.slice(0, 18)}: ${event.outcome}${event.millis > 0 ? ` in ${(event.millis / 1000).toFixed(1)} s` : ""}${event.error === undefined ? "" : ` — ${event.error}`}`)
      case "RunFinished":
        return stderr(`run ${event.runId} ${event.status}: ${event.label}`)
    }
  }
}

const renderSummary = (plan: ExperimentPlan, summary: SweepSummary) =>
  [
    ...summary.runs.map((r) => `${r.id}  ${r.status.padEnd(9)}  ${r.label}`),
    `${plan.name}: ${summary.runs.filter((r) => r.status === "completed").length}/${summary.runs.length} runs completed; ${summary.executed} stages executed, ${summary.cached} cached, ${summary.failed} failed`,
    // Nothing to compare when no run completed: the failures are what to look at.
    summary.runs.some((r) => r.status === "completed")
      ? `next: npx empo compare ${plan.name}`
      : `next: npx empo runs ls --experiment ${plan.name} --status failed`
  ].join("\n")

const dryRunReport = (plan: ExperimentPlan, flags: { readonly retryFailed: boolean; readonly json: boolean }) =>
  Effect.gen(function* () {
    const statuses = yield* planStatus(plan, flags.retryFailed)
    if (!flags.json) return yield* Console.log(renderDryRun(plan, statuses))
    yield* Console.log(JSON.stringify({
      experiment: plan.name,
      runs: plan.runs.map((r) => ({ id: r.id, label: r.label, seed: r.seed, config: r.configJson, stages: r.stages })),
      stages: statuses.map((s) => ({ id: s.stage.id, kind: s.stage.kind, action: s.action, attempts: s.attempts, inputs: s.stage.inputs, deps: s.stage.deps }))
    }, null, 2))
  })

const runSweep = (plan: ExperimentPlan, flags: {
  readonly concurrency: number; readonly retryFailed: boolean; readonly json: boolean; readonly db: string; readonly workDir: Option.Option<string>
  readonly executor: Option.Option<string>; readonly executors: Option.Option<string>
}) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const runner = yield* Runner
    const workDir = Option.getOrElse(flags.workDir, () => path.join(path.dirname(path.resolve(flags.db)), "stages"))
    const executorName = Option.orElse(flags.executor, () => Option.fromNullable(plan.executorName))
    const opened = Option.isNone(executorName) ? undefined : yield* openNamedExecutor(executorName.value, flags.executors)
    const summary = yield* runner.run(plan, {
      workDir: path.resolve(workDir), concurrency: flags.concurrency, retryFailed: flags.retryFailed,
      host: os.hostname(), pid: process.pid, onEvent: progressPrinter(),
      ...(opened === undefined ? {} : opened._tag === "Remote" ? { remote: { setup: opened.setup, places: opened.places } } : { localEntry: opened.localEntry })
    })
    yield* Console.log(flags.json ? JSON.stringify(summary, null, 2) : renderSummary(plan, summary))
    const failed = summary.runs.filter((r) => r.status !== "completed").length
    if (failed > 0) return yield* new SweepFailedError({ experiment: plan.name, failed, total: summary.runs.length })
  }).pipe(
    Effect.scoped,
    Effect.provide(Runner.layer.pipe(
      Layer.provide(StageExecutors.fromCatalog),
      Layer.provide(StageServicesLive),
      Layer.provide(MetricRunner.layer.pipe(Layer.provide(Plugins.metricRegistry)))
    ))
  )

export const runCommand = Command.make("run", { file, dryRun, concurrency, retryFailed, json: jsonOption, db: dbOption, workDir, executor: executorOption, executors: executorsOption }, (flags) =>
  Effect.gen(function* () {
    const plan = yield* loadExperiment(flags.file)
    if (flags.concurrency < 1) return yield* new InputError({ reason: "--concurrency must be at least 1", field: "--concurrency" })
    return yield* (flags.dryRun ? dryRunReport(plan, flags) : runSweep(plan, flags))
  }).pipe(Effect.provide(RunStore.layer(flags.db)))
).pipe(Command.withDescription("Run (or resume) an experiment: every run of its sweep, shared stages once; progress on stderr"))

/** The experiment commands, registered together in Cli.ts. */
export const experimentCommands = [runCommand, runsCommand, compareCommand, executorsCommand] as const
