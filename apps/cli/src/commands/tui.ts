import * as Command from "@effect/cli/Command"
import * as Path from "@effect/platform/Path"
import { Plugins } from "@empo/experiments/Plugins"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { fileURLToPath } from "node:url"
import { dbOption } from "./runs.ts"

// Sweeps launched from the TUI run this very CLI (`empo run <file> --db <db>`) in their own process.
const empoBin = fileURLToPath(new URL("../../bin/empo.mjs", import.meta.url))

export const tuiCommand = Command.make("tui", { db: dbOption }, (flags) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const db = path.resolve(flags.db)
    const plugins = yield* Plugins
    // Ink draws only the final frame when it thinks it runs under CI (CI=true is common in shells on shared
    // GPU hosts); a TUI the user opened in a terminal must draw live. Loaded lazily, so other commands start
    // without React and Ink.
    process.env["CI"] = "false"
    const { renderTui } = yield* Effect.promise(() => import("@empo/tui"))
    yield* renderTui({
      dbPath: db,
      // The catalog `empo run` validates against, so the Launch screen accepts exactly what the runner will.
      plugins: Layer.succeed(Plugins, plugins),
      runnerCommand: [process.execPath, empoBin, "run"],
      stateDir: path.join(path.dirname(db), "launches"),
      experimentsDir: "experiments",
      exportDir: process.cwd()
    })
  })
).pipe(Command.withDescription("Terminal UI: watch experiments and runs live, compare sweeps, launch and cancel sweeps (needs a TTY)"))
