import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ExportError } from "./TuiErrors.ts"

/** Writes exported tables (CSV, LaTeX) atomically: a temp file beside the target, then a rename. */
export class TableExport extends Context.Tag("@empo/tui/TableExport")<TableExport, {
  /** Writes `text` to `<dir>/<name>` and returns the absolute path. */
  readonly write: (name: string, text: string) => Effect.Effect<string, ExportError>
}>() {
  static readonly layer = (dir: string): Layer.Layer<TableExport, never, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(TableExport, Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const write = Effect.fn("TableExport.write")(function* (name: string, text: string) {
        const target = path.resolve(dir, name)
        const temp = `${target}.${process.pid}.tmp`
        yield* fs.makeDirectory(path.dirname(target), { recursive: true }).pipe(
          Effect.zipRight(fs.writeFileString(temp, text)),
          Effect.zipRight(fs.rename(temp, target)),
          Effect.mapError((cause) => new ExportError({ path: target, cause }))
        )
        return target
      })
      return TableExport.of({ write })
    }))
}
