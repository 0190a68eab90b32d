import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ParamValueFromText, parseParams } from "../src/Params.ts"

describe("parseParams", () => {
  it.effect("types values: numbers, booleans, null, JSON lists and objects, else the text", () =>
    Effect.gen(function* () {
      const parsed = yield* parseParams([
        "learningRate=5e-4", "maxSteps=3", "offset=-2", "lora.r=8", "lora.quantize4bit=false", "lora.targetModules=q_proj,v_proj",
        "orders=[1, 2]", "extra={\"a\": true}", "name=\"true\"", "path=data/lexicons/NRC-VAD-Lexicon.txt", "none=null", "empty="
      ])
      assert.deepStrictEqual(parsed, {
        learningRate: 5e-4, maxSteps: 3, offset: -2, lora: { r: 8, quantize4bit: false, targetModules: "q_proj,v_proj" },
        orders: [1, 2], extra: { a: true }, name: "true", path: "data/lexicons/NRC-VAD-Lexicon.txt", none: null, empty: ""
      })
    }))

  it.effect("a value containing = keeps it; keys are paths of names", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* parseParams(["vad.vadLexicon=a=b.txt", "epitome-saved.goldColumn=gt_{M}"]), {
        vad: { vadLexicon: "a=b.txt" }, "epitome-saved": { goldColumn: "gt_{M}" }
      })
    }))

  it.effect("errors name the flag and the entry", () =>
    Effect.gen(function* () {
      const noEquals = yield* Effect.flip(parseParams(["beta"]))
      assert.strictEqual(noEquals.message, "--param beta: expected key=value (field `--param`)")
      assert.strictEqual(noEquals.exitCode, 2)
      const badJson = yield* Effect.flip(parseParams(["orders=[1, 2"]))
      assert.include(badJson.message, "--param orders=[1, 2: not valid JSON")
      const badName = yield* Effect.flip(parseParams(["lora..r=8"]))
      assert.include(badName.message, "--param lora..r=8: `` is not a param name")
      const infinite = yield* Effect.flip(parseParams(["maxStep=1e999"]))
      assert.include(infinite.message, "--param maxStep=1e999: 1e999 is not a finite number")
      const shape = yield* Effect.flip(parseParams(["vadLexicon=x"], { flag: "--metric-param", minDepth: { depth: 2, shape: "<metric>.<key>=<value>" } }))
      assert.strictEqual(shape.message, "--metric-param vadLexicon=x: expected <metric>.<key>=<value> (field `--metric-param`)")
    }))

  it.effect("a key given twice, or as a value and a prefix, is refused", () =>
    Effect.gen(function* () {
      assert.include((yield* Effect.flip(parseParams(["beta=0.1", "beta=0.2"]))).message, "--param beta=0.2: `beta` is already set")
      assert.include((yield* Effect.flip(parseParams(["lora.r=8", "lora={\"r\": 4}"]))).message, "`lora` is already set by other --param entries")
      assert.include((yield* Effect.flip(parseParams(["lora={\"r\": 4}", "lora.r=8"]))).message, "`lora` is already set by --param lora={\"r\": 4}")
      // Names that look like Object.prototype members are ordinary keys.
      assert.deepStrictEqual(yield* parseParams(["constructor=1"]), { constructor: 1 })
    }))

  it("the value Schema round-trips what it decodes", () => {
    for (const text of ["3", "true", "null", "[1,\"a\"]", "{\"a\":1}", "plain text", "\"42\""]) {
      const value = Schema.decodeSync(ParamValueFromText)(text)
      assert.deepStrictEqual(Schema.decodeSync(ParamValueFromText)(Schema.encodeSync(ParamValueFromText)(value)), value)
    }
  })
})
