import { makeTrainingBackend, PythonWorker, toTrainingError } from "@empo/bridge"
import { assertWellFormed, lossTrend, prepareSftModel, runPlugin, TrainJob } from "@empo/bridge/testing/stageRun"
import { resolveOptimizerParams } from "@empo/core/Optimizer"
import { TrainingBackend } from "@empo/core/Training"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { sftOptimizer } from "../src/index.ts"

const WorkerAndBackend = Layer.effect(TrainingBackend, makeTrainingBackend).pipe(
  Layer.provideMerge(PythonWorker.layer),
  Layer.mapError(toTrainingError)
)

describe("sft plugin", () => {
  layer(NodeContext.layer)("presets", (it) => {
    it.effect("full124 reproduces the study's SFT adapter settings", () =>
      Effect.gen(function*() {
        const params = yield* resolveOptimizerParams(sftOptimizer, { preset: "full124" })
        assert.deepInclude(params, { learningRate: 1e-5, batchSize: 64, epochs: 1, maxLength: 256, maxGradNorm: 0.3 })
        assert.deepInclude(params.lora!, { r: 1024, alpha: 64, dropout: 0.1, quantize4bit: true })
        assert.lengthOf(params.lora!.targetModules, 7)
      }))
    it.effect("a comma list on the command line becomes LoRA target modules", () =>
      Effect.gen(function*() {
        const params = yield* resolveOptimizerParams(sftOptimizer, { overrides: { learningRate: 1e-3, lora: { r: 8, alpha: 16, targetModules: "q_proj,v_proj" } } })
        assert.deepStrictEqual(params.lora!.targetModules, ["q_proj", "v_proj"])
      }))
  })

  layer(WorkerAndBackend, { timeout: 600_000, excludeTestServices: true })("through the real worker and TRL", (it) => {
    it.effect("SFT with LoRA trains on assistant turns; QLoRA is refused without CUDA; killing the worker mid-run leaves nothing final", () =>
      Effect.gen(function*() {
        const { dir, sets } = yield* prepareSftModel(4)
        const tiny = path.join(dir, "tiny")
        const lora = yield* runPlugin(sftOptimizer, "tiny-cpu", { maxSteps: 20, learningRate: 5e-3, lora: { r: 8, alpha: 16 } }, new TrainJob({
          model: tiny, trainData: sets.sft, outputDir: path.join(dir, "sft-lora")
        }))
        assert.isTrue(assertWellFormed(lora))
        const trend = lossTrend(lora)
        assert.isBelow(trend.last, trend.first)
        assert.isTrue(fs.existsSync(path.join(dir, "sft-lora", "adapter_config.json")))

        const qlora = yield* Effect.flip(runPlugin(sftOptimizer, "full124", { maxSteps: 1 }, new TrainJob({
          model: tiny, trainData: sets.sft, outputDir: path.join(dir, "sft-qlora")
        })))
        assert.strictEqual(qlora._tag, "TrainingError")
        assert.include(qlora.message, "needs a CUDA device")
        assert.strictEqual((qlora as { exitCode: number }).exitCode, 2)

        const worker = yield* PythonWorker
        const killed = yield* Effect.flip(
          runPlugin(sftOptimizer, "tiny-cpu", { maxSteps: 5000 }, new TrainJob({ model: tiny, trainData: sets.sft, outputDir: path.join(dir, "sft-killed") })).pipe(
            Effect.raceFirst(Effect.sleep("100 millis").pipe(Effect.repeat({ until: () => fs.existsSync(path.join(dir, "sft-killed.checkpoints")) }), Effect.zipRight(Effect.sleep("2 seconds")), Effect.zipRight(Effect.sync(() => process.kill(worker.pid, "SIGKILL"))), Effect.zipRight(Effect.never)))
          )
        )
        assert.strictEqual(killed._tag, "TrainingError")
        if (killed._tag === "TrainingError") assert.strictEqual(killed.kind, "crashed")
        assert.isFalse(fs.existsSync(path.join(dir, "sft-killed")))
      }), 600_000)
  })
})
