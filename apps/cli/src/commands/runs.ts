import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { type RunDetail, type RunRecord, RunStatus, RunStore, defaultStorePath } from "@empo/store"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** `--db`, else `EMPO_DB`, else `.empo/empo.db` in the working directory (shared by run, runs and compare). */
export const dbOption = Options.text("db").pipe(
  Options.withFallbackConfig(Config.string("EMPO_DB")),
  Options.withDefault(defaultStorePath),
  Options.withDescription("the run store (SQLite); default $EMPO_DB, else .empo/empo.db")
)

export const jsonOption = Options.boolean("json").pipe(Options.withDescription("print JSON on stdout"))

const time = (ms: number | null) => (ms === null ? "–" : new Date(ms).toISOString().replace("T", " ").slice(0, 19))
const duration = (from: number | null, to: number | null) =>
  from === null || to === null ? "" : `${((to - from) / 1000).toFixed(1)} s`

const runLine = (r: RunRecord) =>
  `${r.id}  ${r.status.padEnd(11)}  ${r.experiment.padEnd(16)}  ${r.label}`

const experiment = Options.text("experiment").pipe(Options.optional, Options.withDescription("only runs of this experiment"))
const status = Options.choice("status", RunStatus.literals).pipe(Options.repeated, Options.withDescription("only runs with this status (repeatable)"))

const ls = Command.make("ls", { db: dbOption, experiment, status, json: jsonOption }, (flags) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const runs = yield* store.listRuns({ experiment: Option.getOrUndefined(flags.experiment), status: flags.status })
    if (flags.json) return yield* Console.log(JSON.stringify(runs, null, 2))
    if (runs.length === 0) return yield* Console.log("no runs (start one with `empo run <experiment.yaml>`)")
    yield* Console.log(runs.map(runLine).join("\n"))
  }).pipe(Effect.provide(RunStore.layerReadOnly(flags.db)))).pipe(Command.withDescription("List runs, newest experiments last"))

const renderDetail = (d: RunDetail): string => {
  const lines = [
    `run ${d.run.id}  ${d.run.status}  ${d.run.experiment}  ${d.run.label}`,
    `created ${time(d.run.createdAt)}  started ${time(d.run.startedAt)}  finished ${time(d.run.finishedAt)}`,
    "", "params:",
    ...d.params.map((p) => `  ${p.key} = ${JSON.stringify(p.value)}`),
    "", "stages:",
    ...d.stages.flatMap((s) => [
      `  ${s.name.padEnd(20)} ${s.status.padEnd(11)} attempts ${s.attempts}  ${duration(s.startedAt, s.finishedAt)}  ${s.id}${s.host === null ? "" : `  on ${s.host}`}${s.executor === null || s.executor === "local" ? "" : ` via ${s.executor}${s.jobId === null ? "" : ` job ${s.jobId}`}`}`,
      ...(s.error === null ? [] : [`    error: ${s.error}`]),
      ...(s.stderrTail === null ? [] : s.stderrTail.split("\n").slice(-10).map((l) => `    | ${l}`))
    ]),
    "", "summary metrics:",
    ...d.summary.map((s) => `  ${s.key} = ${s.value}`),
    "", "artifacts:",
    ...d.artifacts.map((a) => `  ${a.kind.padEnd(11)} ${a.path}  ${a.size} B  sha256 ${a.sha256.slice(0, 16)}`)
  ]
  return lines.join("\n")
}

const runId = Args.text({ name: "run-id" }).pipe(Args.withDescription("a run id or a unique prefix of one"))

const show = Command.make("show", { db: dbOption, runId, json: jsonOption }, (flags) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const detail = yield* store.showRun(flags.runId)
    yield* Console.log(flags.json ? JSON.stringify(detail, null, 2) : renderDetail(detail))
  }).pipe(Effect.provide(RunStore.layerReadOnly(flags.db)))).pipe(Command.withDescription("Show one run: params, stages (status, attempts, errors), summary metrics, artifacts"))

export const runsCommand = Command.make("runs").pipe(
  Command.withDescription("Inspect the run store"),
  Command.withSubcommands([ls, show])
)
