/**
 * The runner's side of the executor contract, the same for every executor kind: a stage placed on a remote
 * executor runs its own (unchanged) TypeScript code here, with its paths mapped to the host and a training backend
 * whose one worker request runs there as a job. See `../Executor.ts` for the steps.
 */
import { decodeWorkerMessage } from "@empo/bridge/Protocol"
import {
  GenerateEvent,
  GenerateRequest as GenerateRequestSchema,
  TinyModelInfo,
  TinyModelRequest as TinyModelRequestSchema,
  TrainEvent,
  TrainingBackend,
  TrainingError,
  TrainRequest as TrainRequestSchema,
  WorkerVersions
} from "@empo/core/Training"
import type { RunStore, StageId, StageJobRecord } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes, createHash } from "node:crypto"
import * as NodeFs from "node:fs"
import type { ExecutorError, JobRef, JobState, Placement, RemoteExecutor, RemoteHost, RemoteJobSpec, TransportError } from "../Executor.ts"
import { type AccelerateSpec, type ExecutorEntry, gpusPerStageOf } from "../Inventory.ts"
import { RemoteTrainingBackend, type StageContext } from "../Stage.ts"
import { type StageExecutor, StageFailure } from "../StageExecutors.ts"
import { execOk, fetchDir, type FileToSend, filesOfDir, type SendReport, sendFiles } from "./Transport.ts"

/** Everything the runner needs to place stages on one named executor. */
export interface RemoteSetup {
  readonly executor: RemoteExecutor
  readonly entry: ExecutorEntry
  /** The local environment `forwardEnv` reads secrets from. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The local `python/` folder (worker.py and empo_worker/): uploaded to each host, content-addressed. */
  readonly workerRoot: string
}

/** The host layout under its work dir. */
export const remoteLayout = (host: RemoteHost) => ({
  cas: `${host.workDir}/cas`,
  stage: (id: string) => `${host.workDir}/stages/${id}`,
  partial: (id: string) => `${host.workDir}/partial/${id}`,
  checkpoints: (id: string) => `${host.workDir}/checkpoints/${id}`,
  job: (key: string) => `${host.workDir}/jobs/${key}`,
  worker: (hash: string) => `${host.workDir}/worker/${hash}`
})

/** The worker's files under `root`: worker.py and the empo_worker package (no caches, no tests). */
export const workerFiles = (root: string): Effect.Effect<{ readonly files: Array<FileToSend>; readonly hash: string }, TransportError> =>
  Effect.map(filesOfDir(root), (all) => {
    const files = all.filter((f) => (f.relativePath === "worker.py" || f.relativePath.startsWith("empo_worker/")) &&
      f.relativePath.endsWith(".py") && !f.relativePath.includes("__pycache__"))
    const hash = createHash("sha256").update(files.map((f) => `${f.relativePath} ${f.sha256}`).join("\n")).digest("hex").slice(0, 16)
    return { files, hash }
  })

const asStageFailure = (executor: string) => (e: TransportError | ExecutorError | { readonly message: string }): StageFailure =>
  new StageFailure({ reason: `executor ${executor}: ${e.message}` })

const jobKeyOf = (stage: StageId) => `${stage.slice(0, 40)}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`

/**
 * The remote worker's environment: the slot's GPUs (`CUDA_VISIBLE_DEVICES`), the entry's `env`, and, apart, the
 * `forwardEnv` secrets read from the local environment (which travel only into the process environment).
 */
export const jobEnvironment = (setup: Pick<RemoteSetup, "entry" | "env">, placement: Pick<Placement, "gpus">) => {
  const secretEnv: Record<string, string> = {}
  for (const name of setup.entry.forwardEnv) {
    const value = setup.env[name]
    if (value !== undefined && value !== "") secretEnv[name] = value
  }
  const env: Record<string, string> = {
    PYTHONUNBUFFERED: "1", TOKENIZERS_PARALLELISM: "false",
    ...(placement.gpus.length > 0 ? { CUDA_VISIBLE_DEVICES: placement.gpus.join(",") } : {}),
    ...setup.entry.env
  }
  return { env, secretEnv }
}

