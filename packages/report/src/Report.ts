import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { UnknownMetricKeyError } from "@empo/experiments/Compare"
import {
  type ArtifactRecord,
  type ExperimentNotFoundError,
  type MetricPointRecord,
  type RunId,
  type RunNotFoundError,
  RunStore,
  type StageId,
  type StoreError
} from "@empo/store"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { analyse, type ReportInput, type ReportModel } from "./Analysis.ts"
import { type Figure, barFigure, curveFigures, emotionFigure, sweepFigures } from "./Figures.ts"
import { FigureRenderer, type RenderedFigure } from "./FigureRenderer.ts"
import { defaultHeadline, type MetricKeyOf } from "./Headline.ts"
import { reportHtml } from "./Html.ts"
import { type FigureError, ReportWriteError, RunNotInExperimentError } from "./ReportError.ts"
import { headlineCsv, headlineLatex, lineageCsv } from "./Tables.ts"

/** What `empo report` asks for. */
export interface ReportRequest {
  readonly experiment: string
  /** The folder to write into (created; files in it are replaced). */
  readonly out: string
  /** Only these runs (ids or unique prefixes); default every run of the experiment. */
  readonly runs?: ReadonlyArray<string> | undefined
  /** The run whose configuration significance is tested against; default the first configuration. */
  readonly baseline?: string | undefined
  /** `--metrics`: keys or prefixes as `compare` takes them; default the headline list. */
  readonly metrics?: ReadonlyArray<string> | undefined
  /** The headline patterns in order (default {@link defaultHeadline}). */
  readonly headline?: ReadonlyArray<string> | undefined
  /** Direction and label of a key (the plugin catalogue's `metricKey`). */
  readonly keyOf: MetricKeyOf
}

/** What was written, relative to `dir`. */
export interface ReportWritten {
  readonly dir: string
  readonly files: ReadonlyArray<string>
  readonly figures: ReadonlyArray<{ readonly id: string; readonly kind: Figure["kind"]; readonly series: number }>
}

export type ReportFailure =
  | StoreError | ExperimentNotFoundError | RunNotFoundError | RunNotInExperimentError | UnknownMetricKeyError | FigureError | ReportWriteError

// One generation item as the items stage writes it; only the id and the emotion matter here.
const ItemLine = Schema.parseJson(Schema.Struct({ id: Schema.String, emotion: Schema.optional(Schema.NullOr(Schema.String)) }))
const decodeItem = Schema.decodeUnknownOption(ItemLine)

