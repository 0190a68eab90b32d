import { D, pythonSplit, S, W } from "./internal/pythonRegex.ts"

// A port of NLTK's `NLTKWordTokenizer.tokenize(sentence)` (nltk/tokenize/destructive.py, the "improved
// Treebank" cascade), `convert_parentheses=False`, as NLTK 3.8.1 and as NLTK 3.10.3 behave. Python's `\b`
// becomes explicit look-arounds on Python's Unicode `\w`; Python's non-MULTILINE `$` (end, or before a final
// "\n") is spelled `(?=\n?$)` where a match could end there.

// Each rule carries a cheap necessary condition (a substring it cannot match without), checked on the
// current text before running the regex: most rules do not apply to most sentences, and skipping them
// is what makes the cascade several times faster than NLTK.
interface Rule {
  readonly pattern: RegExp
  readonly replacement: string
  readonly applies: (text: string, lower: string) => boolean
}

const always = () => true
const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")
// Specialised per arity: the gate runs for every rule of every sentence, often before the JIT has warmed up.
const containsAny = (...needles: ReadonlyArray<string>): ((text: string) => boolean) => {
  if (needles.length === 1) {
    const [needle] = needles as [string]
    return (text) => text.includes(needle)
  }
  if (needles.length === 2) {
    const [a, b] = needles as [string, string]
    return (text) => text.includes(a) || text.includes(b)
  }
  const any = needles.every((n) => [...n].length === 1)
    ? new RegExp(`[${needles.map((n) => (/[\\\]^-]/.test(n) ? `\\${n}` : n)).join("")}]`, "u")
    : new RegExp(needles.map(escapeRegExp).join("|"), "u")
  return (text) => any.test(text)
}
const lowerContains = (needle: string) => (_: string, lower: string) => lower.includes(needle)

const CLOSING = new Set(["]", ")", "}", ">", '"', "'", "»", "”", "’", " "])
const isSpaceCode = (c: number) =>
  c === 32 || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f) || c === 0x85 || c === 0xa0 || c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
/**
 * Gate of the two final-period rules: after trailing whitespace and closing brackets/quotes (a superset of
 * both rules' closing sets) the text ends in a period that follows a non-period character.
 */
const endsWithFinalPeriod = (text: string): boolean => {
  let i = text.length - 1
  while (i >= 0 && isSpaceCode(text.charCodeAt(i))) i--
  while (i >= 0 && CLOSING.has(text[i]!)) i--
  while (i >= 0 && isSpaceCode(text.charCodeAt(i))) i--
  return i >= 1 && text[i] === "." && text[i - 1] !== "."
}

const rule = (
  source: string,
  replacement: string,
  applies: Rule["applies"] = always,
  flags = ""
): Rule => ({ pattern: new RegExp(source, `gu${flags}`), replacement, applies })

/**
 * Which NLTK to reproduce. NLTK 3.8.1 is what the EmPO study pinned; three rules changed after it:
 * - the last starting-quote rule (3.9): 3.8.1 separates a leading `'` only before a single word character
 *   and a word boundary (`'personal` stays one token), later versions before any non-contraction word;
 * - whitespace normalisation before the contraction rules (nltk PR #3224, 3.9): in 3.8.1 a contraction
 *   followed by a tab or newline stays one token (`he's\t` → `he's`);
 * - dashes U+2012–U+2015 padded as punctuation (nltk PR #3461, 2025): 3.8.1 keeps `food—which` together.
 * The shared prediction files exercise only the first; all three are covered by the tests.
 */
export type NltkVersion = "3.8.1" | "3.10.3"

const startingQuotes = (version: NltkVersion): ReadonlyArray<Rule> => [
  rule("([«“‘„]|[`]+)", " $1 ", containsAny("«", "“", "‘", "„", "`")),
  rule('^"', "``", (text) => text.startsWith('"')),
  rule("(``)", " $1 ", containsAny("``")),
  rule(String.raw`([ (\[{<])("|'{2})`, "$1 `` ", containsAny('"', "''")),
  version === "3.8.1"
    ? rule(`(')(?!re|ve|ll|m|t|s|d|n)(${W})(?!${W})`, "$1 $2", containsAny("'"), "i")
    : rule(`(?<!${W})(')(?!(?:re|ve|ll|m|t|s|d|n)(?!${W}))(?=${W})`, "$1 ", containsAny("'"), "i")
]

