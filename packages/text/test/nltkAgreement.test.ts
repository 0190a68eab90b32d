import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { PunktParameters, wordTokenize } from "../src/index.ts"
import { readTildeCsv } from "../src/testing/predictions.ts"

// The reference is produced by NLTK itself (3.10.3 with the 3.8.1 quote rule patched in) in this run,
// one Python process per prediction file; nothing derived from the shared data is committed.
const punktPath = sharedData("nltk", "punkt_english.json")
const params = new PunktParameters(JSON.parse(fs.readFileSync(punktPath, "utf8")))
const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")
const script = path.join(import.meta.dirname, "..", "python", "nltk_word_tokenize.py")

const nltkTokens = (texts: ReadonlyArray<string>, quoteRule: string): Array<Array<string>> => {
  const output = execFileSync(python, [script], {
    input: JSON.stringify({ punkt: punktPath, texts, quote_rule: quoteRule }),
    maxBuffer: 256 * 1024 * 1024
  })
  return JSON.parse(output.toString("utf8")).tokens
}

const files = {
  baseline: sharedData("predictions", "baseline_zephyr-7b-sft-full.txt"),
  dpo: sharedData("predictions", "dpo_zephyr-7b-sft-full124_d270.txt")
}

describe("wordTokenize agrees with NLTK on every text of the shared prediction files", () => {
  for (const [name, file] of Object.entries(files)) {
    it(`${name}: gens, gen_targets and prevs, original case and lower-cased`, () => {
      const rows = readTildeCsv(file)
      const texts = rows.flatMap((row) => [row["gens"]!, row["gen_targets"]!, row["prevs"]!])
      const all = [...texts, ...texts.map((text) => text.toLowerCase())]
      const expected = nltkTokens(all, "nltk-3.8.1")
      const mismatches = all.filter((text, i) => JSON.stringify(wordTokenize(text, params)) !== JSON.stringify(expected[i]))
      console.log(`${name}: ${all.length - mismatches.length}/${all.length} texts tokenized exactly as NLTK`)
      assert.deepStrictEqual(mismatches.slice(0, 5), [])
      assert.strictEqual(all.length, 2540 * 3 * 2)
    })
  }

  it("the 3.9 quote rule is available and differs where the study says (`'personal`)", () => {
    const text = "It's 'personal' to me."
    assert.deepStrictEqual(wordTokenize(text, params), nltkTokens([text], "nltk-3.8.1")[0])
    assert.deepStrictEqual(wordTokenize(text, params, "nltk-3.9"), nltkTokens([text], "nltk-3.9")[0])
    assert.notDeepEqual(wordTokenize(text, params), wordTokenize(text, params, "nltk-3.9"))
  })
})
