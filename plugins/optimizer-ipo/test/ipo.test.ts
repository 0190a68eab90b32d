import { TrainingBackendLive } from "@empo/bridge"
import { assertWellFormed, lossTrend, prepareSftModel, runPlugin, TrainJob } from "@empo/bridge/testing/stageRun"
import { resolveOptimizerParams } from "@empo/core/Optimizer"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as path from "node:path"
import { ipoOptimizer } from "../src/index.ts"

describe("ipo plugin", () => {
  layer(NodeContext.layer)("params", (it) => {
    it.effect("label smoothing is a DPO-only param and is refused", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(resolveOptimizerParams(ipoOptimizer, { overrides: { learningRate: 1e-4, labelSmoothing: 0.1 } }))
        assert.include(error.message, "labelSmoothing")
      }))
  })

  layer(TrainingBackendLive, { timeout: 600_000, excludeTestServices: true })("through the real worker and TRL", (it) => {
    it.effect("SFT → IPO: the loss falls and reward accuracy on the training pairs ends above 0.5", () =>
      Effect.gen(function*() {
        const { dir, sets, sft } = yield* prepareSftModel()
        const events = yield* runPlugin(ipoOptimizer, "tiny-cpu", { maxSteps: 30 }, new TrainJob({
          model: sft, trainData: sets.pairs, evalData: sets.pairs, outputDir: path.join(dir, "ipo")
        }))
        assert.isTrue(assertWellFormed(events))
        const trend = lossTrend(events)
        assert.isBelow(trend.last, trend.first)
        const finished = events[events.length - 1]!
        assert.isAbove(finished._tag === "finished" ? finished.metrics["eval_rewards/accuracies"]! : 0, 0.5)
      }), 600_000)
  })
})
