import * as Command from "@effect/cli/Command"
import { Plugins } from "@empo/experiments/Plugins"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { openTui } from "../openTui.ts"
import { dbOption } from "./runs.ts"

export const tuiCommand = Command.make("tui", { db: dbOption }, (flags) =>
  Effect.flatMap(Plugins, (plugins) => openTui(flags.db, Layer.succeed(Plugins, plugins)))
).pipe(Command.withDescription("Terminal UI: watch experiments and runs live, compare sweeps, launch and cancel sweeps (needs a TTY)"))
