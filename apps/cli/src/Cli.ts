import * as Command from "@effect/cli/Command"
import { countsCommand } from "./commands/counts.ts"
import { dataCommand } from "./commands/data.ts"
import { doctorCommand } from "./commands/doctor.ts"
import { evalCommand } from "./commands/eval.ts"
import { generateCommand } from "./commands/generate.ts"
import { modelCommand } from "./commands/model.ts"
import { experimentCommands } from "./commands/run.ts"
import { trainCommand } from "./commands/train.ts"
import { tuiCommand } from "./commands/tui.ts"

// Every command group lives in its own file under ./commands and is listed here, once.
export const empo = Command.make("empo").pipe(
  Command.withDescription("EmPO Workbench: emotion-grounded preference data, DPO/IPO/KTO training, empathy metrics, sweeps"),
  Command.withSubcommands([dataCommand, countsCommand, evalCommand, ...experimentCommands, tuiCommand, trainCommand, generateCommand, modelCommand, doctorCommand])
)

export const cli = Command.run(empo, { name: "empo", version: "0.1.0" })
