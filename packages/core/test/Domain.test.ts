import { describe, expect, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { ED_EMOTIONS, InputError, isEmotion, isUserFacingError, PreferencePair, turnsToChat } from "../src/index.ts"

describe("domain", () => {
  it("has the 32 ED labels, each once", () => {
    expect(ED_EMOTIONS.length).toBe(32)
    expect(new Set(ED_EMOTIONS).size).toBe(32)
    expect(isEmotion("guilty")).toBe(true)
    expect(isEmotion("happy")).toBe(false)
  })

  it("alternates user/assistant from the speaker's first turn", () => {
    expect(turnsToChat(["a", "b", "c"]).map((m) => m.role)).toEqual(["user", "assistant", "user"])
  })

  it("round-trips a preference pair through JSON and rejects an unknown emotion", () => {
    const json = {
      prompt: [{ role: "user", content: "I failed my test" }],
      chosen: [{ role: "assistant", content: "Oh no, what happened?" }],
      rejected: [{ role: "assistant", content: "Congrats!" }],
      provenance: { dialogueId: "hit:1_conv:2", emotion: "sad", rejectedEmotion: "joyful", rejectedDialogueId: "hit:3_conv:6", grounder: "plutchik-1", draw: 0 }
    }
    const pair = Schema.decodeUnknownSync(PreferencePair)(json)
    expect(Schema.encodeSync(PreferencePair)(pair)).toEqual(json)
    expect(() => Schema.decodeUnknownSync(PreferencePair)({ ...json, provenance: { ...json.provenance, emotion: "happy" } })).toThrow(/emotion/)
  })

  it("formats input errors with file, line and field, and exit code 2", () => {
    const e = new InputError({ reason: "unknown emotion `happy`", file: "train.csv", line: 12, field: "context" })
    expect(e.message).toBe("train.csv:12: unknown emotion `happy` (field `context`)")
    expect(isUserFacingError(e) && e.exitCode).toBe(2)
  })
})