/** Builds an experiment's report from the run store and writes it: HTML, figures (SVG, PNG) and tables (LaTeX, CSV). */
export class Report extends Context.Tag("@empo/report/Report")<Report, {
  /** Reads and analyses, without writing (what the HTML and tables are made from). */
  readonly model: (request: Omit<ReportRequest, "out">) => Effect.Effect<ReportModel, ReportFailure>
  readonly write: (request: ReportRequest) => Effect.Effect<ReportWritten, ReportFailure>
}>() {
  static readonly layer: Layer.Layer<Report, never, RunStore | FigureRenderer | FileSystem.FileSystem | Path.Path> = Layer.effect(
    Report,
    Effect.gen(function* () {
      const store = yield* RunStore
      const renderer = yield* FigureRenderer
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path

      const load = Effect.fn("Report.load")(function* (request: Omit<ReportRequest, "out">) {
        const all = yield* store.comparisonData(request.experiment)
        const experiment = (yield* store.listExperiments()).find((e) => e.name === request.experiment)!
        const member = Effect.fn("Report.member")(function* (idOrPrefix: string) {
          const id = yield* store.resolveRunId(idOrPrefix)
          if (!all.runs.some((r) => r.id === id)) {
            const detail = yield* store.showRun(id)
            return yield* new RunNotInExperimentError({ run: idOrPrefix, experiment: request.experiment, actual: detail.run.experiment })
          }
          return id
        })
        const chosen = request.runs === undefined || request.runs.length === 0 ? undefined : new Set(yield* Effect.forEach(request.runs, member))
        const keep = (id: RunId) => chosen === undefined || chosen.has(id)
        const data = { runs: all.runs.filter((r) => keep(r.id)), params: all.params.filter((p) => keep(p.runId)), summary: all.summary.filter((s) => keep(s.runId)) }
        const baseline = request.baseline === undefined ? undefined : yield* member(request.baseline)
        if (baseline !== undefined && !keep(baseline)) {
          return yield* new RunNotInExperimentError({ run: request.baseline!, experiment: `${request.experiment} (as chosen by --runs)`, actual: `${request.experiment}, not chosen` })
        }
        const stages = (yield* store.stagesOf(request.experiment)).filter((s) => keep(s.runId))
        const points: Array<MetricPointRecord> = []
        const seen = new Set<number>()
        for (const run of data.runs) {
          let after = 0
          for (;;) {
            const page = yield* store.metricPointsSince(run.id, after, 10_000)
            for (const p of page) if (!seen.has(p.id)) (seen.add(p.id), points.push(p))
            if (page.length < 10_000) break
            after = page.at(-1)!.id
          }
        }
        const itemScores = (yield* store.itemScoresOf(request.experiment)).filter((s) => keep(s.runId))
        const artifacts = new Map<StageId, ReadonlyArray<ArtifactRecord>>()
        for (const id of new Set(stages.map((s) => s.id))) artifacts.set(id, yield* store.artifactsOf(id))
        // What each stage read: the lineage rows, from each run's detail (shared stages once).
        const consumed = new Map<StageId, Array<number>>()
        for (const run of data.runs) {
          for (const edge of (yield* store.showRun(run.id)).consumed) {
            const ids = consumed.get(edge.stageId) ?? []
            if (!ids.includes(edge.artifactId)) ids.push(edge.artifactId)
            consumed.set(edge.stageId, ids)
          }
        }
        const notes: Array<string> = []
        const emotions = new Map<string, string>()
        const itemFiles = [...artifacts.values()].flat().filter((a) => a.kind === "items" && a.name.endsWith(".jsonl"))
        for (const file of itemFiles) {
          const text = yield* fs.readFileString(file.path).pipe(Effect.option)
          if (text._tag === "None") {
            notes.push(`generation items ${file.path} could not be read: no per-emotion breakdown from them`)
            continue
          }
          for (const line of text.value.split("\n")) {
            if (line.trim() === "") continue
            const item = decodeItem(line)
            if (item._tag === "Some" && typeof item.value.emotion === "string") emotions.set(item.value.id, item.value.emotion)
          }
        }
        if (itemScores.length > 0 && emotions.size === 0 && itemFiles.length === 0) notes.push("no generation items with emotions recorded: no per-emotion breakdown")
        const input: ReportInput = { experiment, data, stages, points, itemScores, emotions, artifacts, consumed, notes }
        // Significance needs a reference: the first configuration unless --baseline names another.
        const reference = baseline ?? (new Set(data.runs.map((r) => r.label.replace(/\s*seed=\S+$/, ""))).size > 1 ? data.runs[0]?.id : undefined)
        const model = analyse(input, { metrics: request.metrics, headline: request.headline ?? defaultHeadline, baseline: reference }, request.keyOf)
        if (!("headline" in model)) return yield* model
        return model
      })

      const write = Effect.fn("Report.write")(function* (request: ReportRequest) {
        const model = yield* load(request)
        const figures: Array<Figure> = [
          ...curveFigures(model.curves),
          ...[barFigure(model.headline, request.keyOf)].filter((f) => f !== undefined),
          ...sweepFigures(model.sweeps, request.keyOf),
          ...[emotionFigure(model.emotions)].filter((f) => f !== undefined)
        ]
        const rendered: Array<RenderedFigure> = yield* Effect.forEach(figures, renderer.render)
        const now = yield* Clock.currentTimeMillis
        const html = reportHtml(model, rendered, request.keyOf, new Date(now).toISOString().replace("T", " ").slice(0, 19) + " UTC")
        const files: Array<readonly [string, string | Uint8Array]> = [
          ["report.html", html],
          ...rendered.flatMap((r) => [
            [`figures/${r.figure.id}.svg`, r.svg] as const,
            [`figures/${r.figure.id}.png`, r.png] as const,
            [`figures/${r.figure.id}.vl.json`, JSON.stringify(r.figure.spec, null, 1)] as const
          ]),
          ["tables/headline.tex", headlineLatex(model.headline, request.keyOf, model.baselineLabel)],
          ["tables/headline.csv", headlineCsv(model.headline, request.keyOf)],
          ["tables/lineage.csv", lineageCsv(model.lineage)]
        ]
        const dir = path.resolve(request.out)
        for (const [name, content] of files) {
          const target = path.join(dir, name)
          // A temp file and a rename: a reader (a browser reloading) never sees half a file.
          const temp = `${target}.tmp-${process.pid}`
          yield* fs.makeDirectory(path.dirname(target), { recursive: true }).pipe(
            Effect.zipRight(typeof content === "string" ? fs.writeFileString(temp, content) : fs.writeFile(temp, content)),
            Effect.zipRight(fs.rename(temp, target)),
            Effect.mapError((cause) => new ReportWriteError({ path: target, cause }))
          )
        }
        return { dir, files: files.map(([name]) => name), figures: figures.map((f) => ({ id: f.id, kind: f.kind, series: f.series })) }
      })

      return Report.of({ model: load, write })
    })
  )
}