const punctuation = (version: NltkVersion): ReadonlyArray<Rule> => [
  rule(String.raw`([^.])(\.)([\])}>"'»”’ ]*)${S}*$`, "$1 $2 $3 ", endsWithFinalPeriod),
  rule(`([:,])([^${D}])`, " $1 $2", containsAny(":", ",")),
  rule(String.raw`([:,])(?=\n?$)`, " $1 ", containsAny(":", ",")),
  rule(String.raw`\.{2,}`, " $& ", containsAny("..")),
  rule("[;@#$%&]", " $& ", containsAny(";", "@", "#", "$", "%", "&")),
  ...(version === "3.8.1"
    ? []
    : [rule(String.raw`[\u2012-\u2015]`, " $& ", containsAny("\u2012", "\u2013", "\u2014", "\u2015"))]),
  rule(String.raw`([^.])(\.)([\])}>"']*)${S}*$`, "$1 $2$3 ", endsWithFinalPeriod),
  rule("[?!]", " $& ", containsAny("?", "!")),
  rule("([^'])' ", "$1 ' ", containsAny("' ")),
  rule("[*]", " $& ", containsAny("*"))
]

const PARENS_BRACKETS = rule(String.raw`[\][(){}<>]`, " $& ", containsAny("[", "]", "(", ")", "{", "}", "<", ">"))
const DOUBLE_DASHES = rule("--", " -- ", containsAny("--"))

const endingQuotes = (version: NltkVersion): ReadonlyArray<Rule> => [
  rule("([»”’])", " $1 ", containsAny("»", "”", "’")),
  rule("''", " '' ", containsAny("''")),
  rule('"', " '' ", containsAny('"')),
  ...(version === "3.8.1" ? [] : [rule(`${S}+`, " ")]),
  rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 ", containsAny("'")),
  rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 ", containsAny("'"))
]

const before = `(?<!${W})`
const after = `(?!${W})`
const CONTRACTIONS: ReadonlyArray<Rule> = [
  rule(`${before}(can)(not)${after}`, " $1 $2 ", lowerContains("cannot"), "i"),
  rule(`${before}(d)('ye)${after}`, " $1 $2 ", lowerContains("d'ye"), "i"),
  rule(`${before}(gim)(me)${after}`, " $1 $2 ", lowerContains("gimme"), "i"),
  rule(`${before}(gon)(na)${after}`, " $1 $2 ", lowerContains("gonna"), "i"),
  rule(`${before}(got)(ta)${after}`, " $1 $2 ", lowerContains("gotta"), "i"),
  rule(`${before}(lem)(me)${after}`, " $1 $2 ", lowerContains("lemme"), "i"),
  rule(`${before}(more)('n)${after}`, " $1 $2 ", lowerContains("more'n"), "i"),
  rule(`${before}(wan)(na)(?=${S})`, " $1 $2 ", lowerContains("wanna"), "i"),
  rule(` ('t)(is)${after}`, " $1 $2 ", lowerContains("'tis"), "i"),
  rule(` ('t)(was)${after}`, " $1 $2 ", lowerContains("'twas"), "i")
]

const CONTRACTION_HINT = /cannot|d'ye|gimme|gonna|gotta|lemme|more'n|wanna|'tis|'twas/i

interface Cascade {
  readonly beforePadding: ReadonlyArray<Rule>
  readonly afterPadding: ReadonlyArray<Rule>
}

const cascade = (version: NltkVersion): Cascade => ({
  beforePadding: [...startingQuotes(version), ...punctuation(version), PARENS_BRACKETS, DOUBLE_DASHES],
  afterPadding: endingQuotes(version)
})

const CASCADES: Record<NltkVersion, Cascade> = { "3.8.1": cascade("3.8.1"), "3.10.3": cascade("3.10.3") }

/** NLTK's `NLTKWordTokenizer().tokenize(sentence)` for one sentence (no sentence splitting). */
export const treebankWordTokenize = (sentence: string, version: NltkVersion = "3.8.1"): Array<string> => {
  const { beforePadding, afterPadding } = CASCADES[version]
  let text = sentence
  for (const { applies, pattern, replacement } of beforePadding) {
    if (applies(text, "")) text = text.replace(pattern, replacement)
  }
  text = ` ${text} `
  for (const { applies, pattern, replacement } of afterPadding) {
    if (applies(text, "")) text = text.replace(pattern, replacement)
  }
  // One lower-cased copy gates all case-insensitive contraction rules. They only insert spaces, so needles
  // without spaces cannot appear later (`'tis` is checked without its leading space for that reason).
  if (CONTRACTION_HINT.test(text)) {
    const lower = text.toLowerCase()
    for (const { applies, pattern, replacement } of CONTRACTIONS) {
      if (applies(text, lower)) text = text.replace(pattern, replacement)
    }
  }
  if (version === "3.8.1") return pythonSplit(text)
  // After 3.10.3's whitespace rule the only whitespace left is " " (later rules insert nothing else).
  const tokens = text.split(" ")
  let kept = 0
  for (const token of tokens) if (token !== "") tokens[kept++] = token
  tokens.length = kept
  return tokens
}

