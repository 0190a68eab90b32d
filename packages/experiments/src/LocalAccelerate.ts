/**
 * Several GPUs for a training stage that runs on this machine: a `kind: local` inventory entry with
 * `gpusPerStage: { train: N }` (or `accelerate.cpuProcesses`) starts that stage's worker as
 * `python -m empo_worker.multi_gpu` under `accelerate launch`, exactly as a remote host does (see
 * `remote/RemoteStage.ts` → {@link trainLaunch}). Other stages, and a single-GPU training, keep the plain worker.
 */
import { findPython } from "@empo/bridge/PythonInterpreter"
import { PythonWorker } from "@empo/bridge/PythonWorker"
import { makeTrainingBackend, toTrainingError } from "@empo/bridge/TrainingBackendLive"
import { pythonRoot, workerScript } from "@empo/bridge/WorkerLaunch"
import { TrainingBackend } from "@empo/core/Training"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { type ExecutorEntry, gpusPerStageOf } from "./Inventory.ts"
import { trainLaunch, trainProcesses } from "./remote/RemoteStage.ts"
import { RemoteTrainingBackend } from "./Stage.ts"
import { type StageExecutor, StageFailure } from "./StageExecutors.ts"

/** Whether an entry makes local training stages multi-process at all (else the runner leaves them alone). */
export const wantsLocalAccelerate = (entry: ExecutorEntry): boolean =>
  entry.kind === "local" && trainProcesses(entry.accelerate, localTrainGpus(entry)).processes > 1

// As on a remote host: `gpusPerStage.train` GPUs; unset or 0, `cpuProcesses` (if any) CPU processes.
const localTrainGpus = (entry: ExecutorEntry) => gpusPerStageOf(entry, "train") ?? 0

/**
 * Wraps the `train` executor: its one worker request goes to a `multi_gpu` process (its own folder for the generated
 * `accelerate.json`, `request.json` and `ranks/`, removed after the stage). Local GPUs are not scheduled: the
 * processes see this machine's `CUDA_VISIBLE_DEVICES`.
 */
export const localAccelerate = (entry: ExecutorEntry) => (base: StageExecutor): StageExecutor => (context) =>
  Effect.gen(function* () {
    const python = yield* findPython.pipe(Effect.mapError((e) => new StageFailure({ reason: e.message })))
    const launch = trainLaunch({ python: python.executable }, { argv: [python.executable, "-u", workerScript], dir: pythonRoot }, entry.accelerate,
      localTrainGpus(entry), entry.env)
    if (launch.processes === 1) return yield* base(context)
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "empo-accelerate-"))),
      (made) => Effect.sync(() => NodeFs.rmSync(made, { recursive: true, force: true })))
    yield* context.progress(launch.description)
    const backend = Layer.effect(TrainingBackend, makeTrainingBackend).pipe(
      Layer.provide(PythonWorker.layerWith({
        launch: { executable: launch.argv[0]!, args: launch.argv.slice(1), env: { ...entry.env, ...launch.env }, cwd: dir }
      })),
      Layer.mapError(toTrainingError))
    return yield* base(context).pipe(Effect.provideService(RemoteTrainingBackend, backend))
  }).pipe(Effect.scoped)
