import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { LoraParams, StringList } from "../src/Optimizer.ts"
import { parseParams } from "../src/Params.ts"
import { TrainEvent } from "../src/Training.ts"

describe("Optimizer", () => {
  it.effect("--param overrides: numbers, booleans and dotted keys; a comma list stays text until StringList splits it", () =>
    Effect.gen(function*() {
      const parsed = yield* parseParams(["learningRate=5e-4", "lora.r=8", "lora.alpha=16", "lora.quantize4bit=false", "lora.targetModules=q_proj,v_proj", "scheduler=cosine"])
      assert.deepStrictEqual(parsed, { learningRate: 5e-4, lora: { r: 8, alpha: 16, quantize4bit: false, targetModules: "q_proj,v_proj" }, scheduler: "cosine" })
      const lora = Schema.decodeUnknownSync(LoraParams)(parsed.lora)
      assert.deepStrictEqual(lora.targetModules, ["q_proj", "v_proj"])
      const bad = yield* Effect.flip(parseParams(["beta"]))
      assert.strictEqual(bad.exitCode, 2)
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
