/**
 * `empo tui [--db <path>]`, started without the rest of the CLI: `bin/empo.mjs` loads this for `empo tui …`, so
 * the first frame does not wait for every command's modules and for @effect/cli to parse (~0.1 s). Any other
 * form (`--help`, an unknown flag) goes to the full CLI, which answers it as for every command.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { defaultStorePath } from "@empo/store"
import * as Effect from "effect/Effect"
import { openTui } from "./openTui.ts"
import { PluginsLive } from "./plugins.ts"
import { reportFailure } from "./reportFailure.ts"

/** The store of `tui [--db <path> | --db=<path>]` as `--db`, `EMPO_DB`, the default; undefined for any other form. */
export const simpleTuiStore = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): string | undefined => {
  if (args[0] !== "tui") return undefined
  const fallback = env["EMPO_DB"] ?? defaultStorePath
  if (args.length === 1) return fallback
  if (args.length === 2 && args[1]!.startsWith("--db=") && args[1]!.length > 5) return args[1]!.slice(5)
  if (args.length === 3 && args[1] === "--db" && !args[2]!.startsWith("-")) return args[2]!
  return undefined
}

const db = simpleTuiStore(process.argv.slice(2), process.env)
if (db === undefined) {
  await import("./bin.ts")
} else {
  openTui(db, PluginsLive).pipe(
    Effect.provide(NodeContext.layer),
    Effect.matchCauseEffect({ onSuccess: () => Effect.void, onFailure: reportFailure }),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
}
