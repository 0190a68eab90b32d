import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it, layer } from "@effect/vitest"
import { InputError } from "@empo/core"
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as tar from "tar"
import { DatasetSources, forEachCsvRecordForTests, generationItems, inspectDataset, parseEdPairs, resolveSystemPrompt, SYSTEM_PROMPTS } from "../src/index.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-loaders-"))
const load = (source: string, format: DatasetSources.FormatChoice = "auto", strict = false) =>
  DatasetSources.loadDataset(DatasetSources.LoadOptions.make({ source, format, strict }))

// A raw-release file as the original writes it: no quoting, `_comma_` escapes. Turns of hit:1_conv:2
// are deliberately out of file order, and one row carries the `hit:` artefact the study drops.
const RAW_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
const rawRows = (split: string) => [
  `hit:0_conv:0,1,guilty,I hit a deer_comma_ sadly.,1,Yeah about 10 years ago_comma_ I had a horrifying experience.,5|5|5_2|2|5,`,
  `hit:0_conv:0,2,guilty,I hit a deer_comma_ sadly.,2,Did you suffer any injuries?,5|5|5_2|2|5,`,
  `hit:0_conv:0,3,guilty,I hit a deer_comma_ sadly.,1,No I wasn't hit. It was his fault.,5|5|5_2|2|5,`,
  `hit:1_conv:2,2,joyful,Got a puppy.,2,That is wonderful!,,`,
  `hit:1_conv:2,1,joyful,Got a puppy.,1,I got a puppy today (${split}).,,`,
  `hit:1_conv:2,3,joyful,Got a puppy.,1,hit:2_conv:4 stray text from a broken line,,`,
  `hit:1_conv:2,4,joyful,Got a puppy.,2,What breed?,,`
]
const writeRaw = (dir: string, rows: (split: string) => ReadonlyArray<string> = rawRows) => {
  fs.mkdirSync(dir, { recursive: true })
  for (const split of ["train", "valid", "test"]) fs.writeFileSync(path.join(dir, `${split}.csv`), [RAW_HEADER, ...rows(split)].join("\n") + "\n")
  return dir
}

