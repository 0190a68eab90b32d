// The shared metric contract through the real worker with a tiny RoBERTa built from the EPITOME posts (`tiny:`),
// offline on CPU. Exactness against the formula is in python/tests/test_bertscore.py.
import { WorkerClientLive } from "@empo/bridge"
import { WorkerClient } from "@empo/core/Worker"
import { sharedData } from "@empo/core/testing/sharedData"
import { metricContract } from "@empo/metrics/testing/metricContract"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { plugin } from "../src/index.ts"

process.env["EMPO_CACHE"] ??= path.join(os.tmpdir(), "empo-contract-cache")
process.env["EMPO_TORCH_THREADS"] ??= "1"

// One worker for the whole file: the suite builds the metric in one effect and scores in another, so the worker
// must outlive each build's scope.
const runtime = ManagedRuntime.make(WorkerClientLive())
const worker = await runtime.runPromise(WorkerClient)
afterAll(() => runtime.dispose())

metricContract(plugin, {
  params: { model: `tiny:${sharedData("epitome", "train.csv")}`, layer: 2, idf: true },
  badParams: { rescale: true },
  worker: Layer.succeed(WorkerClient, worker),
  timeout: 240_000
})
