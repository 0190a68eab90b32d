import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readPredictions } from "../src/Predictions.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-predictions-"))
const write = (name: string, content: string | Uint8Array) => {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, content)
  return file
}
const baseline = sharedData("predictions", "baseline_zephyr-7b-sft-full.txt")

describe("readPredictions", () => {
  it.effect("reads the study's ~-separated file: 2,540 items, gens scored, prevs as context, saved levels as fields", () =>
    Effect.gen(function* () {
      const p = yield* readPredictions(baseline)
      assert.strictEqual(p.format, "tilde")
      assert.strictEqual(p.items.length, 2540)
      const first = p.items[0]!
      assert.strictEqual(first.id, "0")
      assert.strictEqual(first.emotion, "guilty")
      assert.isTrue(first.context.startsWith("No I wasn't hit"))
      assert.strictEqual(first.fields["pred_ER_scores"], p.items[0]!.fields["pred_ER_scores"])
      assert.notProperty(first.fields, "chat_templates")
      assert.notProperty(first.fields, "gens")
      const human = yield* readPredictions(baseline, { human: true })
      assert.strictEqual(human.responseColumn, "gen_targets")
      assert.strictEqual(human.items[0]!.response, first.target)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("reads `empo generate` JSONL ({id, prompt, response, target, prev, emotion}) and `prediction`", () =>
    Effect.gen(function* () {
      const file = write("gen.jsonl", [
        JSON.stringify({ id: "d1", prompt: [{ role: "user", content: "hi" }], response: "Hello!", target: "Hey", prev: "hi", emotion: "joyful", seed: 3 }),
        "",
        JSON.stringify({ id: "d2", prompt: [], response: "Oh no.", target: "Sorry", prev: "I fell", emotion: "sad", seed: 3 })
      ].join("\n"))
      const p = yield* readPredictions(file)
      assert.strictEqual(p.format, "jsonl")
      assert.deepStrictEqual(p.items.map((i) => [i.id, i.response, i.context, i.target, i.emotion]), [["d1", "Hello!", "hi", "Hey", "joyful"], ["d2", "Oh no.", "I fell", "Sorry", "sad"]])
      assert.deepStrictEqual(p.items[0]!.fields, { seed: "3" })
      const alt = write("alt.jsonl", JSON.stringify({ id: 1, prediction: "P", prev: "c" }))
      assert.strictEqual((yield* readPredictions(alt)).items[0]!.response, "P")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("reads comma-separated CSV with quoted fields", () =>
    Effect.gen(function* () {
      const file = write("p.csv", "id,prevs,gens,gen_targets\n7,\"a, b\",\"say \"\"hi\"\"\",t\n")
      const p = yield* readPredictions(file)
      assert.strictEqual(p.format, "csv")
      assert.deepStrictEqual([p.items[0]!.context, p.items[0]!.response, p.items[0]!.fields["id"]], ["a, b", "say \"hi\"", "7"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("a file without the user turn (`prevs` / `prev`) reads, with empty contexts and no context column", () =>
    Effect.gen(function* () {
      const tilde = yield* readPredictions(write("no-prevs.txt", "~gens\n0~hello\n1~there\n"))
      assert.strictEqual(tilde.contextColumn, undefined)
      assert.deepStrictEqual(tilde.items.map((i) => [i.id, i.response, i.context]), [["0", "hello", ""], ["1", "there", ""]])
      const jsonl = yield* readPredictions(write("noprev.jsonl", "{\"id\":1,\"response\":\"r\"}\n"))
      assert.strictEqual(jsonl.contextColumn, undefined)
      assert.strictEqual(jsonl.items[0]!.context, "")
      assert.strictEqual((yield* readPredictions(baseline)).contextColumn, "prevs")
    }).pipe(Effect.provide(NodeContext.layer)))

  const bad: ReadonlyArray<[string, string | Uint8Array, Record<string, unknown>, RegExp]> = [
    ["empty.txt", "", {}, /empty\.txt: file is empty/],
    ["header-only.txt", "~prevs~gens\n", {}, /header-only\.txt:2: file has a header but no rows/],
    ["col.txt", "~prevs~gens\n0~a~b\n", { responseColumn: "shortgens" }, /col\.txt:1: missing column `shortgens`.*columns are: prevs, gens/],
    ["latin1.txt", new Uint8Array([...Buffer.from("~prevs~gens\n0~ok~ok\n1~caf"), 0xe9, ...Buffer.from("~x\n")]), {}, /latin1\.txt:3: file is not valid UTF-8/],
    ["ragged.txt", "~prevs~gens\n0~a~b~c\n", {}, /ragged\.txt:2: cannot parse/],
    ["bad.jsonl", "{\"id\":1,\"response\":\"r\",\"prev\":\"p\"}\nnot json\n", {}, /bad\.jsonl:2: line is not a JSON object/],
    ["someprev.jsonl", "{\"id\":1,\"response\":\"r\",\"prev\":\"p\"}\n{\"id\":2,\"response\":\"r\"}\n", {}, /someprev\.jsonl:2: missing key `prev`/]
  ]
  for (const [name, content, options, message] of bad) {
    it.effect(`bad input ${name} → InputError (exit 2) naming file, line and column`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(readPredictions(write(name, content), options))
        assert.strictEqual(error._tag, "InputError")
        assert.strictEqual(error.exitCode, 2)
        assert.match(error.message, message)
      }).pipe(Effect.provide(NodeContext.layer)))
  }

  it.effect("a missing file is an InputError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(readPredictions(path.join(tmp, "nope.txt")))
      assert.match(error.message, /nope\.txt: file not found/)
    }).pipe(Effect.provide(NodeContext.layer)))
})