describe("CSV reader", () => {
  it("parses latin1-decoded bytes and restores UTF-8 fields", () => {
    const csv = "conv_id,utterance_idx,sp1,sp2,context,prompt,old_split\nhit:1_conv:1,2,\"Café, naïve\",It’s ok,sad,\"s “q”\",val\n"
    const parsed = parseEdPairs(Buffer.from(csv, "utf8").toString("latin1"), "f.csv", { latin1: true })
    if ("_tag" in parsed) throw new Error("header")
    expect(parsed.rows[0]).toMatchObject({ sp1: "Café, naïve", sp2: "It’s ok", situation: "s “q”", split: "valid" })
  })

  it.effect("a UTF-8 byte-order mark before the header is not part of the first column name", () =>
    Effect.gen(function*() {
      const file = path.join(tmp, "bom", "train.csv")
      fs.mkdirSync(path.dirname(file))
      fs.writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${RAW_HEADER}\nhit:1_conv:1,1,sad,Lost it,1,I lost my keys.,,\nhit:1_conv:1,2,sad,Lost it,2,Oh no!,,\n`)]))
      const r = yield* load(file).pipe(Effect.provide(NodeContext.layer))
      expect(r.dialogues.map((d) => [d.id, d.turns])).toEqual([["hit:1_conv:1", ["I lost my keys.", "Oh no!"]]])
    }))

  it("handles quotes, doubled quotes, newlines inside quotes, CRLF and reports start and end lines", () => {
    const records: Array<{ fields: Array<string>; line: number; unterminatedQuote: boolean }> = []
    forEachCsvRecordForTests("a,b,c\r\n1,\"x, \"\"y\"\"\",3\r\n\r\n2,\"multi\nline\",4\n5,,\n6,\"open", (r) => {
      records.push({ ...r, fields: [...r.fields] })
    })
    expect(records).toEqual([
      { fields: ["a", "b", "c"], line: 1, endLine: 1, unterminatedQuote: false },
      { fields: ["1", "x, \"y\"", "3"], line: 2, endLine: 2, unterminatedQuote: false },
      { fields: ["2", "multi\nline", "4"], line: 4, endLine: 5, unterminatedQuote: false },
      { fields: ["5", "", ""], line: 6, endLine: 6, unterminatedQuote: false },
      { fields: ["6", "open"], line: 7, endLine: 7, unterminatedQuote: true }
    ])
  })
})

layer(NodeContext.layer)("loaders", (it) => {
  it.effect("raw release: drops hit: rows, unescapes _comma_, orders turns by utterance_idx, splits from file names", () =>
    Effect.gen(function*() {
      const dir = writeRaw(path.join(tmp, "raw"))
      const r = yield* load(dir)
      expect(r.format).toBe("ed-raw")
      expect(r.droppedHitRows).toBe(3)
      expect(r.malformed).toEqual([])
      // Each split is grouped on its own (the study loads one split at a time).
      expect(r.dialogues.find((x) => x.id === "hit:1_conv:2" && x.split === "valid")!.turns[0]).toBe("I got a puppy today (valid).")
      const train = r.dialogues.filter((x) => x.split === "train")
      expect(train.map((x) => x.id)).toEqual(["hit:0_conv:0", "hit:1_conv:2"])
      expect(train[0]!.situation).toBe("I hit a deer, sadly.")
      expect(train[0]!.turns[0]).toBe("Yeah about 10 years ago, I had a horrifying experience.")
      expect(train[1]!.turns).toEqual(["I got a puppy today (train).", "That is wonderful!", "What breed?"])
      const items = generationItems(train, resolveSystemPrompt("p1"))
      expect(items[0]!.prompt.map((m) => m.role)).toEqual(["system", "user"])
      expect(items[0]!.prompt[0]!.content).toBe(SYSTEM_PROMPTS.p1)
      expect(items[0]).toMatchObject({ target: "Did you suffer any injuries?", prev: "Yeah about 10 years ago, I had a horrifying experience.", emotion: "guilty" })
    }))

  it.effect("raw release from the tarball, with a malformed row counted (file + line) or failing under strict", () =>
    Effect.gen(function*() {
      const dir = writeRaw(path.join(tmp, "tarsrc", "empatheticdialogues"), (split) => [...rawRows(split), ...(split === "valid" ? ["hit:9_conv:9,x,sad,s,1,u,,", "hit:9_conv:9,2,elated,s,1,u,,", "hit:9_conv:9,3,sad"] : [])])
      const tarball = path.join(tmp, "empatheticdialogues.tar.gz")
      yield* Effect.promise(() => tar.create({ gzip: true, file: tarball, cwd: path.dirname(dir) }, ["empatheticdialogues"]))
      const r = yield* load(tarball)
      expect(r.format).toBe("ed-raw")
      expect(new Set(r.dialogues.map((d) => d.split))).toEqual(new Set(["train", "valid", "test"]))
      expect(r.malformed.map((m) => [m.file.replace(/^.*!/, ""), m.line, m.field])).toEqual([
        ["empatheticdialogues/valid.csv", 9, "utterance_idx"],
        ["empatheticdialogues/valid.csv", 10, "context"],
        ["empatheticdialogues/valid.csv", 11, "prompt"]
      ])
      const e = yield* Effect.flip(load(tarball, "auto", true))
      expect(e).toBeInstanceOf(InputError)
      expect(e.message).toContain("valid.csv:9: malformed row: utterance_idx is not a positive integer")
    }))

  it.effect("Hugging Face parquet (written by pandas/pyarrow) and JSONL exports", () =>
    Effect.gen(function*() {
      const dir = path.join(tmp, "hf")
      fs.mkdirSync(dir)
      const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")
      execFileSync(python, ["-c", `
import pandas as pd, sys
rows = [("hit:3_conv:6", 2, "sad", "Lost my job_comma_ today", 2, "I'm sorry_comma_ that's awful.", "", ""),
        ("hit:3_conv:6", 1, "sad", "Lost my job_comma_ today", 1, "I lost my job.", "", ""),
        ("hit:4_conv:8", 1, "proud", "Won", 1, "I won a race!", "", "")]
df = pd.DataFrame(rows, columns=["conv_id","utterance_idx","context","prompt","speaker_idx","utterance","selfeval","tags"])
df.to_parquet(sys.argv[1] + "/validation-00000-of-00001.parquet", compression="snappy")
`, dir])
      const r = yield* load(dir)
      expect(r.format).toBe("hf")
      expect(r.dialogues.map((d) => [d.id, d.split, d.turns])).toEqual([
        ["hit:3_conv:6", "valid", ["I lost my job.", "I'm sorry, that's awful."]],
        ["hit:4_conv:8", "valid", ["I won a race!"]]
      ])
      const jsonl = path.join(tmp, "test.jsonl")
      fs.writeFileSync(jsonl, [
        JSON.stringify({ conv_id: "hit:5_conv:1", utterance_idx: 1, context: "afraid", prompt: "p", utterance: "A noise!" }),
        JSON.stringify({ conv_id: "hit:5_conv:1", utterance_idx: 2, context: "afraid", prompt: "p", utterance: "Are you ok?" }),
        "{\"conv_id\": \"hit:5_conv:1\", \"utterance_idx\": 3, \"cont"
      ].join("\n"))
      const j = yield* load(jsonl)
      expect(j.format).toBe("hf")
      expect(j.dialogues[0]!.turns).toEqual(["A noise!", "Are you ok?"])
      expect(j.malformed.map((m) => m.line)).toEqual([3])
    }))

  it.effect("the pair derivative: real shared files rebuild whole dialogues", () =>
    Effect.gen(function*() {
      const r = yield* load(sharedData("empathetic_dialogues"))
      expect(r.format).toBe("ed-pairs")
      expect(r.files.map((f) => path.basename(f))).toEqual(["test.csv", "val.csv"])
      expect(r.dialogues.length).toBe(2304 + 2307)
      expect(r.malformed).toEqual([])
      // Non-ASCII text survives the latin1 fast path (internal/text.ts) as real UTF-8, no mojibake.
      const turns = r.dialogues.flatMap((x) => x.turns)
      expect(turns).toContain("That’s interesting. What did you have to do?")
      expect(turns.filter((t) => /â€|Ã/.test(t))).toEqual([])
      const d = r.dialogues.find((x) => x.id === "hit:2_conv:4")!
      expect(d.emotion).toBe("faithful")
      expect(d.turns.slice(0, 3)).toEqual(["I have never cheated on my wife.", "And thats something you should never do, good on you. ", "Yea it hasn't been easy but I am proud I haven't"])
    }))

  it.effect("inspect of the shared pair files: splits come from old_split, as experiments/quickstart.yaml's comment says", () =>
    Effect.gen(function*() {
      const report = yield* inspectDataset(DatasetSources.LoadOptions.make({ source: sharedData("empathetic_dialogues") }))
      const counts = Object.fromEntries(Object.entries(report.splits).map(([split, s]) => [split, s.dialogues]))
      expect(counts).toEqual({ test: 518, train: 3551, valid: 542 })
      const comment = fs.readFileSync(path.join(repoRoot(), "experiments", "quickstart.yaml"), "utf8")
        .split("\n").filter((l) => l.startsWith("#")).map((l) => l.replace(/^# ?/, "")).join(" ")
      const cited = /counts ([\d,]+) train, ([\d,]+) valid and ([\d,]+) test dialogues/.exec(comment)
      expect(cited?.slice(1).map((n) => Number(n.replaceAll(",", "")))).toEqual([counts["train"], counts["valid"], counts["test"]])
    }))

  it.effect("auto-detection refuses unknown content and missing sources with input errors", () =>
    Effect.gen(function*() {
      const odd = path.join(tmp, "odd.csv")
      fs.writeFileSync(odd, "a,b,c\n1,2,3\n")
      expect((yield* Effect.flip(load(odd))).message).toContain("cannot detect the dataset format")
      expect((yield* Effect.flip(load(path.join(tmp, "nope")))).message).toContain("source not found")
    }))
})

// Bytes that are not UTF-8 (0xFF never occurs in UTF-8; 0xC3 opens a 2-byte sequence that 0x28 does not continue).
const NOT_UTF8_BYTES = Buffer.from([0xff, 0xc3, 0x28])
/** `text` with the bad bytes inserted after the first occurrence of `after` on 1-based line `line`. */
const corruptLine = (text: string, line: number, after: string): Buffer => {
  const lines = text.split("\n").map((l) => Buffer.from(l, "utf8"))
  const target = lines[line - 1]!.toString("utf8")
  const at = Buffer.byteLength(target.slice(0, target.indexOf(after) + after.length), "utf8")
  lines[line - 1] = Buffer.concat([lines[line - 1]!.subarray(0, at), NOT_UTF8_BYTES, lines[line - 1]!.subarray(at)])
  return Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from("\n"), l])))
}
// The outcome of a load as a small value, so a failing expectation prints quickly (not a whole DatasetLoad).
const outcome = (source: string, format: DatasetSources.FormatChoice = "auto", strict = false) =>
  load(source, format, strict).pipe(Effect.match({
    onFailure: (e) => ({ tag: e._tag, file: e._tag === "InputError" ? e.file : e.path, line: e._tag === "InputError" ? e.line : undefined, message: e.message }),
    onSuccess: (r) => ({ tag: "loaded", file: undefined, line: undefined, message: `${r.dialogues.length} dialogues, ${r.malformed.length} malformed` })
  }))
const noReplacementChar = (dialogues: ReadonlyArray<{ readonly turns: ReadonlyArray<string>; readonly situation: string }>) =>
  dialogues.every((d) => !d.situation.includes("\uFFFD") && d.turns.every((t) => !t.includes("\uFFFD")))

layer(NodeContext.layer)("input that is not UTF-8", (it) => {
  // The first 30 records of the real pair file (single-line records), with bad bytes in record 8.
  const realText = fs.readFileSync(sharedData("empathetic_dialogues", "val.csv"), "utf8").split("\n").slice(0, 31).join("\n") + "\n"

  it.effect("ed-pairs (real lines): strict fails at file:line with eval's message; lenient skips and lists the row", () =>
    Effect.gen(function*() {
      const dir = path.join(tmp, "pairs-not-utf8")
      fs.mkdirSync(dir)
      const file = path.join(dir, "val.csv")
      fs.writeFileSync(file, corruptLine(realText, 8, "I "))
      const e = yield* outcome(dir, "auto", true)
      expect(e).toMatchObject({ tag: "InputError", file, line: 8 })
      expect(e.message).toMatch(/val\.csv:8: file is not valid UTF-8; build\/items take --allow-malformed/)
      const lenient = yield* load(dir)
      expect(lenient.malformed.map((m) => [m.file, m.line, m.reason])).toEqual([[file, 8, expect.stringContaining("not valid UTF-8")]])
      expect(noReplacementChar(lenient.dialogues)).toBe(true)
      // Every other record is read as from the clean file.
      fs.writeFileSync(file, realText)
      const clean = yield* load(dir)
      const utterances = (ds: ReadonlyArray<{ readonly turns: ReadonlyArray<string> }>) => ds.flatMap((d) => d.turns)
      expect(utterances(clean.dialogues).length).toBeGreaterThan(utterances(lenient.dialogues).length)
      expect(clean.dialogues.map((d) => d.id)).toEqual(expect.arrayContaining(lenient.dialogues.map((d) => d.id)))
    }))

  it.effect("ed-pairs: a quoted record over two lines is reported at the line holding the bad bytes; a bad header always fails", () =>
    Effect.gen(function*() {
      const file = path.join(tmp, "pairs-multiline", "test.csv")
      fs.mkdirSync(path.dirname(file))
      const text = [
        "conv_id,utterance_idx,sp1,sp2,context,prompt,old_split",
        "hit:1_conv:1,2,Hello there,\"Hi, how\nare you? X\",sad,s,train",
        "hit:2_conv:2,2,A,B,joyful,s,test"
      ].join("\n") + "\n"
      fs.writeFileSync(file, corruptLine(text, 3, "you? "))
      const r = yield* load(file, "ed-pairs")
      expect(r.malformed.map((m) => m.line)).toEqual([3])
      expect(r.dialogues.map((d) => d.id)).toEqual(["hit:2_conv:2"])
      fs.writeFileSync(file, corruptLine(text, 1, "old_split"))
      const header = yield* outcome(file, "ed-pairs")
      expect(header.message).toMatch(/test\.csv:1: file is not valid UTF-8; the header cannot be skipped/)
    }))

  it.effect("ed-raw CSV and the release tarball: strict names the file (and member) and line; lenient lists them", () =>
    Effect.gen(function*() {
      const dir = writeRaw(path.join(tmp, "raw-not-utf8", "empatheticdialogues"))
      const valid = path.join(dir, "valid.csv")
      fs.writeFileSync(valid, corruptLine(fs.readFileSync(valid, "utf8"), 3, "Did you"))
      const strict = yield* outcome(dir, "auto", true)
      expect(strict).toMatchObject({ tag: "InputError", file: valid, line: 3 })
      const lenient = yield* load(dir)
      expect(lenient.malformed.map((m) => [m.file, m.line])).toEqual([[valid, 3]])
      const guilty = lenient.dialogues.find((d) => d.id === "hit:0_conv:0" && d.split === "valid")!
      expect(guilty.turns).toEqual(["Yeah about 10 years ago, I had a horrifying experience.", "No I wasn't hit. It was his fault."])
      const tarball = path.join(tmp, "not-utf8.tar.gz")
      yield* Effect.promise(() => tar.create({ gzip: true, file: tarball, cwd: path.dirname(dir) }, ["empatheticdialogues"]))
      const fromTar = yield* outcome(tarball, "auto", true)
      expect(fromTar.message).toMatch(/not-utf8\.tar\.gz!empatheticdialogues\/valid\.csv:3: file is not valid UTF-8/)
      const tarLenient = yield* load(tarball)
      expect(tarLenient.malformed.map((m) => [m.file.replace(/^.*!/, ""), m.line])).toEqual([["empatheticdialogues/valid.csv", 3]])
      expect(noReplacementChar(tarLenient.dialogues)).toBe(true)
    }))

  it.effect("HF JSONL and parquet: strict fails with file and line (parquet: row); lenient skips and lists them", () =>
    Effect.gen(function*() {
      const jsonl = path.join(tmp, "hf-not-utf8", "test.jsonl")
      fs.mkdirSync(path.dirname(jsonl))
      const text = [
        JSON.stringify({ conv_id: "hit:5_conv:1", utterance_idx: 1, context: "afraid", prompt: "p", utterance: "A noise!" }),
        JSON.stringify({ conv_id: "hit:5_conv:1", utterance_idx: 2, context: "afraid", prompt: "p", utterance: "Are you ok?" })
      ].join("\n") + "\n"
      fs.writeFileSync(jsonl, corruptLine(text, 2, "Are you"))
      expect(yield* outcome(jsonl, "auto", true)).toMatchObject({ tag: "InputError", file: jsonl, line: 2 })
      const j = yield* load(jsonl)
      expect(j.malformed.map((m) => m.line)).toEqual([2])
      expect(j.dialogues[0]!.turns).toEqual(["A noise!"])

      const dir = path.join(tmp, "hf-parquet-not-utf8")
      fs.mkdirSync(dir)
      const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")
      // A binary column can hold any bytes; row 2's utterance is not UTF-8.
      execFileSync(python, ["-c", `
import pyarrow as pa, pyarrow.parquet as pq, sys
t = pa.table({"conv_id": ["hit:3_conv:6", "hit:3_conv:6"], "utterance_idx": [1, 2], "context": ["sad", "sad"],
              "prompt": ["Lost my job", "Lost my job"],
              "utterance": pa.array([b"I lost my job.", b"I'm sorry \\xff\\xc3( awful."], pa.binary())})
pq.write_table(t, sys.argv[1] + "/test-00000-of-00001.parquet")
`, dir])
      const parquet = path.join(dir, "test-00000-of-00001.parquet")
      const p = yield* load(dir)
      expect(p.malformed.map((m) => [m.file, m.line, m.field])).toEqual([[parquet, 2, "utterance"]])
      expect(p.dialogues.map((d) => d.turns)).toEqual([["I lost my job."]])
      const strict = yield* outcome(dir, "auto", true)
      expect(strict.message).toMatch(/test-00000-of-00001\.parquet:2: malformed row: not valid UTF-8/)
    }))
})
