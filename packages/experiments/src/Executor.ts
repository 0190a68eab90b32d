/**
 * The executor contract: how a stage runs somewhere other than the machine of `empo run`. A remote executor
 * (SSH host, Slurm cluster, Ray cluster) is a plugin that turns an inventory entry into a {@link RemoteExecutor};
 * the runner does the rest the same way for every kind (see `remote/RemoteStage.ts`):
 *
 * 1. **prepare** — the stage's upstream folders and the Python worker are uploaded content-addressed into the host's
 *    work dir (`<workDir>/cas/<sha256>`, then linked into place): a file whose sha256 is already there is not sent;
 * 2. **persist** — a job key is generated and recorded in the store (`stage_jobs`, state `submitted`) *before* launch;
 * 3. **launch** — the executor starts the unchanged worker (`python -u worker.py`) on the host with the request as its
 *    stdin and its stdout (the same NDJSON protocol) in `<jobDir>/events.ndjson`, detached from the runner;
 * 4. **follow** — the executor streams those lines back as they are written; the runner decodes them with the bridge's
 *    protocol, so metric points reach the store while the stage runs;
 * 5. **fetch** — the stage's output folder is downloaded into the local partial folder the runner places;
 * 6. **cancel** — interrupting the stage stops the job (process group / `scancel` / Ray cancel);
 * 7. **reattach** — a rerun after the runner died finds the open job of the stage in the store and follows it again
 *    (a finished one is collected) instead of launching a second one.
 *
 * Every remote command is an argv array ({@link RemoteTransport.exec}); a transport that needs one command string
 * (SSH) quotes each element ({@link quoteArgv} in `remote/Transport.ts`). User values never become shell text.
 */
import type { PluginManifestBase } from "@empo/core"
import { UserError } from "@empo/core/Errors"
import type { StageId } from "@empo/store"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/** What a finished remote command returned. */
export interface ExecResult {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
}

/** Options of one remote command. */
export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed (how secrets travel: never in argv or files). */
  readonly stdin?: string
  /** Receives each stdout line as it arrives (then `stdout` of the result is empty). */
  readonly onLine?: (line: string) => Effect.Effect<void>
}

/** A remote host could not be reached, refused us, or a transfer failed. Exit code 1 (2 when the inventory is wrong). */
export class TransportError extends UserError<TransportError>()("TransportError", {
  host: Schema.String,
  /** `connect`, `auth`, `host-key`, `exec`, `upload`, `download`, `closed` (the connection dropped mid-command). */
  operation: Schema.String,
  reason: Schema.String
}, {
  exitCode: (e) => e.operation === "host-key" || e.operation === "auth" ? 2 : 1,
  message: (e) => `${e.host}: ${e.operation}: ${e.reason}`
}) {}

/**
 * How the runner reaches one host: run an argv, move files. {@link localTransport} (this machine, `spawn` without a
 * shell) and the SSH transport (plugins/executor-ssh) implement it; the Slurm executor runs `sbatch` through either.
 */
export interface RemoteTransport {
  /** The host as the store and messages name it (`root@127.0.0.1:2222`, `local`). */
  readonly host: string
  readonly exec: (argv: ReadonlyArray<string>, options?: ExecOptions) => Effect.Effect<ExecResult, TransportError>
  /** Copies a local file to `remotePath` (its folder exists), atomically: written under a temporary name, then renamed. */
  readonly upload: (localPath: string, remotePath: string) => Effect.Effect<void, TransportError>
  /** Copies a remote file to `localPath` (its folder exists). */
  readonly download: (remotePath: string, localPath: string) => Effect.Effect<void, TransportError>
}

/** One host of an executor as the runner uses it. */
export interface RemoteHost {
  /** The name recorded in the store (`stage_jobs.host`) and used to find the host again on reattach. */
  readonly name: string
  readonly transport: RemoteTransport
  /** Absolute work dir on the host: `cas/`, `stages/`, `jobs/`, `worker/` live under it. */
  readonly workDir: string
  /** The Python that runs the worker there. */
  readonly python: string
}

/** Where one stage runs: a host and the GPUs reserved for it (released when the reservation's scope closes). */
export interface Placement {
  readonly host: RemoteHost
  /** GPU indices on the host (`CUDA_VISIBLE_DEVICES`) where the executor assigns them (SSH); else empty. */
  readonly gpus: ReadonlyArray<number>
  /**
   * How many GPUs the stage has: `gpus.length` on SSH; on Slurm and Ray what the job asks the engine for (`gres`,
   * `num_gpus`). A training stage with more than one runs under `accelerate launch`.
   */
  readonly gpuCount: number
}

/** What a stage asks {@link RemoteExecutor.reserve} for. */
export interface ReserveRequest {
  /** The inventory's `gpusPerStage` for the stage's kind; absent = the executor's default (one slot, no GPUs…). */
  readonly gpus?: number | undefined
  /** A reattached job keeps its host. */
  readonly host?: string | undefined
}

