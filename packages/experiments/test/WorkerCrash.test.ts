import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { makeTrainingBackend, PythonWorker, toTrainingError, WorkerClientLive } from "@empo/bridge"
import { TrainingBackend } from "@empo/core/Training"
import { repoRoot, sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import { MetricRegistry, MetricRunner } from "@empo/metrics"
import { RunStore } from "@empo/store"
import { NltkTokenizer } from "@empo/text"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as path from "node:path"
import { Runner } from "../src/Runner.ts"
import { StageServices } from "../src/Stage.ts"
import { StageExecutors } from "../src/StageExecutors.ts"
import { loadExperiment } from "../src/SpecLoader.ts"
import { TestPlugins, testMetrics } from "./fixtures/plugins.ts"

const fixture = path.join(repoRoot(), "experiments/_fixtures/worker-crash/experiment.yaml")
const fakeWorker = path.join(import.meta.dirname, "fixtures/fake_worker.py")

// The real executors and bridge, with the worker script swapped for one that misbehaves on purpose.
const runWith = (mode: "raise" | "sigkill" | "garbage" | "hang") =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const backend = Layer.effect(TrainingBackend, makeTrainingBackend).pipe(
      Layer.provide(PythonWorker.layerWith({ script: fakeWorker, env: { EMPO_FAKE_MODE: mode }, signalGrace: "1 second", cancelGrace: "1 second" })),
      Layer.mapError(toTrainingError)
    )
    const layer = Runner.layer.pipe(
      Layer.provide(StageExecutors.fromCatalog),
      Layer.provide(Layer.succeed(StageServices, StageServices.of({
        trainingBackend: backend,
        worker: (plugins) => WorkerClientLive({ plugins }),
        tokenizer: NltkTokenizer.layerFromFile(sharedData("nltk/punkt_english.json"))
      }))),
      Layer.provide(MetricRunner.layer.pipe(Layer.provide(MetricRegistry.layer(testMetrics)))),
      Layer.provideMerge(RunStore.layer(path.join(dir, "empo.db"))),
      Layer.provideMerge(TestPlugins),
      Layer.provideMerge(NodeContext.layer)
    )
    return yield* Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      const summary = yield* (yield* Runner).run(plan, { workDir: path.join(dir, "stages"), concurrency: 2, retryFailed: false, host: "test", pid: process.pid })
      const stages = yield* (yield* RunStore).stagesOf(plan.name)
      return { summary, stages }
    }).pipe(Effect.provide(layer))
  }).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()]]))),
    Effect.provide(NodeContext.layer)
  )

describe("a misbehaving Python worker fails only its own stage", () => {
  for (const [mode, expectedError] of [
    ["raise", "RuntimeError: boom"],
    ["sigkill", "the Python worker died (signal SIGKILL)"],
    // The bridge skips stray stdout lines, so a worker that prints garbage and never answers is caught by the stage timeout.
    ["garbage", "timed out after 8 s"],
    ["hang", "timed out after 8 s"]
  ] as const) {
    it.scopedLive(`worker ${mode}`, () =>
      Effect.gen(function* () {
        const { summary, stages } = yield* runWith(mode)
        assert.deepStrictEqual(summary.runs.map((r) => r.status), ["completed", "failed"])
        const models = stages.filter((s) => s.kind === "tiny-model")
        const failed = models.find((s) => s.status === "failed")!
        assert.isDefined(failed)
        assert.include(failed.error ?? "", expectedError)
        if (mode === "raise") assert.include(failed.stderrTail ?? "", "RuntimeError: boom")
        if (mode === "sigkill") assert.include(failed.stderrTail ?? "", "about to misbehave (sigkill)")
        assert.isTrue(models.some((s) => s.status === "completed"))
        assert.isTrue(stages.some((s) => s.kind === "generate" && s.status === "completed"))
        assert.isTrue(stages.some((s) => s.kind === "generate" && s.status === "pending"))
      }), 60_000)
  }
})
