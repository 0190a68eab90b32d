import { TrainingBackendLive } from "@empo/bridge"
import { assertWellFormed, lossTrend, prepareSftModel, runPlugin, TrainJob } from "@empo/bridge/testing/stageRun"
import { resolveOptimizerParams } from "@empo/core/Optimizer"
import { GenerateRequest, Prediction, TrainingBackend } from "@empo/core/Training"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { dpoOptimizer } from "../src/index.ts"

describe("dpo plugin", () => {
  it_presets()

  layer(TrainingBackendLive, { timeout: 600_000, excludeTestServices: true })("through the real worker and TRL", (it) => {
    it.effect("SFT → DPO: the loss falls, reward accuracy on the training pairs ends above 0.5, the model reloads and generates, and a checkpoint resumes the step count", () =>
      Effect.gen(function*() {
        const { dir, sets, sft } = yield* prepareSftModel()
        const events = yield* runPlugin(dpoOptimizer, "tiny-cpu", { maxSteps: 30, saveSteps: 10 }, new TrainJob({
          model: sft, trainData: sets.pairs, evalData: sets.pairs, outputDir: path.join(dir, "dpo")
        }))
        assert.isTrue(assertWellFormed(events))
        const trend = lossTrend(events)
        assert.strictEqual(trend.count, 30)
        assert.isBelow(trend.last, trend.first)
        const lastLog = events.findLast((e) => e._tag === "log")!
        assert.containsAllKeys(lastLog._tag === "log" ? lastLog.metrics : {}, ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen"])
        const finished = events[events.length - 1]!
        if (finished._tag !== "finished") return assert.fail("no finished event")
        assert.isAbove(finished.metrics["eval_rewards/accuracies"]!, 0.5)
        assert.isTrue(finished.artifacts.some((a) => a.path === "model.safetensors"))
        assert.deepStrictEqual(events.filter((e) => e._tag === "checkpoint").map((e) => e._tag === "checkpoint" ? e.step : 0), [10, 20, 30])

        const backend = yield* TrainingBackend
        const output = path.join(dir, "predictions.jsonl")
        const generated = Chunk.toReadonlyArray(yield* Stream.runCollect(backend.generate(new GenerateRequest({
          model: path.join(dir, "dpo"), items: sets.items, output, systemPrompt: "You are a kind listener.", limit: 4
        }))))
        assert.strictEqual(generated[generated.length - 1]?._tag, "finished")
        const predictions = fs.readFileSync(output, "utf8").trim().split("\n").map((line) => Schema.decodeUnknownSync(Schema.parseJson(Prediction))(line))
        assert.deepStrictEqual(predictions.map((p) => p.id), ["ed-0", "ed-1", "ed-2", "ed-3"])

        const resumed = yield* runPlugin(dpoOptimizer, "tiny-cpu", { maxSteps: 14 }, new TrainJob({
          model: sft, trainData: sets.pairs, outputDir: path.join(dir, "dpo-resumed"), resumeFrom: path.join(dir, "dpo.checkpoints", "checkpoint-10")
        }))
        const started = resumed[0]!
        assert.strictEqual(started._tag === "started" ? started.startStep : -1, 10)
        const resumedSteps = resumed.flatMap((e) => (e._tag === "log" ? [e.step] : []))
        assert.deepStrictEqual(resumedSteps, [11, 12, 13, 14])
      }), 600_000)
  })
})

function it_presets() {
  layer(NodeContext.layer)("presets", (it) => {
    it.effect("d270 reproduces the study's DPO settings", () =>
      Effect.gen(function*() {
        const params = yield* resolveOptimizerParams(dpoOptimizer, { preset: "d270" })
        assert.strictEqual(params.learningRate, 1e-6)
        assert.strictEqual(params.beta, 0.052)
        assert.strictEqual(params.batchSize, 64)
        assert.strictEqual(params.scheduler, "cosine")
        assert.strictEqual(params.warmupRatio, 0.1)
      }))
    it.effect("unknown presets and keys are input errors that list what is known", () =>
      Effect.gen(function*() {
        const unknownPreset = yield* Effect.flip(resolveOptimizerParams(dpoOptimizer, { preset: "d999" }))
        assert.include(unknownPreset.message, "known: d270, tiny-cpu")
        const kto = yield* Effect.flip(resolveOptimizerParams(dpoOptimizer, { overrides: { learningRate: 1e-4, desirableWeight: 2 } }))
        assert.strictEqual(kto._tag, "InputError")
        assert.include(kto.message, "desirableWeight")
      }))
  })
}
