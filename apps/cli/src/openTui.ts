import * as Path from "@effect/platform/Path"
import type { DuplicatePluginError } from "@empo/core"
import type { Plugins } from "@empo/experiments/Plugins"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { fileURLToPath } from "node:url"

// Sweeps launched from the TUI run this very CLI (`empo run <file> --db <db>`) in their own process.
const empoBin = fileURLToPath(new URL("../bin/empo.mjs", import.meta.url))

/**
 * Opens the TUI on the store `db` with the catalogue `plugins`. Shared by the `tui` command and the fast start
 * (`tuiMain.ts`, which skips the rest of the CLI), so both open the same TUI.
 */
export const openTui = (db: string, plugins: Layer.Layer<Plugins, DuplicatePluginError>) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const dbPath = path.resolve(db)
    // Ink draws only the final frame when it thinks it runs under CI (CI=true is common in shells on shared
    // GPU hosts); a TUI the user opened in a terminal must draw live. Loaded lazily, so other commands start
    // without React and Ink.
    process.env["CI"] = "false"
    const { renderTui } = yield* Effect.promise(() => import("@empo/tui"))
    yield* renderTui({
      dbPath,
      // The catalog `empo run` validates against, so the Launch screen accepts exactly what the runner will.
      plugins,
      runnerCommand: [process.execPath, empoBin, "run"],
      stateDir: path.join(path.dirname(dbPath), "launches"),
      experimentsDir: "experiments",
      exportDir: process.cwd()
    })
  })
