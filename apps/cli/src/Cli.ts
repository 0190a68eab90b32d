import * as Command from "@effect/cli/Command"
import type { DuplicatePluginError } from "@empo/core"
import type { Plugins } from "@empo/experiments/Plugins"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { benchmarkCommand } from "./commands/benchmark.ts"
import { countsCommand } from "./commands/counts.ts"
import { dataCommand } from "./commands/data.ts"
import { doctorCommand } from "./commands/doctor.ts"
import { epitomeCommand } from "./commands/epitome.ts"
import { evalCommand } from "./commands/eval.ts"
import { generateCommand } from "./commands/generate.ts"
import { humanCommand } from "./commands/human.ts"
import { modelCommand } from "./commands/model.ts"
import { reportCommand } from "./commands/report.ts"
import { experimentCommands } from "./commands/run.ts"
import { trainCommand } from "./commands/train.ts"
import { tuiCommand } from "./commands/tui.ts"
import { asksForHelp, currentTerminal, type HelpTerminal, withTidyHelp } from "./HelpText.ts"
import { MainLayer } from "./MainLayer.ts"

// Every command group lives in its own file under ./commands and is listed here, once.
export const empo = Command.make("empo").pipe(
  Command.withDescription("EmPO Workbench: emotion-grounded preference data, DPO/IPO/KTO training, empathy metrics, sweeps"),
  Command.withSubcommands([dataCommand, countsCommand, evalCommand, ...experimentCommands, reportCommand, tuiCommand, trainCommand, generateCommand, modelCommand, epitomeCommand, benchmarkCommand, doctorCommand, humanCommand])
)

export const cli = Command.run(empo, { name: "empo", version: "0.1.0" })

/**
 * Runs `empo` on `argv` (as `process.argv`: node, script, then the arguments) with every service provided
 * and plugins looked up in `catalogue`: bin.ts passes the app's (`PluginsLive`), a test its own (a toy
 * plugin added). Failures are left to the caller (bin.ts turns them into messages and exit codes).
 * `--help` is tidied for `terminal` (no colour under NO_COLOR or into a pipe; no padded lines).
 */
export const runEmpo = (
  argv: ReadonlyArray<string>,
  catalogue: Layer.Layer<Plugins, DuplicatePluginError>,
  terminal: HelpTerminal = currentTerminal()
) => {
  const run = cli(argv).pipe(Effect.provide(Layer.merge(MainLayer, catalogue)))
  return asksForHelp(argv.slice(2)) ? withTidyHelp(run, terminal) : run
}