/** How a training request starts on the host: the worker itself, or `accelerate launch` behind multi_gpu.py. */
export interface TrainLaunch {
  readonly argv: ReadonlyArray<string>
  /** Added to the job's environment (PYTHONPATH: `-m empo_worker.multi_gpu` and its ranks import the uploaded worker). */
  readonly env: Readonly<Record<string, string>>
  /** Processes (one per GPU, or CPU processes); 1 = the plain worker. */
  readonly processes: number
  readonly description: string
}

/** Processes of a training with `gpuCount` GPUs: one per GPU, or `cpuProcesses` when it has none; 1 = the plain worker. */
export const trainProcesses = (accelerate: AccelerateSpec, gpuCount: number): { readonly processes: number; readonly onCpu: boolean } => {
  const onCpu = gpuCount === 0 && (accelerate.cpuProcesses ?? 1) > 1
  return { processes: onCpu ? accelerate.cpuProcesses! : Math.max(1, Math.floor(gpuCount)), onCpu }
}

/**
 * A training stage with more than one GPU (or `accelerate.cpuProcesses` on a host without GPUs) runs
 * `python -m empo_worker.multi_gpu --processes N --backend B [--option k=v …] [--cpu]`: the generated accelerate
 * config, one process per GPU, rank 0 speaking the protocol. Everything else is the plain worker.
 */
export const trainLaunch = (
  host: Pick<RemoteHost, "python">,
  worker: { readonly argv: ReadonlyArray<string>; readonly dir: string },
  accelerate: AccelerateSpec,
  gpuCount: number,
  entryEnv: Readonly<Record<string, string>> = {}
): TrainLaunch => {
  const { processes, onCpu } = trainProcesses(accelerate, gpuCount)
  if (processes === 1) return { argv: worker.argv, env: {}, processes, description: "" }
  const options = Object.entries(accelerate.options).flatMap(([key, value]) => ["--option", `${key}=${JSON.stringify(value)}`])
  const pythonPath = entryEnv["PYTHONPATH"] === undefined ? worker.dir : `${worker.dir}:${entryEnv["PYTHONPATH"]}`
  return {
    argv: [host.python, "-u", "-m", "empo_worker.multi_gpu", "--processes", String(processes), "--backend", accelerate.backend, ...options, ...(onCpu ? ["--cpu"] : [])],
    env: { PYTHONPATH: pythonPath },
    processes,
    description: `accelerate launch: ${processes} ${onCpu ? "CPU processes" : "GPUs"}, ${accelerate.backend}`
  }
}

/** One worker message line of a job, as the follower sees it. */
type Outcome = { readonly _tag: "result"; readonly value: unknown } | { readonly _tag: "error"; readonly error: TrainingError }

/** What one remote request needs besides its method and payload. */
interface RequestContext {
  readonly setup: RemoteSetup
  readonly store: RunStore["Type"]
  readonly stage: StageContext
  readonly placement: Placement
  readonly workerArgv: ReadonlyArray<string>
  /** How a `train` request starts (other requests use {@link workerArgv}). */
  readonly train: TrainLaunch
  readonly jobScript: string
  /** The stage's open job from an earlier runner, followed instead of launching (used once). */
  reattach: StageJobRecord | undefined
}

const tailOf = (host: RemoteHost, jobDir: string) =>
  host.transport.exec(["tail", "-n", "40", "--", `${jobDir}/stderr.log`]).pipe(Effect.map((r) => r.stdout.trim()), Effect.orElseSucceed(() => ""))

/**
 * Runs one worker request as a remote job: recorded in the store before launch, followed line by line (events to
 * `onEvent`), cancelled when interrupted. A reattached job is followed again from its first line (its metric points
 * are replayed after the old ones are removed).
 */
