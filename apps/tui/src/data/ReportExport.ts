import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Plugins } from "@empo/experiments/Plugins"
import type { RunStore } from "@empo/store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ExportError } from "./TuiErrors.ts"

/** Writes the report of an experiment (what `empo report` writes) into `<dir>/reports/<experiment>/`. */
export class ReportExport extends Context.Tag("@empo/tui/ReportExport")<ReportExport, {
  /** Writes the report and returns the path of its report.html. */
  readonly write: (experiment: string) => Effect.Effect<string, ExportError>
}>() {
  static readonly layer = (dir: string): Layer.Layer<ReportExport, never, RunStore | Plugins | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(ReportExport, Effect.gen(function* () {
      const context = yield* Effect.context<RunStore | FileSystem.FileSystem | Path.Path>()
      const plugins = yield* Plugins
      const path = yield* Path.Path
      const write = Effect.fn("ReportExport.write")(function* (experiment: string) {
        const out = path.resolve(dir, "reports", experiment)
        // Vega, Vega-Lite and resvg load on the first report, never before the TUI's first paint.
        const { FigureRenderer, Report } = yield* Effect.promise(() => import("@empo/report"))
        const written = yield* Report.pipe(
          Effect.flatMap((report) => report.write({ experiment, out, keyOf: plugins.metricKey })),
          Effect.provide(Report.layer.pipe(Layer.provide(FigureRenderer.layer()))),
          Effect.provide(context),
          Effect.mapError((cause) => new ExportError({ path: out, cause }))
        )
        return path.join(written.dir, "report.html")
      })
      return ReportExport.of({ write })
    }))
}
