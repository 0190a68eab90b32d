import * as Command from "@effect/cli/Command"
import * as Path from "@effect/platform/Path"
import type { MetricPlugin } from "@empo/core"
import type { OptimizerPlugin } from "@empo/core/Optimizer"
import { Plugins } from "@empo/experiments"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { renderTui } from "@empo/tui"
import * as Effect from "effect/Effect"
import { fileURLToPath } from "node:url"
import { dbOption } from "./runs.ts"

// The same catalog `empo run` validates against (run.ts), until apps/cli/src/plugins.ts lists the app's plugins once.
const metricPlugins: ReadonlyArray<MetricPlugin> = [distinct, length, specificity, vad]
const optimizerPlugins: ReadonlyArray<OptimizerPlugin> = []

// Sweeps launched from the TUI run this very CLI (`empo run <file> --db <db>`) in their own process.
const empoBin = fileURLToPath(new URL("../../bin/empo.mjs", import.meta.url))

export const tuiCommand = Command.make("tui", { db: dbOption }, (flags) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const db = path.resolve(flags.db)
    yield* renderTui({
      dbPath: db,
      plugins: Plugins.layer({ optimizers: optimizerPlugins, metrics: metricPlugins }),
      runnerCommand: [process.execPath, empoBin, "run"],
      stateDir: path.join(path.dirname(db), "launches"),
      experimentsDir: "experiments",
      exportDir: process.cwd()
    })
  })
).pipe(Command.withDescription("Terminal UI: watch experiments and runs live, compare sweeps, launch and cancel sweeps (needs a TTY)"))
