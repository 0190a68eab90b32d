import { TrainingBackendLive } from "@empo/bridge"
import { assertWellFormed, lossTrend, prepareSftModel, runPlugin, TrainJob } from "@empo/bridge/testing/stageRun"
import { resolveOptimizerParams } from "@empo/core/Optimizer"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { ktoOptimizer } from "../src/index.ts"

describe("kto plugin", () => {
  layer(NodeContext.layer)("params", (it) => {
    it.effect("batch size 1 is refused with the reason", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(resolveOptimizerParams(ktoOptimizer, { overrides: { learningRate: 1e-4, batchSize: 1 } }))
        assert.include(error.message, "KTO needs batchSize ≥ 2")
      }))
  })

  layer(TrainingBackendLive, { timeout: 600_000, excludeTestServices: true })("through the real worker and TRL", (it) => {
    it.effect("SFT → KTO: TRL's KTO metrics stream and the loss falls; paired data is refused naming file, line and the conversion", () =>
      Effect.gen(function*() {
        const { dir, sets, sft } = yield* prepareSftModel()
        const events = yield* runPlugin(ktoOptimizer, "tiny-cpu", { maxSteps: 30, learningRate: 1e-3 }, new TrainJob({
          model: sft, trainData: sets.kto, outputDir: path.join(dir, "kto")
        }))
        assert.isTrue(assertWellFormed(events))
        const lastLog = events.findLast((e) => e._tag === "log")
        assert.containsAllKeys(lastLog?._tag === "log" ? lastLog.metrics : {}, ["kl", "rewards/margins", "logps/chosen"])
        const trend = lossTrend(events)
        assert.isBelow(trend.last, trend.first)

        const paired = yield* Effect.flip(runPlugin(ktoOptimizer, "tiny-cpu", { maxSteps: 2 }, new TrainJob({
          model: sft, trainData: sets.pairs, outputDir: path.join(dir, "kto-pairs")
        })))
        assert.include(paired.message, `${sets.pairs}:1: KTO trains on unpaired rows`)
        assert.strictEqual((paired as { exitCode: number }).exitCode, 2)
        assert.isFalse(fs.existsSync(path.join(dir, "kto-pairs")))
      }), 600_000)
  })
})