const remoteRequest = (ctx: RequestContext, method: string, payload: unknown, onEvent: (event: unknown) => Effect.Effect<void, TrainingError>) =>
  Effect.gen(function* () {
    const { setup, store, placement } = ctx
    const host = placement.host
    const layout = remoteLayout(host)
    const executorName = setup.executor.name
    const stageId = ctx.stage.stage.id
    const transportFailure = (e: TransportError | ExecutorError) => new TrainingError({ kind: "crashed", reason: `executor ${executorName}: ${e.message}` })
    const storeFailure = (e: { readonly message: string }) => new TrainingError({ kind: "failed", reason: `store: ${e.message}` })

    const { env: baseEnv, secretEnv } = jobEnvironment(setup, placement)
    const launchAs = method === "train" ? ctx.train : undefined
    const env = { ...baseEnv, ...launchAs?.env }
    const reattach = ctx.reattach
    ctx.reattach = undefined
    let ref: JobRef
    if (reattach !== undefined && reattach.state === "launched") {
      ref = { key: reattach.jobKey, host: reattach.host, jobId: reattach.jobId, locator: JSON.parse(reattach.locatorJson) as Record<string, unknown> }
      yield* store.deleteMetricPoints(stageId).pipe(Effect.mapError(storeFailure))
      // This attempt follows that job: the stage and its attempt name it again.
      yield* store.updateStageJob(ref.key, { jobId: ref.jobId }).pipe(Effect.mapError(storeFailure))
      yield* ctx.stage.progress(`reattached to job ${ref.jobId} on ${ref.host}`)
    } else {
      const key = reattach?.jobKey ?? jobKeyOf(stageId)
      const jobDir = layout.job(key)
      const spec: RemoteJobSpec = {
        key, stageId, jobDir, workerArgv: launchAs?.argv ?? ctx.workerArgv, jobScript: ctx.jobScript, env, secretEnv
      }
      if (reattach === undefined) {
        // A fresh attempt: the worker refuses an existing output folder, and the request goes into the job dir.
        yield* execOk(host.transport, ["rm", "-rf", "--", ctx.stage.outputDir]).pipe(Effect.mapError(transportFailure))
        yield* execOk(host.transport, ["sh", "-c", `mkdir -p -- "$1" && cat > "$1/request.ndjson"`, "sh", jobDir], {
          stdin: JSON.stringify({ id: 1, _tag: method, payload }) + "\n"
        }).pipe(Effect.mapError(transportFailure))
        yield* store.recordStageJob({ jobKey: key, stageId, executor: executorName, kind: setup.executor.kind, host: host.name, jobId: key, locator: { jobDir } }).pipe(
          Effect.mapError(storeFailure))
      }
      ref = yield* setup.executor.launch(placement, spec).pipe(Effect.mapError(transportFailure))
      yield* store.updateStageJob(key, { state: "launched", jobId: ref.jobId, locator: ref.locator }).pipe(Effect.mapError(storeFailure))
      yield* ctx.stage.progress(`job ${ref.jobId} on ${ref.host}${launchAs === undefined || launchAs.processes === 1 ? "" : ` (${launchAs.description})`}`)
    }

    let outcome: Outcome | undefined
    let lines = 0
    const onLine = (line: string): Effect.Effect<void> => Effect.gen(function* () {
      lines++
      if (line.trim() === "") return
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        return
      }
      const message = decodeWorkerMessage(parsed)
      if (Option.isNone(message)) return
      const msg = message.value
      if (msg._tag === "event") {
        const handled = yield* Effect.either(onEvent(msg.event))
        if (handled._tag === "Left" && outcome === undefined) outcome = { _tag: "error", error: handled.left }
      } else if (msg._tag === "result" && msg.id === 1) outcome = { _tag: "result", value: msg.value }
      else if (msg._tag === "error" && (msg.id === 1 || msg.id === null)) {
        outcome = {
          _tag: "error",
          error: new TrainingError({
            kind: msg.kind === "input" ? "input" : msg.kind === "missing" ? "missing" : msg.kind === "cancelled" ? "cancelled" : "failed",
            reason: msg.message,
            ...(msg.kind === "failed" ? { pythonType: msg.type, traceback: msg.traceback } : {})
          })
        }
      }
    })
    const followed = yield* setup.executor.follow(ref, 0, onLine).pipe(
      Effect.onInterrupt(() => setup.executor.cancel(ref).pipe(
        Effect.zipRight(store.updateStageJob(ref.key, { state: "cancelled", linesRead: lines })), Effect.ignore)),
      // The job may still run on the host: it stays `launched`, so a rerun reattaches to it.
      Effect.mapError((e) => new TrainingError({ kind: "crashed", reason: `executor ${executorName}: lost contact with job ${ref.jobId} on ${ref.host} (${e.message}); rerun to reattach` })))
    const closeAs = (state: "collected" | "failed" | "lost") => store.updateStageJob(ref.key, { state, linesRead: lines }).pipe(Effect.mapError(storeFailure))
    if (outcome?._tag === "result") {
      yield* closeAs("collected")
      return outcome.value
    }
    if (outcome?._tag === "error") {
      yield* closeAs("failed")
      return yield* outcome.error
    }
    const stderrTail = yield* tailOf(host, String(ref.locator["jobDir"] ?? layout.job(ref.key)))
    yield* closeAs(followed._tag === "Unknown" ? "lost" : "failed")
    return yield* new TrainingError({ kind: "crashed", reason: `${describeEnd(followed)} on ${ref.host} (job ${ref.jobId}) before it answered${stderrTail === "" ? "" : `; last stderr:\n${stderrTail}`}` })
  })

