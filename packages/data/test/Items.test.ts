import * as NodeContext from "@effect/platform-node/NodeContext"
import { expect, layer } from "@effect/vitest"
import { DatasetSource, GenerationItem } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DatasetSources, ItemsManifest, ItemsOptions, pairsToDialogues, type PairRow, sha256Hex, SYSTEM_PROMPTS, writeGenerationItems } from "../src/index.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-items-"))
const ed = sharedData("empathetic_dialogues")

layer(NodeContext.layer)("generation items", (it) => {
  it.effect("writes GenerationItem JSONL for a split, in conv_id order, byte-identical on a rerun, with a manifest", () =>
    Effect.gen(function*() {
      const out = path.join(tmp, "items.jsonl")
      const m = yield* writeGenerationItems(ItemsOptions.make({ source: ed, split: "test", systemPrompt: "p2", out }))
      const text = fs.readFileSync(out, "utf8")
      const items = text.trimEnd().split("\n").map((l) => Schema.decodeUnknownSync(Schema.parseJson(GenerationItem))(l))
      expect(items.length).toBe(517)
      expect(m.items).toBe(517)
      expect(m.output.sha256).toBe(sha256Hex(text))
      expect(items.map((i) => i.id)).toEqual(items.map((i) => i.id).sort())
      for (const item of items) {
        expect(item.prompt[0]).toMatchObject({ role: "system", content: SYSTEM_PROMPTS.p2 })
        expect(item.prompt.at(-1)!.role).toBe("user")
        expect(item.prompt.at(-1)!.content).toBe(item.prev)
        expect(item.prompt.slice(1).map((x) => x.role)).toEqual(item.prompt.slice(1).map((_, i) => (i % 2 === 0 ? "user" : "assistant")))
      }
      const manifest = Schema.decodeUnknownSync(Schema.parseJson(ItemsManifest))(fs.readFileSync(`${out}.manifest.json`, "utf8"))
      expect(Object.values(manifest.countsPerEmotion).reduce((a, b) => a + b, 0)).toBe(517)
      yield* writeGenerationItems(ItemsOptions.make({ source: ed, split: "test", systemPrompt: "p2", out: path.join(tmp, "again.jsonl") }))
      expect(fs.readFileSync(path.join(tmp, "again.jsonl"), "utf8")).toBe(text)
      const limited = yield* writeGenerationItems(ItemsOptions.make({ source: ed, split: "all", limit: 5, out: path.join(tmp, "five.jsonl") }))
      expect(limited.items).toBe(5)
      expect(limited.limit).toBe(5)
      expect(limited.systemPrompt).toBeNull()
      // `limit` counts items = lines: the file is the first 5 lines of the unlimited one, and its manifest says so.
      yield* writeGenerationItems(ItemsOptions.make({ source: ed, split: "all", out: path.join(tmp, "all.jsonl") }))
      const five = fs.readFileSync(path.join(tmp, "five.jsonl"), "utf8")
      expect(five.trimEnd().split("\n")).toEqual(fs.readFileSync(path.join(tmp, "all.jsonl"), "utf8").split("\n").slice(0, 5))
      const fiveManifest = Schema.decodeUnknownSync(Schema.parseJson(ItemsManifest))(fs.readFileSync(path.join(tmp, "five.jsonl.manifest.json"), "utf8"))
      expect(fiveManifest.output.sha256).toBe(sha256Hex(five))
      expect(Object.values(fiveManifest.countsPerEmotion).reduce((a, b) => a + b, 0)).toBe(5)
      expect(fiveManifest.malformed).toEqual([])
      const tarballLess = path.join(tmp, "only-train")
      fs.mkdirSync(tarballLess)
      fs.writeFileSync(path.join(tarballLess, "train.csv"), "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags\nhit:1_conv:1,1,sad,s,1,u,,\n")
      const empty = yield* Effect.flip(writeGenerationItems(ItemsOptions.make({ source: tarballLess, split: "test", out: path.join(tmp, "none.jsonl") })))
      expect(empty.message).toContain("no dialogues in split test (splits present: train)")
      expect(fs.existsSync(path.join(tmp, "none.jsonl"))).toBe(false)
    }))

  it.effect("DatasetSource layer: detects the format once and loads through the service", () =>
    Effect.gen(function*() {
      const source = yield* DatasetSource
      expect(source.format).toBe("ed-pairs")
      const load = yield* source.load({ strict: true })
      expect(load.dialogues.length).toBe(4611)
    }).pipe(Effect.provide(DatasetSources.layer({ source: ed }).pipe(Layer.provide(NodeContext.layer)))))
})

layer(NodeContext.layer)("pair derivative reconstruction", (it) => {
  it("fills a single missing row from the next row's sp1 and stops at a larger hole", () => {
    const row = (convId: string, utteranceIdx: number, sp1: string, sp2: string): PairRow => ({ convId, utteranceIdx, sp1, sp2, emotion: "sad", situation: "s", split: "test", line: utteranceIdx })
    const { dialogues, utterances } = pairsToDialogues([
      row("a", 2, "u1", "u2"), row("a", 4, "u3", "u4"),
      row("b", 2, "v1", "v2"), row("b", 5, "v4", "v5")
    ], () => "f")
    expect(dialogues.map((d) => d.turns)).toEqual([["u1", "u2", "u3", "u4"], ["v1", "v2"]])
    expect(utterances).toBe(6)
  })
})
