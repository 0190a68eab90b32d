import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { compareExperiment, renderCsv, renderLatex, renderTable } from "@empo/experiments/Compare"
import { Plugins } from "@empo/experiments/Plugins"
import { HumanStore, humanSummaryRows } from "@empo/human"
import { renderRetention, retentionOf } from "@empo/experiments/Retention"
import { RunStore } from "@empo/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { dbOption } from "./runs.ts"

const experiment = Args.text({ name: "experiment" }).pipe(Args.withDescription("the experiment's name (its `name:` field)"))
const metrics = Options.text("metrics").pipe(
  Options.optional,
  Options.withDescription("comma-separated metric keys or prefixes (e.g. length,vad.); default: every evaluation metric")
)
const baseline = Options.text("baseline").pipe(Options.optional, Options.withDescription("a run id (or prefix); its configuration is the reference for significance"))
const format = Options.choice("format", ["table", "csv", "latex", "json"]).pipe(
  Options.withDefault("table" as const),
  Options.withDescription("table for the terminal; csv, latex (booktabs, best per metric in bold) or json to paste elsewhere")
)

const human = Options.text("human").pipe(
  Options.optional,
  Options.withDescription("a human-evaluation study id: its mean ratings (human.Dim1 …) join the table for the runs it rated")
)

export const compareCommand = Command.make("compare", { db: dbOption, experiment, metrics, baseline, format, human }, (flags) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const plugins = yield* Plugins
    const automatic = yield* store.comparisonData(flags.experiment)
    const data = Option.isNone(flags.human) ? automatic
      : { ...automatic, summary: [...automatic.summary, ...yield* humanSummaryRows(flags.human.value).pipe(Effect.provide(HumanStore.layerNoDeps))] }
    const baselineId = Option.isSome(flags.baseline) ? yield* store.resolveRunId(flags.baseline.value) : undefined
    const requested = Option.map(flags.metrics, (m) => m.split(",").map((s) => s.trim()).filter((s) => s !== ""))
    const table = compareExperiment(flags.experiment, data, { metrics: Option.getOrUndefined(requested), baseline: baselineId })
    if (!("rows" in table)) return yield* table
    // Benchmark retention vs the base model is its own section (absent when no run has a benchmark stage).
    const retention = retentionOf(data)
    const rendered = flags.format === "json" ? JSON.stringify(retention === undefined ? table : { ...table, retention }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)
      : flags.format === "csv" ? renderCsv(table).trimEnd()
      : flags.format === "latex" ? renderLatex(table, (key) => plugins.metricKey(key)?.direction).trimEnd()
      : renderTable(table) + (retention === undefined ? "" : `\n\n${renderRetention(retention)}`)
    yield* Console.log(rendered)
  }).pipe(Effect.provide(RunStore.layerReadOnly(flags.db)))).pipe(
  Command.withDescription("Compare an experiment's configurations: varying params, mean ± 95% CI across seeds, significance vs a baseline")
)
