/**
 * The executor inventory: named executors in one YAML file (`--executors FILE`, `EMPO_EXECUTORS`, default
 * `.empo/executors.yaml`). Each entry has a `kind` (an open union: `local`, `ssh`, `slurm`, `ray` are built in,
 * an executor plugin may add more), where stages go (`placement`) and what environment travels with them.
 *
 * ```yaml
 * executors:
 *   gpu-box:
 *     kind: ssh
 *     hosts:
 *       - { host: gpu1.example.org, user: alice, identityFile: ~/.ssh/id_ed25519, gpus: [0, 1],
 *           python: /opt/empo/.venv/bin/python, workDir: /scratch/alice/empo }
 *     forwardEnv: [HF_TOKEN]
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as JSONSchema from "effect/JSONSchema"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { SpecError, SpecIssue } from "./SpecError.ts"
import { issuesFromParseError, parseYaml } from "./SpecLoader.ts"

const PositiveInt = Schema.Int.pipe(Schema.positive())
const Port = Schema.Int.pipe(Schema.between(1, 65535))
const EnvName = Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: () => "an environment variable name (letters, digits, _)" }))
/** Executor names are recorded in the store and typed on the command line. */
export const ExecutorName = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: () => "letters, digits, '.', '_' or '-'" }))

/** Where a node kind runs: on the named executor, or here. */
export const PlacementTarget = Schema.Literal("executor", "local")
export type PlacementTarget = typeof PlacementTarget.Type

/** The `accelerate launch` backends of a training stage with more than one GPU (python/empo_worker/multi_gpu.py). */
export const AccelerateBackend = Schema.Literal("ddp", "deepspeed", "fsdp")

/**
 * How a training stage that gets more than one GPU starts: `accelerate launch` with a generated config, one process
 * per GPU (DDP by default). `options` go into the config's `deepspeed_config` / `fsdp_config` with accelerate's own
 * keys (`zero_stage: 3`, `offload_optimizer_device: cpu`, `fsdp_sharding_strategy: FULL_SHARD` …).
 */
export class AccelerateSpec extends Schema.Class<AccelerateSpec>("AccelerateSpec")({
  backend: Schema.optionalWith(AccelerateBackend, { default: () => "ddp" as const }),
  options: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Schema.Number, Schema.Boolean) }), { default: () => ({}) }),
  /** On a host without GPUs, train with this many CPU processes (gloo): the multi-process path without GPUs (tests). */
  cpuProcesses: Schema.optional(PositiveInt)
}) {}

const GpuCount = Schema.Number.pipe(Schema.nonNegative())

/** Fields every executor kind has. */
const common = {
  /**
   * GPUs one stage gets: a number for every GPU stage, or per node kind (`{ train: 4, generate: 1 }`). A training
   * stage with more than one starts under `accelerate launch` (see `accelerate`). Unset: one GPU slot per stage on
   * an SSH GPU host, the inventory's `gres` (or none) on Slurm, no GPU on Ray. Not part of any stage id.
   */
  gpusPerStage: Schema.optional(Schema.Union(GpuCount, Schema.Record({ key: Schema.String, value: GpuCount }))),
  accelerate: Schema.optionalWith(AccelerateSpec, { default: () => new AccelerateSpec({}) }),
  /**
   * Per node kind (`train`, `generate`, `tiny-model`, `dataset`, `items`, `evaluate`, a plugin's kind): `executor` or
   * `local`. Unlisted kinds follow their pool: `compute` (worker, GPU) stages go to the executor, `local` ones stay.
   */
  placement: Schema.optionalWith(Schema.Record({ key: Schema.String, value: PlacementTarget }), { default: () => ({}) }),
  /** Extra environment of the remote worker (not secret: it may appear in job scripts). */
  env: Schema.optionalWith(Schema.Record({ key: EnvName, value: Schema.String }), { default: () => ({}) }),
  /** Local variables passed to the remote worker through its environment only (secrets: never stored or logged). */
  forwardEnv: Schema.optionalWith(Schema.Array(EnvName), { default: () => ["HF_TOKEN"] })
}

