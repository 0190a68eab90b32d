import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { UserError } from "@empo/core/Errors"
import { executorKindsOf, type ExecutorEntry, inventoryPath, loadInventory, Plugins } from "@empo/experiments"
import { openExecutor } from "@empo/experiments/remote/OpenExecutor"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { jsonOption } from "./runs.ts"

/** `--executors FILE`, else `EMPO_EXECUTORS`, else `.empo/executors.yaml`. */
export const executorsOption = Options.text("executors").pipe(
  Options.withFallbackConfig(Config.string("EMPO_EXECUTORS")),
  Options.optional,
  Options.withDescription("the executor inventory (YAML); default $EMPO_EXECUTORS, else .empo/executors.yaml")
)

const readInventory = (flag: Option.Option<string>) => Effect.gen(function* () {
  const plugins = yield* Plugins
  return yield* loadInventory(inventoryPath(Option.getOrUndefined(flag), process.env), executorKindsOf(plugins.executors))
})

/** The named executor, opened in the caller's scope: the runner's `remote` option, or for `kind: local` its `localEntry`. */
export const openNamedExecutor = (name: string, flag: Option.Option<string>) => Effect.gen(function* () {
  const plugins = yield* Plugins
  const inventory = yield* readInventory(flag)
  return yield* openExecutor(plugins, inventory, name, process.env)
})

/** Some hosts of an executor cannot be used. Exit code 1. */
export class ExecutorCheckFailed extends UserError<ExecutorCheckFailed>()("ExecutorCheckFailed", {
  executor: Schema.String,
  unreachable: Schema.Array(Schema.String)
}, {
  exitCode: 1,
  message: (e) => `executor ${e.executor}: ${e.unreachable.length} host(s) not usable: ${e.unreachable.join("; ")}`
}) {}

const whereOf = (entry: ExecutorEntry): string => {
  switch (entry.kind) {
    case "ssh": {
      const hosts = (entry as { readonly hosts: ReadonlyArray<{ readonly user: string; readonly host: string; readonly port: number; readonly gpus: ReadonlyArray<number> | number; readonly slots: number }> }).hosts
      return hosts.map((h) => `${h.user}@${h.host}:${h.port} (${typeof h.gpus === "number" ? h.gpus : h.gpus.length} GPUs${(typeof h.gpus === "number" ? h.gpus : h.gpus.length) === 0 ? `, ${h.slots} slots` : ""})`).join(", ")
    }
    case "slurm": {
      const e = entry as { readonly login?: { readonly host: string }; readonly partition?: string }
      return `${e.login === undefined ? "sbatch here" : `sbatch on ${e.login.host}`}${e.partition === undefined ? "" : `, partition ${e.partition}`}`
    }
    case "ray": return `ray at ${(entry as { readonly address: string }).address}`
    case "local": return "this machine"
    default: return entry.kind
  }
}

const lsCommand = Command.make("ls", { executors: executorsOption, json: jsonOption }, (flags) => Effect.gen(function* () {
  const inventory = yield* readInventory(flags.executors)
  const rows = [...inventory.executors].map(([name, entry]) => ({
    name, kind: entry.kind, where: whereOf(entry), placement: entry.placement,
    ...(entry.gpusPerStage === undefined ? {} : { gpusPerStage: entry.gpusPerStage }), accelerate: entry.accelerate
  }))
  if (flags.json) return yield* Console.log(JSON.stringify({ file: inventory.file, executors: rows }, null, 2))
  yield* Console.log(`${inventory.file}: ${rows.length} executors`)
  for (const r of rows) {
    const overrides = Object.entries(r.placement).map(([k, v]) => `${k}→${v}`).join(" ")
    const gpus = r.gpusPerStage === undefined ? "" : typeof r.gpusPerStage === "number" ? `  GPUs per stage: ${r.gpusPerStage}`
      : `  GPUs: ${Object.entries(r.gpusPerStage).map(([k, v]) => `${k} ${v}`).join(", ")}`
    const ranks = r.accelerate.cpuProcesses === undefined ? "" : `  training: ${r.accelerate.cpuProcesses} CPU processes`
    const launch = gpus === "" && ranks === "" ? "" : ` (${r.accelerate.backend})`
    yield* Console.log(`  ${r.name.padEnd(20)} ${r.kind.padEnd(6)} ${r.where}${overrides === "" ? "" : `  placement: ${overrides}`}${gpus}${ranks}${launch}`)
  }
})).pipe(Command.withDescription("List the executors of the inventory: name, kind, hosts"))

const nameArg = Args.text({ name: "name" }).pipe(Args.withDescription("an executor of the inventory"))

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`

const checkCommand = Command.make("check", { name: nameArg, executors: executorsOption, json: jsonOption }, (flags) => Effect.scoped(Effect.gen(function* () {
  const opened = yield* openNamedExecutor(flags.name, flags.executors)
  if (opened._tag === "Local") return yield* Console.log(`${flags.name}: local (this machine); see \`empo doctor\``)
  const checks = yield* opened.setup.executor.check
  if (flags.json) yield* Console.log(JSON.stringify({ executor: flags.name, kind: opened.setup.executor.kind, hosts: checks }, null, 2))
  else {
    yield* Console.log(`${flags.name} (${opened.setup.executor.kind}, ${opened.setup.executor.capacity} slots)`)
    for (const c of checks) {
      if (!c.reachable) {
        yield* Console.log(`  ${c.host}: NOT reachable — ${c.error}`)
        continue
      }
      const versions = Object.entries(c.versions ?? {}).map(([k, v]) => `${k} ${v ?? "missing"}`).join(", ")
      yield* Console.log(`  ${c.host}: reachable; python ${c.python}; ${versions}`)
      yield* Console.log(`    GPUs: ${c.gpus === undefined || c.gpus.length === 0 ? "none (CPU)" : c.gpus.join(", ")}; free disk: ${c.freeDiskBytes === undefined ? "?" : gib(c.freeDiskBytes)}`)
    }
  }
  const bad = checks.filter((c) => !c.reachable).map((c) => `${c.host}: ${c.error}`)
  if (bad.length > 0) return yield* new ExecutorCheckFailed({ executor: flags.name, unreachable: bad })
}))).pipe(Command.withDescription("Check an executor's hosts: reachability, remote Python stack versions, GPUs, free disk"))

export const executorsCommand = Command.make("executors").pipe(
  Command.withDescription("Named executors (SSH hosts, Slurm, Ray) from the inventory: ls, check NAME"),
  Command.withSubcommands([lsCommand, checkCommand])
)
