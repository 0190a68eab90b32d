/**
 * Named executors as commands open them: the inventory entry by name, the plugin of its kind, the executor built
 * in the caller's scope. What `empo run --executor`, `empo executors check` and the TUI share.
 */
import { pythonRoot } from "@empo/bridge/WorkerLaunch"
import { InputError } from "@empo/core/Errors"
import * as Effect from "effect/Effect"
import * as NodePath from "node:path"
import type { ExecutorEntry, Inventory } from "../Inventory.ts"
import { placementOf } from "../Inventory.ts"
import type { Plugins } from "../Plugins.ts"
import type { RemoteSetup } from "./RemoteStage.ts"
import type { StagePool } from "../Stage.ts"

/** An entry by name, or a typed error (exit code 2) naming the file and the known names. */
export const entryOf = (inventory: Inventory, name: string): Effect.Effect<ExecutorEntry, InputError> => {
  const entry = inventory.executors.get(name)
  return entry === undefined
    ? Effect.fail(new InputError({
      file: inventory.file, field: "--executor",
      reason: `no executor named "${name}" in ${inventory.file}; known: ${[...inventory.executors.keys()].join(", ") || "(none)"}`
    }))
    : Effect.succeed(entry)
}

/**
 * Builds the named executor (scoped: its connections close with the scope); for a `local` entry only the entry
 * (`localEntry`: its `gpusPerStage`/`accelerate` still apply to training here). The local environment given is
 * where `forwardEnv` secrets come from.
 */
export const openExecutor = (plugins: Plugins["Type"], inventory: Inventory, name: string, env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function* () {
    const entry = yield* entryOf(inventory, name)
    if (entry.kind === "local") return { _tag: "Local" as const, localEntry: entry }
    const plugin = plugins.executors.find((p) => p.executorKind === entry.kind)
    if (plugin === undefined) {
      return yield* new InputError({
        file: inventory.file, field: `executors.${name}.kind`,
        reason: `no executor plugin for kind "${entry.kind}" is installed; installed kinds: ${plugins.executors.map((p) => p.executorKind).join(", ") || "(none)"}`
      })
    }
    const executor = yield* plugin.make(name, entry, { inventoryDir: NodePath.dirname(inventory.file), env })
    const setup: RemoteSetup = { executor, entry, env, workerRoot: pythonRoot }
    return { _tag: "Remote" as const, setup, places: (kind: string, pool: StagePool) => placementOf(entry, kind, pool) === "executor" }
  })