/** One SSH host: connection, host-key policy, its Python and work dir, its GPUs. */
export class SshHostSpec extends Schema.Class<SshHostSpec>("SshHostSpec")({
  /** Host name or address (passed to the SSH client, never to a shell). */
  host: Schema.NonEmptyString,
  port: Schema.optionalWith(Port, { default: () => 22 }),
  user: Schema.NonEmptyString,
  /** A private key file (relative to the inventory file; `~/` is the home dir). Without it the SSH agent is used. */
  identityFile: Schema.optional(Schema.NonEmptyString),
  /** The agent's socket; default `$SSH_AUTH_SOCK`. */
  agent: Schema.optional(Schema.NonEmptyString),
  /** OpenSSH known_hosts file with the host's key (default `~/.ssh/known_hosts`). */
  knownHosts: Schema.optional(Schema.NonEmptyString),
  /** `true` (default): an unknown or changed host key is refused. `false` accepts any key (never on shared networks). */
  strictHostKeyChecking: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** The Python on the host that has torch/transformers/TRL. */
  python: Schema.optionalWith(Schema.NonEmptyString, { default: () => "python3" }),
  /** Absolute work dir on the host (created on first use). */
  workDir: Schema.NonEmptyString,
  /** GPU indices (`[0, 1]`), or a count; none = a CPU host running `slots` stages at once. */
  gpus: Schema.optionalWith(Schema.Union(Schema.Array(Schema.Int.pipe(Schema.nonNegative())), Schema.Int.pipe(Schema.nonNegative())), { default: () => [] }),
  /** Stages at once on a host without GPUs. */
  slots: Schema.optionalWith(PositiveInt, { default: () => 1 }),
  /** Seconds to wait for the connection. */
  connectTimeoutSeconds: Schema.optionalWith(PositiveInt, { default: () => 20 })
}) {}

/** `kind: ssh` — one or more GPU hosts reached over SSH (plugins/executor-ssh). */
export class SshExecutorSpec extends Schema.Class<SshExecutorSpec>("SshExecutorSpec")({
  kind: Schema.Literal("ssh"),
  hosts: Schema.NonEmptyArray(SshHostSpec),
  ...common
}) {}

/** `kind: slurm` — `sbatch` on a login node, here or over SSH (plugins/executor-slurm). */
export class SlurmExecutorSpec extends Schema.Class<SlurmExecutorSpec>("SlurmExecutorSpec")({
  kind: Schema.Literal("slurm"),
  /** The login node over SSH; absent = `sbatch` runs on this machine. */
  login: Schema.optional(SshHostSpec),
  /** Python and shared work dir on the cluster (when there is no `login`). */
  python: Schema.optionalWith(Schema.NonEmptyString, { default: () => "python3" }),
  workDir: Schema.optional(Schema.NonEmptyString),
  partition: Schema.optional(Schema.NonEmptyString),
  gres: Schema.optional(Schema.NonEmptyString),
  time: Schema.optional(Schema.NonEmptyString),
  mem: Schema.optional(Schema.NonEmptyString),
  cpus: Schema.optional(PositiveInt),
  account: Schema.optional(Schema.NonEmptyString),
  qos: Schema.optional(Schema.NonEmptyString),
  /** More `#SBATCH` lines, verbatim (`--constraint=a100`). */
  extra: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** Environment for `sbatch`/`squeue` themselves (e.g. SLURM_CONF). */
  slurmEnv: Schema.optionalWith(Schema.Record({ key: EnvName, value: Schema.String }), { default: () => ({}) }),
  /** Jobs at once. */
  maxJobs: Schema.optionalWith(PositiveInt, { default: () => 4 }),
  ...common
}) {}

/** `kind: ray` — tasks on an existing Ray cluster through Ray core (plugins/executor-ray). */
export class RayExecutorSpec extends Schema.Class<RayExecutorSpec>("RayExecutorSpec")({
  kind: Schema.Literal("ray"),
  /** `ray.init(address=…)`: `127.0.0.1:6379`, `ray://head:10001`. */
  address: Schema.NonEmptyString,
  python: Schema.optionalWith(Schema.NonEmptyString, { default: () => "python3" }),
  workDir: Schema.optional(Schema.NonEmptyString),
  maxJobs: Schema.optionalWith(PositiveInt, { default: () => 4 }),
  ...common
}) {}

/** `kind: local` — this machine (the default when no executor is named). */
export class LocalExecutorSpec extends Schema.Class<LocalExecutorSpec>("LocalExecutorSpec")({
  kind: Schema.Literal("local"),
  ...common
}) {}

/** The kinds built in; a plugin's `config` Schema decodes any other kind. */
export const builtinExecutorSpecs = { ssh: SshExecutorSpec, slurm: SlurmExecutorSpec, ray: RayExecutorSpec, local: LocalExecutorSpec } as const

/** One entry as the inventory reads it before its kind's Schema decodes it. */
const EntryBase = Schema.Struct({ kind: Schema.NonEmptyString }, Schema.Record({ key: Schema.String, value: Schema.Unknown }))

/** The file: named entries, each decoded by its kind's Schema (an open union). */
export const InventoryFile = Schema.Struct({
  executors: Schema.Record({ key: ExecutorName, value: EntryBase })
})

/** An executor entry: a built-in kind or a plugin's (its `kind` and whatever the plugin decoded). */
export type ExecutorEntry = SshExecutorSpec | SlurmExecutorSpec | RayExecutorSpec | LocalExecutorSpec | {
  readonly kind: string
  readonly placement: Readonly<Record<string, PlacementTarget>>
  readonly env: Readonly<Record<string, string>>
  readonly forwardEnv: ReadonlyArray<string>
  readonly gpusPerStage?: number | Readonly<Record<string, number>> | undefined
  readonly accelerate: AccelerateSpec
}

