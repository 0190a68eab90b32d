import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "vitest"

const empo = (args: ReadonlyArray<string>) =>
  spawnSync("npx", ["empo", ...args], {
    cwd: repoRoot(),
    encoding: "utf8",
    env: { ...process.env, EMPO_PUNKT: sharedData("nltk", "punkt_english.json"), NO_COLOR: "1" }
  })

describe("npx empo counts build", () => {
  it("writes the counts of a corpus and reports on stdout/stderr", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "counts-"))
    const corpus = path.join(dir, "corpus.txt")
    fs.writeFileSync(corpus, "I am sad_comma_ very sad.\nSad? I am fine.\n")
    const result = empo(["counts", "build", "--corpus", corpus, "--out", path.join(dir, "counts.json")])
    assert.strictEqual(result.status, 0, result.stderr)
    assert.include(result.stdout, "9 words counted over 2 utterances")
    assert.include(result.stderr, "2 utterances (text)")
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, "counts.json"), "utf8"))["I"], 2)
  })

  it("exits 2 naming the file and the column when the column does not exist, and writes nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "counts-"))
    const out = path.join(dir, "counts.json")
    const result = empo(["counts", "build", "--corpus", sharedData("empathetic_dialogues", "val.csv"), "--column", "utterance", "--out", out])
    assert.strictEqual(result.status, 2)
    assert.match(result.stderr, /^error: .*val\.csv:1: no column `utterance`/m)
    assert.notInclude(result.stderr, "    at ")
    assert.deepStrictEqual(fs.readdirSync(dir), [])
  })
})
