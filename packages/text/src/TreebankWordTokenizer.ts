import { D, pythonSplit, S, W } from "./internal/pythonRegex.ts"

// A port of NLTK's `NLTKWordTokenizer.tokenize(sentence)` (nltk/tokenize/destructive.py, the "improved
// Treebank" cascade), `convert_parentheses=False`. Python's `\b` becomes explicit look-arounds on Python's
// Unicode `\w`; Python's non-MULTILINE `$` (end, or before a final "\n") is spelled `(?=\n?$)` where a match
// could end there.

type Rule = readonly [RegExp, string]

const rule = (source: string, replacement: string, flags = ""): Rule => [new RegExp(source, `gu${flags}`), replacement]

/**
 * Which version of the starting-quote rule to apply. NLTK 3.8.1 (what the EmPO study pinned) separates a
 * leading `'` only before a single word character and a word boundary (`'personal` stays one token);
 * NLTK ≥ 3.9 separates it before any word not starting a contraction.
 */
export type QuoteRule = "nltk-3.8.1" | "nltk-3.9"

const startingQuotes = (quoteRule: QuoteRule): ReadonlyArray<Rule> => [
  rule("([«“‘„]|[`]+)", " $1 "),
  rule('^"', "``"),
  rule("(``)", " $1 "),
  rule(String.raw`([ (\[{<])("|'{2})`, "$1 `` "),
  quoteRule === "nltk-3.8.1"
    ? rule(`(')(?!re|ve|ll|m|t|s|d|n)(${W})(?!${W})`, "$1 $2", "i")
    : rule(`(?<!${W})(')(?!(?:re|ve|ll|m|t|s|d|n)(?!${W}))(?=${W})`, "$1 ", "i")
]

const PUNCTUATION: ReadonlyArray<Rule> = [
  rule(String.raw`([^.])(\.)([\])}>"'»”’ ]*)${S}*$`, "$1 $2 $3 "),
  rule(`([:,])([^${D}])`, " $1 $2"),
  rule(String.raw`([:,])(?=\n?$)`, " $1 "),
  rule(String.raw`\.{2,}`, " $& "),
  rule("[;@#$%&]", " $& "),
  rule(String.raw`[\u2012-\u2015]`, " $& "),
  rule(String.raw`([^.])(\.)([\])}>"']*)${S}*$`, "$1 $2$3 "),
  rule("[?!]", " $& "),
  rule("([^'])' ", "$1 ' "),
  rule("[*]", " $& ")
]

const PARENS_BRACKETS = rule(String.raw`[\][(){}<>]`, " $& ")
const DOUBLE_DASHES = rule("--", " -- ")

const ENDING_QUOTES: ReadonlyArray<Rule> = [
  rule("([»”’])", " $1 "),
  rule("''", " '' "),
  rule('"', " '' "),
  rule(`${S}+`, " "),
  rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
  rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 ")
]

const before = `(?<!${W})`
const after = `(?!${W})`
const CONTRACTIONS: ReadonlyArray<Rule> = [
  rule(`${before}(can)(not)${after}`, " $1 $2 ", "i"),
  rule(`${before}(d)('ye)${after}`, " $1 $2 ", "i"),
  rule(`${before}(gim)(me)${after}`, " $1 $2 ", "i"),
  rule(`${before}(gon)(na)${after}`, " $1 $2 ", "i"),
  rule(`${before}(got)(ta)${after}`, " $1 $2 ", "i"),
  rule(`${before}(lem)(me)${after}`, " $1 $2 ", "i"),
  rule(`${before}(more)('n)${after}`, " $1 $2 ", "i"),
  rule(`${before}(wan)(na)(?=${S})`, " $1 $2 ", "i"),
  rule(` ('t)(is)${after}`, " $1 $2 ", "i"),
  rule(` ('t)(was)${after}`, " $1 $2 ", "i")
]

const cascade = (quoteRule: QuoteRule): ReadonlyArray<Rule> => [
  ...startingQuotes(quoteRule),
  ...PUNCTUATION,
  PARENS_BRACKETS,
  DOUBLE_DASHES
]

const CASCADES: Record<QuoteRule, ReadonlyArray<Rule>> = {
  "nltk-3.8.1": cascade("nltk-3.8.1"),
  "nltk-3.9": cascade("nltk-3.9")
}

/** NLTK's `NLTKWordTokenizer().tokenize(sentence)` for one sentence (no sentence splitting). */
export const treebankWordTokenize = (sentence: string, quoteRule: QuoteRule = "nltk-3.8.1"): Array<string> => {
  let text = sentence
  for (const [pattern, replacement] of CASCADES[quoteRule]) text = text.replace(pattern, replacement)
  text = ` ${text} `
  for (const [pattern, replacement] of ENDING_QUOTES) text = text.replace(pattern, replacement)
  for (const [pattern, replacement] of CONTRACTIONS) text = text.replace(pattern, replacement)
  return pythonSplit(text)
}

