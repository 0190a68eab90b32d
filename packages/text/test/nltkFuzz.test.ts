import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import * as fc from "fast-check"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { PunktParameters, wordTokenize } from "../src/index.ts"

const punktPath = sharedData("nltk", "punkt_english.json")
const params = new PunktParameters(JSON.parse(fs.readFileSync(punktPath, "utf8")))
const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")
const script = path.join(import.meta.dirname, "..", "python", "nltk_word_tokenize.py")

// Pieces chosen to hit every rule: abbreviations and initials, numbers, quotes of all kinds, brackets,
// contractions, ellipses, dashes, Unicode letters and spaces, newlines.
const pieces = [
  "Mr.", "Dr.", "U.S.", "e.g.", "J.", "a.m.", "No.", "3.5", "1,000", "-2.", "12.", "'s", "n't", "'ll", "can't",
  "cannot", "gonna", "wanna ", "'tis", "d'ye", "'t", "'a", "'personal", "''", "\"", "``", "`", "«", "»", "“", "”",
  "‘", "’", "„", "(", ")", "[", "]", "{", "}", "<", ">", "...", "..", ".", "?", "!", "?!", ",", ":", ";", "@", "#",
  "$", "%", "&", "*", "--", "-", "—", "–", "\u2012", "The", "the", "I", "i", "It", "And", "and", "However", "Smith",
  "café", "Ünï", "naïve", "ß", "日本", "😊", "_x", "x_", "  ", " ", " ", "\u00a0", "\t", "\n", "\n\n", "\u2009", "\r", "\f", "\u2013", "\u2014"
]
const textArbitrary = fc.array(fc.constantFrom(...pieces), { minLength: 0, maxLength: 14 }).map((parts) => parts.join(" "))
const glued = fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 10 }).map((parts) => parts.join(""))

describe("wordTokenize agrees with NLTK on generated texts", () => {
  for (const version of ["3.8.1", "3.10.3"] as const) {
    it(`${version}: 4,000 texts built from rule-triggering pieces, with and without spaces between them`, () => {
      const texts = [...fc.sample(textArbitrary, { numRuns: 2000, seed: 42 }), ...fc.sample(glued, { numRuns: 2000, seed: 7 })]
      const output = execFileSync(python, [script], {
        input: JSON.stringify({ punkt: punktPath, texts, version }),
        maxBuffer: 1 << 28
      })
      const expected: Array<Array<string>> = JSON.parse(output.toString("utf8")).tokens
      const mismatches = texts
        .map((text, i) => ({ text, ours: wordTokenize(text, params, version), nltk: expected[i] }))
        .filter(({ ours, nltk }) => JSON.stringify(ours) !== JSON.stringify(nltk))
      assert.deepStrictEqual(mismatches.slice(0, 3), [])
    })
  }
})