const describeEnd = (state: JobState): string => {
  switch (state._tag) {
    case "Exited": return `the worker exited (${state.signal === null ? `exit code ${state.code}` : `signal ${state.signal}`})${state.reason === undefined ? "" : `: ${state.reason}`}`
    case "Unknown": return `the job was lost (${state.reason})`
    default: return "the job ended"
  }
}

const protocolBug = (what: string) => (error: ParseResult.ParseError) =>
  new TrainingError({ kind: "failed", reason: `the remote worker sent a malformed ${what}: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })

/** A {@link TrainingBackend} whose requests are remote jobs (what {@link RemoteTrainingBackend} provides). */
const remoteBackend = (ctx: RequestContext): TrainingBackend["Type"] => {
  const streamOf = <A, I>(schema: Schema.Schema<A, I>, what: string, method: string, payload: unknown): Stream.Stream<A, TrainingError> =>
    Stream.asyncScoped<A, TrainingError>((emit) =>
      remoteRequest(ctx, method, payload, (event) =>
        Schema.decodeUnknown(schema)(event).pipe(Effect.mapError(protocolBug(what)), Effect.flatMap((a) => Effect.promise(() => emit.single(a))), Effect.asVoid)
      ).pipe(
        Effect.matchEffect({ onFailure: (e) => Effect.promise(() => emit.fail(e)), onSuccess: () => Effect.promise(() => emit.end()) }),
        Effect.forkScoped
      ))
  const callOf = <A, I>(schema: Schema.Schema<A, I>, what: string, method: string, payload: unknown) =>
    remoteRequest(ctx, method, payload, () => Effect.void).pipe(Effect.flatMap((value) => Schema.decodeUnknown(schema)(value).pipe(Effect.mapError(protocolBug(what)))))
  return TrainingBackend.of({
    train: (request) => streamOf(TrainEvent, "training event", "train", Schema.encodeSync(TrainRequestSchema)(request)),
    generate: (request) => streamOf(GenerateEvent, "generation event", "generate", Schema.encodeSync(GenerateRequestSchema)(request)),
    tinyModel: (request) => callOf(TinyModelInfo, "tiny model result", "tinyModel", Schema.encodeSync(TinyModelRequestSchema)(request)),
    versions: callOf(WorkerVersions, "versions result", "versions", {})
  })
}

/**
 * Wraps node executors for one remote executor. The worker upload is memoised per host for the run; each stage:
 * reserve a slot (its old host when reattaching) → send upstream folders → run the stage with host paths and a
 * remote backend → fetch its output into the local partial folder the runner places.
 */
export const makeRemoteStages = (setup: RemoteSetup, store: RunStore["Type"]) =>
  Effect.gen(function* () {
    const reports: Array<SendReport & { readonly host: string; readonly what: string }> = []
    const worker = yield* workerFiles(setup.workerRoot).pipe(Effect.cached)
    const uploadWorker = yield* Effect.cachedFunction((hostName: string) => Effect.gen(function* () {
      const host = setup.executor.hosts.find((h) => h.name === hostName)!
      const { files, hash } = yield* worker
      const target = remoteLayout(host).worker(hash)
      const report = yield* sendFiles(host.transport, remoteLayout(host).cas, target, files)
      reports.push({ ...report, host: host.name, what: "worker" })
      return { argv: [host.python, "-u", `${target}/worker.py`], dir: target, jobScript: `${target}/empo_worker/job.py` }
    }))

    const wrap = (base: StageExecutor): StageExecutor => (context) => Effect.scoped(Effect.gen(function* () {
      const name = setup.executor.name
      const stage = context.stage
      const jobs = yield* store.stageJobsOf(stage.id).pipe(Effect.mapError(asStageFailure(name)))
      const open = jobs.findLast((j) => (j.state === "submitted" || j.state === "launched") && j.executor === name)
      const placement = yield* setup.executor.reserve({ gpus: gpusPerStageOf(setup.entry, stage.kind), host: open?.host }).pipe(
        Effect.mapError(asStageFailure(name)))
      const host = placement.host
      const layout = remoteLayout(host)
      const uploaded = yield* uploadWorker(host.name).pipe(Effect.mapError(asStageFailure(name)))
      const upstream: Record<string, string> = {}
      for (const [role, dir] of Object.entries(context.upstream)) {
        const dep = stage.deps[role]
        if (dep === undefined || !NodeFs.existsSync(dir)) {
          upstream[role] = dir
          continue
        }
        const files = yield* filesOfDir(dir).pipe(Effect.mapError(asStageFailure(name)))
        const report = yield* sendFiles(host.transport, layout.cas, layout.stage(dep), files).pipe(Effect.mapError(asStageFailure(name)))
        reports.push({ ...report, host: host.name, what: dep })
        upstream[role] = layout.stage(dep)
      }
      const remoteContext: StageContext = {
        ...context, outputDir: layout.partial(stage.id), checkpointDir: layout.checkpoints(stage.id), upstream
      }
      const request: RequestContext = {
        setup, store, stage: remoteContext, placement, workerArgv: uploaded.argv, jobScript: uploaded.jobScript, reattach: open,
        train: trainLaunch(host, uploaded, setup.entry.accelerate, placement.gpuCount, setup.entry.env)
      }
      const result = yield* base(remoteContext).pipe(
        Effect.provideService(RemoteTrainingBackend, Layer.succeed(TrainingBackend, remoteBackend(request))))
      yield* fetchDir(host.transport, remoteContext.outputDir, context.outputDir, layout.cas).pipe(Effect.mapError(asStageFailure(name)))
      // The remote copy now lives in the host's CAS and `stages/<id>` (when a later stage needs it); the partial goes.
      yield* execOk(host.transport, ["rm", "-rf", "--", remoteContext.outputDir]).pipe(Effect.ignore)
      // As the local runner does: a completed stage's checkpoints go, so a later run of the same stage id (a fresh
      // store) trains from the start instead of "resuming" a finished training.
      yield* execOk(host.transport, ["rm", "-rf", "--", remoteContext.checkpointDir]).pipe(Effect.ignore)
      return result
    }))

    return { wrap, reports }
  })
