import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Plugins } from "@empo/experiments/Plugins"
import { RunStore } from "@empo/store"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { dbOption } from "./runs.ts"

const experiment = Args.text({ name: "experiment" }).pipe(Args.withDescription("the experiment's name (its `name:` field)"))
const out = Options.text("out").pipe(Options.optional, Options.withDescription("the folder to write into; default reports/<experiment>"))
const list = (name: string, description: string) => Options.text(name).pipe(Options.optional, Options.withDescription(description))
const runs = list("runs", "comma-separated run ids (or prefixes) to report on; default every run of the experiment")
const baseline = Options.text("baseline").pipe(Options.optional, Options.withDescription("a run id (or prefix); its configuration is the reference for significance (default: the first)"))
const metrics = list("metrics", "comma-separated metric keys or prefixes for the headline table and plots; default the headline list (EPITOME, BERTScore, VAD |diff|, NIDF, diversity, benchmarks)")

const split = (o: Option.Option<string>) => Option.getOrUndefined(Option.map(o, (s) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")))

export const reportCommand = Command.make("report", { db: dbOption, experiment, out, runs, baseline, metrics }, (flags) =>
  Effect.gen(function* () {
    const plugins = yield* Plugins
    // Vega, Vega-Lite and resvg load only for this command: every other command starts without them.
    const { FigureRenderer, Report } = yield* Effect.promise(() => import("@empo/report"))
    const report = yield* Report.pipe(Effect.provide(Report.layer.pipe(Layer.provide(FigureRenderer.layer()))))
    const written = yield* report.write({
      experiment: flags.experiment,
      out: Option.getOrElse(flags.out, () => `reports/${flags.experiment}`),
      runs: split(flags.runs),
      baseline: Option.getOrUndefined(flags.baseline),
      metrics: split(flags.metrics),
      keyOf: plugins.metricKey
    })
    yield* Console.log([
      `wrote ${written.dir}/report.html`,
      `  figures: ${written.figures.map((f) => f.id).join(", ") || "(none)"} (svg + png)`,
      `  tables: tables/headline.tex, tables/headline.csv, tables/lineage.csv`
    ].join("\n"))
  }).pipe(Effect.provide(RunStore.layerReadOnly(flags.db)))).pipe(
  Command.withDescription("Write an experiment's report: report.html (self-contained), figures/*.svg|png, tables/*.tex|csv")
)
