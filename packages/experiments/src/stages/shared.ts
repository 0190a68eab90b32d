import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import type { TrainingBackend } from "@empo/core/Training"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { RemoteTrainingBackend, StageServices } from "../Stage.ts"
import { fileSystemFailure, StageFailure } from "../StageExecutors.ts"

/** File names inside a stage's output folder. */
export const StageFiles = { data: "data.jsonl", items: "items.jsonl", predictions: "predictions.jsonl", scores: "scores.json" } as const

/**
 * Turns a library or worker failure into the stage's failure. The bridge puts a dead worker's last stderr lines
 * into the message; the store keeps them as the stage's tail.
 */
export const failWith = (what: string) => (error: { readonly message: string; readonly traceback?: string | undefined }) => {
  const marker = error.message.indexOf("last stderr:")
  const tail = error.traceback ?? (marker < 0 ? undefined : error.message.slice(marker + "last stderr:".length).trim())
  return new StageFailure({ reason: `${what}: ${marker < 0 ? error.message : error.message.slice(0, marker).replace(/[;\s]+$/, "")}`, ...(tail === undefined ? {} : { stderrTail: tail }) })
}

/** Keeps StageFailures as they are and wraps everything else (a layer that could not be built, a worker error). */
export const asStageFailure = (what: string) => (error: unknown): StageFailure =>
  error instanceof StageFailure ? error : failWith(what)(error as { readonly message: string })

/** Creates the stage's output folder (for executors that write files themselves). */
export const ensureDir = (dir: string): Effect.Effect<void, StageFailure, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeDirectory(dir, { recursive: true })).pipe(
    Effect.mapError((e: PlatformError) => fileSystemFailure()(e)))

/** The model a node starts from: its upstream model stage's folder, else the reference in its inputs. */
export const modelPath = (upstream: Readonly<Record<string, string>>, inputs: { readonly model?: string | undefined }): string =>
  upstream["model"] ?? inputs.model ?? ""

/** Runs a stage body with a fresh worker behind the training backend (one process per stage: a crash stays in it). */
export const withTrainingBackend = <A, R>(body: Effect.Effect<A, StageFailure, R | TrainingBackend>): Effect.Effect<A, StageFailure, Exclude<R, TrainingBackend> | StageServices> =>
  Effect.flatMap(Effect.serviceOption(RemoteTrainingBackend), (remote) =>
    Effect.flatMap(StageServices, (services) =>
      body.pipe(Effect.provide(Option.getOrElse(remote, () => services.trainingBackend)), Effect.mapError(asStageFailure("python worker")))))
