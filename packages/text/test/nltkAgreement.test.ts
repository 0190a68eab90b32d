import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { type NltkVersion, PunktParameters, wordTokenize } from "../src/index.ts"
import { readTildeCsv } from "../src/testing/predictions.ts"

// The reference is produced by NLTK itself in this run (3.10.3, with its three post-3.8.1 rule changes undone
// for the 3.8.1 reference), one Python process per prediction file; nothing derived from the shared data is
// committed.
const punktPath = sharedData("nltk", "punkt_english.json")
const params = new PunktParameters(JSON.parse(fs.readFileSync(punktPath, "utf8")))
const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")
const script = path.join(import.meta.dirname, "..", "python", "nltk_word_tokenize.py")

const nltkTokens = (texts: ReadonlyArray<string>, version: NltkVersion): Array<Array<string>> => {
  const output = execFileSync(python, [script], {
    input: JSON.stringify({ punkt: punktPath, texts, version }),
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
      const expected = nltkTokens(all, "3.8.1")
      const mismatches = all.filter((text, i) => JSON.stringify(wordTokenize(text, params)) !== JSON.stringify(expected[i]))
      console.log(`${name}: ${all.length - mismatches.length}/${all.length} texts tokenized exactly as NLTK 3.8.1`)
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
      "It's\tfine, isn't\nit? I'm\r\nsure\u2013really \u2012 \u2015 \u2014 you'll\u000bsee.",
      "Trailing colon:\n\nNew paragraph, with comma,\nand line end,",
      "A sentence.\u00a0Another one\u2009here. Numbers 1.5.2019 and -3.2. End.",
      "",
      "   ",
      "...",
      "'s 'm 't 'd ''quoted'' `backtick` ``double``"
    ]
    for (const version of ["3.8.1", "3.10.3"] as const) {
      const expected = nltkTokens(texts, version)
      texts.forEach((text, i) =>
        assert.deepStrictEqual(wordTokenize(text, params, version), expected[i], `${version}: ${JSON.stringify(text)}`))
    }
  })

  it("NLTK 3.10.3 behaviour is available and differs from 3.8.1 in exactly the three changed rules", () => {
    const cases = [
      ["It's 'personal' to me.", ["It", "'s", "'personal", "'", "to", "me", "."], ["It", "'s", "'", "personal", "'", "to", "me", "."]],
      ["he's\ta good boy", ["he's", "a", "good", "boy"], ["he", "'s", "a", "good", "boy"]],
      ["The food\u2014which was good", ["The", "food\u2014which", "was", "good"], ["The", "food", "\u2014", "which", "was", "good"]]
    ] as const
    for (const [text, old, current] of cases) {
      assert.deepStrictEqual(wordTokenize(text, params), [...old])
      assert.deepStrictEqual(wordTokenize(text, params, "3.10.3"), [...current])
      assert.deepStrictEqual(nltkTokens([text], "3.8.1")[0], [...old])
      assert.deepStrictEqual(nltkTokens([text], "3.10.3")[0], [...current])
    }
  })

  it("3.10.3 mode agrees with unpatched NLTK on every gens of the baseline file", () => {
    const texts = readTildeCsv(files.baseline).map((row) => row["gens"]!)
    const expected = nltkTokens(texts, "3.10.3")
    texts.forEach((text, i) => assert.deepStrictEqual(wordTokenize(text, params, "3.10.3"), expected[i], JSON.stringify(text)))
  })
})
