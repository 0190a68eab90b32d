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

  it("agrees with NLTK on edge cases: abbreviations, initials, numbers, quotes, brackets, newlines, Unicode", () => {
    const texts = [
      "Dr. Smith met J. R. R. Tolkien at 5 p.m. on Jan. 3. It was fine.",
      "I paid $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks.",
      "(How does it deal with this parenthesis?)  \"It should be part of the previous sentence.\" \"(And this one.)\"",
      "Very bad acting!!! I promise... really?! Yes.",
      "She said \u201cwow\u201d \u2014 and left\u2026 Then: 'a' b 'cause I'd gonna wanna gimme more'n that.",
      "Well--maybe. No. 1 is U.S.A.-based; e.g. Ms. Jones' cat's toy. 'Tis true, 'twas.",
      "Über Café naïve résumé.  Ünïcödé Straße!  ¿Qué?  «quoted» ‘single’ „low“",
      "Trailing colon:\n\nNew paragraph, with comma,\nand line end,",
      "A sentence.\u00a0Another one\u2009here. Numbers 1.5.2019 and -3.2. End.",
      "",
      "   ",
      "...",
      "'s 'm 't 'd ''quoted'' `backtick` ``double``"
    ]
    const expected = nltkTokens(texts, "nltk-3.8.1")
    texts.forEach((text, i) => assert.deepStrictEqual(wordTokenize(text, params), expected[i], JSON.stringify(text)))
  })

  it("the 3.9 quote rule is available and differs where the study says (`'personal`)", () => {
    const text = "It's 'personal' to me."
    assert.deepStrictEqual(wordTokenize(text, params), nltkTokens([text], "nltk-3.8.1")[0])
    assert.deepStrictEqual(wordTokenize(text, params, "nltk-3.9"), nltkTokens([text], "nltk-3.9")[0])
    assert.notDeepEqual(wordTokenize(text, params), wordTokenize(text, params, "nltk-3.9"))
  })
})