/** A decoded inventory: where it came from (relative paths resolve against its folder) and its entries by name. */
export interface Inventory {
  readonly file: string
  readonly executors: ReadonlyMap<string, ExecutorEntry>
}

/** `--executors`, else `EMPO_EXECUTORS`, else `.empo/executors.yaml` (relative to the working directory). */
export const inventoryPath = (flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string =>
  flag ?? (env["EMPO_EXECUTORS"] !== undefined && env["EMPO_EXECUTORS"] !== "" ? env["EMPO_EXECUTORS"] : ".empo/executors.yaml")

/**
 * Reads and validates an inventory. `kinds` are the executor kinds' Schemas (built-ins plus plugins'). Every problem
 * is a {@link SpecError} (exit code 2) naming `file:line:col` and the field; a missing file is one too.
 */
export const loadInventory = Effect.fn("loadInventory")(function* (
  file: string,
  kinds: Readonly<Record<string, Schema.Schema<any, any>>> = builtinExecutorSpecs
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const fail = (issues: ReadonlyArray<SpecIssue>) => Effect.fail(new SpecError({ file, issues: issues as [SpecIssue, ...Array<SpecIssue>] }))
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((e) => new SpecError({ file, issues: [new SpecIssue({ line: 1, column: 1, field: "", message: `cannot read the executor inventory: ${e.message}; write one (see README, "Running on GPU hosts and clusters") or pass --executors FILE` })] })))
  const parsed = parseYaml(text)
  if ("issues" in parsed) return yield* fail(parsed.issues)
  const { at } = parsed
  const raw = yield* Schema.decodeUnknown(InventoryFile)(parsed.doc.toJS(), { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.catchTag("ParseError", (e) => fail(issuesFromParseError(e, at))))
  const issues: Array<SpecIssue> = []
  const executors = new Map<string, ExecutorEntry>()
  for (const [name, entry] of Object.entries(raw.executors)) {
    const schema = kinds[entry.kind]
    if (schema === undefined) {
      issues.push(new SpecIssue({ ...at(["executors", name, "kind"]), field: `executors.${name}.kind`, message: `unknown executor kind "${entry.kind}"; known: ${Object.keys(kinds).join(", ")}` }))
      continue
    }
    const decoded = Schema.decodeUnknownEither(schema)(entry, { errors: "all", onExcessProperty: "error" })
    if (decoded._tag === "Left") issues.push(...issuesFromParseError(decoded.left as ParseResult.ParseError, at, ["executors", name]))
    else executors.set(name, decoded.right as ExecutorEntry)
  }
  if (issues.length > 0) return yield* fail(issues)
  return { file: path.resolve(file), executors } satisfies Inventory
})

/** The JSON Schema editors use for inventory files (written to `experiments/executors.schema.json`). */
export const inventoryJsonSchema = (): object => ({
  ...JSONSchema.make(Schema.Struct({
    executors: Schema.Record({ key: ExecutorName, value: Schema.Union(SshExecutorSpec, SlurmExecutorSpec, RayExecutorSpec, LocalExecutorSpec) })
  })),
  $id: "https://empo.dev/executors.schema.json",
  title: "EmPO executor inventory",
  description: "Named executors (SSH hosts, Slurm clusters, Ray clusters) that `empo run --executor NAME` sends GPU stages to"
})

export const inventoryJsonSchemaText = (): string => JSON.stringify(inventoryJsonSchema(), null, 2) + "\n"

/**
 * Where a node kind runs under an entry: its `placement` if it names the kind, else by pool (`compute` → the
 * executor, `local` → here). A `local` executor runs everything here.
 */
export const placementOf = (entry: ExecutorEntry, kind: string, pool: "compute" | "local"): PlacementTarget =>
  entry.kind === "local" ? "local" : entry.placement[kind] ?? (pool === "compute" ? "executor" : "local")

/** The inventory Schemas of a catalogue: the built-in kinds, and each executor plugin's own `config` by its kind. */
export const executorKindsOf = (plugins: ReadonlyArray<{ readonly executorKind: string; readonly config: Schema.Schema<any, any> }>): Readonly<Record<string, Schema.Schema<any, any>>> =>
  ({ ...builtinExecutorSpecs, ...Object.fromEntries(plugins.map((p) => [p.executorKind, p.config])) })

/** The GPUs an entry gives a stage of node kind `kind`, or `undefined` for the executor's default. */
export const gpusPerStageOf = (entry: ExecutorEntry, kind: string): number | undefined =>
  typeof entry.gpusPerStage === "number" ? entry.gpusPerStage : entry.gpusPerStage?.[kind]
