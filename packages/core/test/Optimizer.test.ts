import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { defineOptimizer, makeOptimizerRegistry, parseParamOverrides, StringList, trlOptimizerLayer } from "../src/Optimizer.ts"
import { TrainEvent } from "../src/Training.ts"

const fakePlugin = (id: string) =>
  defineOptimizer({
    manifest: { id, kind: "optimizer", version: "0", description: "", stage: "dpo", dataFormat: "preference" },
    params: Schema.Struct({ learningRate: Schema.Number }),
    layer: (params) => trlOptimizerLayer(id, "dpo", { ...params, batchSize: 8, gradientAccumulationSteps: 1, epochs: 1, maxLength: 64, warmupRatio: 0, scheduler: "linear", maxGradNorm: 1, weightDecay: 0, loggingSteps: 1 })
  })

describe("Optimizer", () => {
  it.effect("parses --param overrides: numbers, booleans, dotted keys and comma lists", () =>
    Effect.gen(function*() {
      const parsed = yield* parseParamOverrides(["learningRate=5e-4", "lora.r=8", "lora.quantize4bit=false", "lora.targetModules=q_proj,v_proj", "scheduler=cosine"])
      assert.deepStrictEqual(parsed, { learningRate: 5e-4, lora: { r: 8, quantize4bit: false, targetModules: ["q_proj", "v_proj"] }, scheduler: "cosine" })
      const bad = yield* Effect.flip(parseParamOverrides(["beta"]))
      assert.strictEqual(bad.exitCode, 2)
    }))

  it.effect("an unknown optimizer id is an input error listing the known ids", () =>
    Effect.gen(function*() {
      const registry = makeOptimizerRegistry([fakePlugin("dpo"), fakePlugin("kto")])
      const error = yield* Effect.flip(registry.get("orpo"))
      assert.include(error.message, "unknown optimizer \"orpo\"; known: dpo, kto")
    }))

  it("StringList accepts a comma string or an array", () => {
    assert.deepStrictEqual(Schema.decodeUnknownSync(StringList)("a, b"), ["a", "b"])
    assert.deepStrictEqual(Schema.decodeUnknownSync(StringList)(["a"]), ["a"])
  })

  it("decodes the worker's events as written by TRL's callbacks", () => {
    const log = Schema.decodeUnknownSync(TrainEvent)({
      _tag: "log", step: 3, epoch: 0.5, loss: 0.69, learningRate: 1e-4, secondsPerStep: 0.2,
      metrics: { loss: 0.69, "rewards/accuracies": 0.625, "logps/chosen": -120.5 }
    })
    assert.strictEqual(log._tag, "log")
    assert.isFalse(Schema.is(TrainEvent)({ _tag: "log", step: "3", epoch: 0, metrics: {} }))
  })
})