/** A worker request to run as one remote job. */
export interface RemoteJobSpec {
  /** Unique (stage id + attempt + random), recorded before launch; names the job dir and the engine's job. */
  readonly key: string
  readonly stageId: StageId
  /** `<workDir>/jobs/<key>` on the host; the runner has written `request.ndjson` into it. */
  readonly jobDir: string
  /** The worker command on the host: `[python, "-u", "<workDir>/worker/<hash>/worker.py"]`. */
  readonly workerArgv: ReadonlyArray<string>
  /** `python/empo_worker/job.py` on the host (stdlib only): the detached-job helper (launch, follow, status, cancel). */
  readonly jobScript: string
  /** Non-secret environment (PYTHONPATH, EMPO_WORKER_PLUGINS, CUDA_VISIBLE_DEVICES): may be written into job scripts. */
  readonly env: Readonly<Record<string, string>>
  /** Secrets (HF_TOKEN …): only ever passed through the launched process's environment, never argv, files or logs. */
  readonly secretEnv: Readonly<Record<string, string>>
}

/** A launched job, as the store keeps it (`stage_jobs`): enough to follow, query and cancel it after a restart. */
export interface JobRef {
  readonly key: string
  /** {@link RemoteHost.name}. */
  readonly host: string
  /** The engine's id: the supervisor's pid (SSH), the Slurm job id, the Ray task id. */
  readonly jobId: string
  /** Executor-specific JSON (job dir, process group, Slurm id…); round-trips through the store. */
  readonly locator: Readonly<Record<string, unknown>>
}

/** What the engine says about a job. */
export type JobState =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Running" }
  | { readonly _tag: "Exited"; readonly code: number | null; readonly signal: string | null; readonly reason?: string }
  /** The engine does not know the job (never started, or its records are gone). */
  | { readonly _tag: "Unknown"; readonly reason: string }

/** An executor-level failure (launch refused, job lost, cancelled from outside). Exit code 1. */
export class ExecutorError extends UserError<ExecutorError>()("ExecutorError", {
  executor: Schema.String,
  reason: Schema.String
}, {
  exitCode: 1,
  message: (e) => `executor ${e.executor}: ${e.reason}`
}) {}

/** What `empo executors check NAME` reports per host. */
export interface HostCheck {
  readonly host: string
  readonly reachable: boolean
  readonly error?: string
  readonly python?: string
  /** Package versions of the remote Python stack (torch, transformers, trl, …); absent ones are `null`. */
  readonly versions?: Readonly<Record<string, string | null>>
  readonly gpus?: ReadonlyArray<string>
  readonly freeDiskBytes?: number
}

/** A named executor made from an inventory entry (scoped: connections close with the scope). */
export interface RemoteExecutor {
  /** The inventory name (recorded as the stage's `executor`). */
  readonly name: string
  /** `ssh`, `slurm`, `ray`. */
  readonly kind: string
  /** Stages it runs at once: GPU slots across hosts (hosts × gpus, or the configured limit). */
  readonly capacity: number
  readonly hosts: ReadonlyArray<RemoteHost>
  /**
   * Waits for the stage's GPUs (all on one host; on `host` when given: a reattached job keeps its place); released
   * with the scope. A request no host can ever satisfy fails at once.
   */
  readonly reserve: (request: ReserveRequest) => Effect.Effect<Placement, ExecutorError, Scope.Scope>
  /** Starts the job detached from this process; idempotent for one key (a second launch returns the first job). */
  readonly launch: (placement: Placement, spec: RemoteJobSpec) => Effect.Effect<JobRef, ExecutorError | TransportError>
  /**
   * Streams the job's protocol lines from line `fromLine` (0-based) as they are written, until the job ended and every
   * line was read; returns how it ended. A dropped connection is retried; a job the engine lost is `Unknown`.
   */
  readonly follow: (ref: JobRef, fromLine: number, onLine: (line: string) => Effect.Effect<void>) => Effect.Effect<JobState, ExecutorError | TransportError>
  readonly state: (ref: JobRef) => Effect.Effect<JobState, ExecutorError | TransportError>
  /** Stops the job (SIGINT to its process group, then TERM, KILL / `scancel` / Ray cancel). */
  readonly cancel: (ref: JobRef) => Effect.Effect<void, ExecutorError | TransportError>
  readonly check: Effect.Effect<ReadonlyArray<HostCheck>>
}

/** What a plugin's `make` gets besides its entry. */
export interface ExecutorContext {
  /** The folder of the inventory file: relative key files and work dirs resolve against it. */
  readonly inventoryDir: string
  /** The local environment secrets are forwarded from (process.env in the app; a map in tests). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/**
 * An executor plugin: one executor kind (`ssh`, `slurm`, `ray`). `config` decodes one inventory entry of that kind
 * (its `kind` field included, unknown fields refused); the catalogue finds a plugin by `executorKind`.
 */
export interface ExecutorPlugin<Config = any> {
  readonly manifest: PluginManifestBase<"executor"> & { readonly version: string; readonly description: string }
  readonly executorKind: string
  readonly config: Schema.Schema<Config, any>
  readonly make: (name: string, config: Config, context: ExecutorContext) => Effect.Effect<RemoteExecutor, ExecutorError | TransportError, Scope.Scope>
}

/** Identity helper that checks a plugin value against {@link ExecutorPlugin}. */
export const defineExecutor = <Config>(plugin: ExecutorPlugin<Config>): ExecutorPlugin<Config> => plugin
