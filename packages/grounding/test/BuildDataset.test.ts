import * as NodeContext from "@effect/platform-node/NodeContext"
import { expect, layer } from "@effect/vitest"
import { ED_EMOTIONS, InputError, KtoExample, PreferencePair, SftExample } from "@empo/core"
import { sha256Hex } from "@empo/data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { BuildOptions, buildDataset, DatasetManifest } from "../src/index.ts"
import { sharedEdDir } from "./fixtures.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-build-"))
const readLines = (p: string) => fs.readFileSync(p, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as unknown)

layer(NodeContext.layer)("buildDataset on the shared ED files", (it) => {
  it.effect("writes JSONL + a manifest whose numbers match the file; same seed ⇒ byte-identical", () =>
    Effect.gen(function*() {
      const base = { source: sharedEdDir(), split: "test", kind: "dpo", grounder: "plutchik-1", negatives: 3, mode: "balanced", seed: 11, systemPrompt: "dpo" } as const
      const outA = path.join(tmp, "a", "dpo.jsonl")
      const outB = path.join(tmp, "b", "dpo.jsonl")
      const m = yield* buildDataset(BuildOptions.make({ ...base, out: outA }))
      yield* buildDataset(BuildOptions.make({ ...base, out: outB }))
      const bytesA = fs.readFileSync(outA)
      expect(bytesA.equals(fs.readFileSync(outB))).toBe(true)
      const rows = readLines(outA).map((r) => Schema.decodeUnknownSync(PreferencePair)(r))
      const onDisk = Schema.decodeUnknownSync(Schema.parseJson(DatasetManifest))(fs.readFileSync(`${outA}.manifest.json`, "utf8"))
      expect(onDisk.output.sha256).toBe(sha256Hex(bytesA))
      expect(onDisk.rows).toBe(rows.length)
      expect(m.rows).toBe(rows.length)
      expect(onDisk.inputs.map((f) => path.basename(f.path))).toEqual(["test.csv", "val.csv"])
      expect(onDisk.inputs[0]!.sha256).toBe(sha256Hex(fs.readFileSync(path.join(sharedEdDir(), "test.csv"))))
      expect(onDisk.prompts).toBe(517) // old_split == test in val.csv + test.csv (see `empo data inspect`)
      expect(onDisk.rows).toBe(3 * onDisk.prompts)
      expect(onDisk.systemPrompt).toContain("elaborate.The input")
      expect(rows.every((r) => r.prompt[0]!.role === "system")).toBe(true)
      // counts per emotion and the emotion-pair matrix agree with the rows
      for (const e of ED_EMOTIONS) {
        const ofE = rows.filter((r) => r.provenance.emotion === e)
        expect(onDisk.countsPerEmotion[e]!.rows).toBe(ofE.length)
        for (const [to, n] of Object.entries(onDisk.pairMatrix[e] ?? {})) expect(ofE.filter((r) => r.provenance.rejectedEmotion === to).length).toBe(n)
      }
      const matrixTotal = Object.values(onDisk.pairMatrix).flatMap((row) => Object.values(row)).reduce((a, b) => a + b, 0)
      expect(matrixTotal).toBe(rows.length)
      expect(onDisk.pairMatrix["joyful"]).toEqual({ sad: onDisk.countsPerEmotion["joyful"]!.rows })
      expect(fs.readdirSync(path.dirname(outA)).sort()).toEqual(["dpo.jsonl", "dpo.jsonl.manifest.json"])
    }))

  it.effect("KTO and SFT files decode with the core schemas; the manifest counts desirable/undesirable", () =>
    Effect.gen(function*() {
      const kto = path.join(tmp, "kto.jsonl")
      const m = yield* buildDataset(BuildOptions.make({ source: sharedEdDir(), split: "valid", kind: "kto", grounder: "random", negatives: 1, out: kto }))
      const rows = readLines(kto).map((r) => Schema.decodeUnknownSync(KtoExample)(r))
      expect(m.kto).toEqual({ desirable: rows.filter((r) => r.label).length, undesirable: rows.filter((r) => !r.label).length })
      expect(m.kto!.desirable).toBe(m.kto!.undesirable)
      const sft = path.join(tmp, "sft.jsonl")
      const s = yield* buildDataset(BuildOptions.make({ source: sharedEdDir(), split: "valid", kind: "sft", out: sft }))
      expect(readLines(sft).map((r) => Schema.decodeUnknownSync(SftExample)(r)).length).toBe(s.rows)
      expect(s.grounder).toBeNull()
    }))

  it.effect("bad input fails with an InputError and writes nothing", () =>
    Effect.gen(function*() {
      const out = path.join(tmp, "never", "x.jsonl")
      const e = yield* Effect.flip(buildDataset(BuildOptions.make({ source: sharedEdDir(), split: "test", kind: "dpo", grounder: "plutchik-2", out })))
      expect(e).toBeInstanceOf(InputError)
      const noGrounder = yield* Effect.flip(buildDataset(BuildOptions.make({ source: sharedEdDir(), split: "test", kind: "dpo", out })))
      expect(noGrounder.message).toContain("needs --grounder")
      expect(fs.existsSync(path.dirname(out))).toBe(false)
    }))
})
