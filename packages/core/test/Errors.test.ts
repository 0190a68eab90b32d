import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { InputError, isUserFacingError, UserError } from "../src/Errors.ts"
import { DuplicatePluginError, UnknownPluginError } from "../src/Plugin.ts"

class ToyError extends UserError<ToyError>()("ToyError", { what: Schema.String, mine: Schema.Boolean }, {
  exitCode: (e) => (e.mine ? 2 : 1),
  message: (e) => `toy ${e.what}`
}) {}

describe("UserError", () => {
  it.effect("gives a tagged, yieldable, Schema-encodable error its exit code and message", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(new ToyError({ what: "broke", mine: true }))
      assert.instanceOf(error, ToyError)
      assert.strictEqual(error._tag, "ToyError")
      assert.strictEqual(error.message, "toy broke")
      assert.strictEqual(error.exitCode, 2)
      assert.strictEqual(new ToyError({ what: "x", mine: false }).exitCode, 1)
      assert.isTrue(isUserFacingError(error))
      const decoded = Schema.decodeUnknownSync(ToyError)(Schema.encodeSync(ToyError)(error))
      assert.instanceOf(decoded, ToyError)
      assert.strictEqual(decoded.message, "toy broke")
      assert.strictEqual(new InputError({ reason: "bad", file: "a.csv", line: 3, field: "x" }).message, "a.csv:3: bad (field `x`)")
    }))

  it("plugin lookup errors list what is known", () => {
    assert.strictEqual(new UnknownPluginError({ kind: "optimizer", id: "ppo", known: ["dpo", "sft"] }).message, "unknown optimizer `ppo`; known optimizers: dpo, sft")
    assert.strictEqual(new UnknownPluginError({ kind: "stage", id: "x", known: [] }).exitCode, 2)
    assert.strictEqual(new DuplicatePluginError({ kind: "metric", id: "vad" }).message, "two metric plugins share the id `vad`")
  })
})
