/** Test-only: one real Python worker for a whole test file, for suites that need it to outlive a single effect. */
import { WorkerClient } from "@empo/core/Worker"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { WorkerClientLive } from "../WorkerClientLive.ts"

/**
 * Starts a worker now and stops it after the file's tests, as a layer that hands out that one worker. The metric
 * contract builds a metric in one effect and scores in another, so a worker scoped to each build would be gone by
 * the time it scores. Unless the environment says otherwise, tiny encoders are cached in one temp folder across
 * test files and torch runs on one thread (the machine is shared).
 */
export const fileWorker = async (): Promise<Layer.Layer<WorkerClient>> => {
  process.env["EMPO_CACHE"] ??= path.join(os.tmpdir(), "empo-contract-cache")
  process.env["EMPO_TORCH_THREADS"] ??= "1"
  const runtime = ManagedRuntime.make(WorkerClientLive())
  const worker = await runtime.runPromise(WorkerClient)
  afterAll(() => runtime.dispose())
  return Layer.succeed(WorkerClient, worker)
}
