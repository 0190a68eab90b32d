import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import {
  type ComparisonTable,
  compareExperiment,
  defaultHeadline,
  renderCsv,
  renderLatex,
  renderTable,
  withReference
} from "@empo/experiments/Compare"
import { humanReferences } from "@empo/experiments/HumanReference"
import { Plugins } from "@empo/experiments/Plugins"
import { HumanStore, humanSummaryRows } from "@empo/human"
import { renderRetention, retentionOf } from "@empo/experiments/Retention"
import { RunStore } from "@empo/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { defaultCacheDir, MetricRunnerLive, progress } from "./eval.ts"
import { dbOption } from "./runs.ts"

const experiment = Args.text({ name: "experiment" }).pipe(Args.withDescription("the experiment's name (its `name:` field)"))
const metrics = Options.text("metrics").pipe(
  Options.optional,
  Options.withDescription("comma-separated metric keys or prefixes (e.g. length,vad.); default: every evaluation metric, headline first")
)
const baseline = Options.text("baseline").pipe(Options.optional, Options.withDescription("a run id (or prefix); its configuration is the reference for significance"))
const format = Options.choice("format", ["table", "csv", "latex", "json"]).pipe(
  Options.withDefault("table" as const),
  Options.withDescription("table for the terminal; csv, latex (booktabs, best per metric in bold) or json to paste elsewhere")
)
const headline = Options.text("headline").pipe(
  Options.optional,
  Options.withDescription(`comma-separated metric keys or prefixes to lead the table with, in order (default ${defaultHeadline.join(",")}); their keys without a direction stay in the rest`)
)
const humanReference = Options.boolean("human-reference").pipe(
  Options.withDescription("add the gold responses of the same items, scored by the runs' own metrics and params (as `empo eval --human`, cached alike), as a column")
)

const human = Options.text("human").pipe(
  Options.optional,
  Options.withDescription("a human-evaluation study id: its mean ratings (human.Dim1 …) join the table for the runs it rated")
)

const list = (text: Option.Option<string>) => Option.getOrUndefined(Option.map(text, (t) => t.split(",").map((s) => s.trim()).filter((s) => s !== "")))

export const compareCommand = Command.make("compare", { db: dbOption, experiment, metrics, baseline, format, headline, humanReference, human }, (flags) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const plugins = yield* Plugins
    const directionOf = (key: string) => plugins.metricKey(key)?.direction
    const automatic = yield* store.comparisonData(flags.experiment)
    // A study's mean ratings join as summary rows of the runs it rated (human.Dim1 …).
    const data = Option.isNone(flags.human) ? automatic
      : { ...automatic, summary: [...automatic.summary, ...yield* humanSummaryRows(flags.human.value).pipe(Effect.provide(HumanStore.layerNoDeps))] }
    const baselineId = Option.isSome(flags.baseline) ? yield* store.resolveRunId(flags.baseline.value) : undefined
    const compared = compareExperiment(flags.experiment, data, { metrics: list(flags.metrics), baseline: baselineId, directionOf, headline: list(flags.headline) })
    if (!("rows" in compared)) return yield* compared
    let table: ComparisonTable = compared
    // What compare adds beside the configurations' own numbers, each behind its flag: reference rows (columns
    // when the table turns) and sections under it. A new addition is one more entry here.
    const additions = [
      ...(flags.humanReference
        ? [(t: ComparisonTable) =>
          Effect.gen(function* () {
            const rows = yield* humanReferences(flags.experiment, { cacheDir: yield* defaultCacheDir, onProgress: progress })
            return rows.reduce(withReference, t)
          }).pipe(Effect.provide(MetricRunnerLive(Option.none())))]
        : [])
    ]
    for (const add of additions) table = yield* add(table)
    // Benchmark retention vs the base model is its own section (absent when no run has a benchmark stage).
    const retention = retentionOf(data)
    const rendered = flags.format === "json" ? JSON.stringify(retention === undefined ? table : { ...table, retention }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)
      : flags.format === "csv" ? renderCsv(table).trimEnd()
      : flags.format === "latex" ? renderLatex(table, directionOf).trimEnd()
      : renderTable(table) + (retention === undefined ? "" : `\n\n${renderRetention(retention)}`)
    yield* Console.log(rendered)
  }).pipe(Effect.provide(RunStore.layerReadOnly(flags.db)))).pipe(
  Command.withDescription(
    "Compare an experiment's configurations: headline metrics first with ↑/↓ for which way is better, varying params, mean ± 95% CI across seeds, significance vs a baseline, the human reference with --human-reference"
  )
)
