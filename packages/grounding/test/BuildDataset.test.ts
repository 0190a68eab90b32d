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

  // The experiments' dataset stage passes `limit` here instead of truncating the file after the manifest was written.
  it.effect("--limit N (rows): dpo, kto and sft files are the first N lines of the unlimited build, and the manifest hashes and counts the file", () =>
    Effect.gen(function*() {
      const cases = [
        { kind: "dpo", mode: "faithful", negatives: 3, limit: 101 },
        { kind: "dpo", mode: "balanced", negatives: 3, limit: 50 },
        // 4 rows per prompt (1 desirable + 3 undesirable): 50 cuts inside a prompt's group.
        { kind: "kto", mode: "balanced", negatives: 3, limit: 50 },
        { kind: "sft", mode: "balanced", negatives: 3, limit: 25 }
      ] as const
      for (const c of cases) {
        const base = { source: sharedEdDir(), split: "valid", kind: c.kind, mode: c.mode, negatives: c.negatives, seed: 3, ...(c.kind === "sft" ? {} : { grounder: "plutchik-1" }) } as const
        const dir = path.join(tmp, `limit-${c.kind}-${c.mode}`)
        const fullOut = path.join(dir, "full.jsonl")
        const cutOut = path.join(dir, "cut.jsonl")
        const full = yield* buildDataset(BuildOptions.make({ ...base, out: fullOut }))
        yield* buildDataset(BuildOptions.make({ ...base, limit: c.limit, out: cutOut }))
        const bytes = fs.readFileSync(cutOut)
        const lines = bytes.toString("utf8").trimEnd().split("\n")
        const m = Schema.decodeUnknownSync(Schema.parseJson(DatasetManifest))(fs.readFileSync(`${cutOut}.manifest.json`, "utf8"))
        expect(full.rows).toBeGreaterThan(c.limit)
        expect(m.output.sha256).toBe(sha256Hex(bytes))
        expect(m.rows).toBe(c.limit)
        expect(lines.length).toBe(c.limit)
        expect(lines).toEqual(fs.readFileSync(fullOut, "utf8").split("\n").slice(0, c.limit))
        expect([m.limit, m.limitPrompts, m.prompts]).toEqual([c.limit, null, c.kind === "sft" ? c.limit : full.prompts])
        // Every count describes the rows in the file.
        const rows = lines.map((l) => JSON.parse(l) as { label?: boolean; emotion?: string; provenance?: { dialogueId: string; emotion: string; rejectedEmotion: string } })
        const rowsPerEmotion = Object.values(m.countsPerEmotion).reduce((n, t) => n + t.rows, 0)
        expect(rowsPerEmotion).toBe(c.limit)
        const negatives = rows.filter((r) => r.provenance !== undefined)
        const matrixTotal = Object.values(m.pairMatrix).flatMap((row) => Object.values(row)).reduce((a, b) => a + b, 0)
        expect(matrixTotal).toBe(negatives.length)
        for (const e of ED_EMOTIONS) {
          for (const [to, n] of Object.entries(m.pairMatrix[e] ?? {})) expect(negatives.filter((r) => r.provenance!.emotion === e && r.provenance!.rejectedEmotion === to).length).toBe(n)
        }
        if (c.kind === "sft") {
          for (const e of ED_EMOTIONS) expect(m.countsPerEmotion[e]!.rows).toBe(rows.filter((r) => r.emotion === e).length)
        } else {
          expect(m.promptsWithNegatives).toBe(new Set(negatives.map((r) => r.provenance!.dialogueId)).size)
        }
        if (c.kind === "kto") {
          expect(m.kto).toEqual({ desirable: rows.filter((r) => r.label === true).length, undesirable: rows.filter((r) => r.label === false).length })
          expect(m.kto!.desirable).toBe(13) // 12 whole groups of 4 rows, then the 13th prompt's desirable row and 1 undesirable one
        }
      }
    }))

  it.effect("a --limit at or above the row count writes the unlimited file; --limit-prompts is recorded beside it", () =>
    Effect.gen(function*() {
      const base = { source: sharedEdDir(), split: "valid", kind: "dpo", grounder: "plutchik-1", negatives: 1, seed: 0 } as const
      const full = yield* buildDataset(BuildOptions.make({ ...base, out: path.join(tmp, "nolimit", "d.jsonl") }))
      const same = yield* buildDataset(BuildOptions.make({ ...base, limit: full.rows + 10, out: path.join(tmp, "biglimit", "d.jsonl") }))
      expect(same.output.sha256).toBe(full.output.sha256)
      expect(same.rows).toBe(full.rows)
      const prompts = yield* buildDataset(BuildOptions.make({ ...base, limitPrompts: 30, out: path.join(tmp, "prompts", "d.jsonl") }))
      expect([prompts.limitPrompts, prompts.limit, prompts.prompts, prompts.rows]).toEqual([30, null, 30, 30])
      expect(prompts.output.sha256).toBe(sha256Hex(fs.readFileSync(path.join(tmp, "prompts", "d.jsonl"))))
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
