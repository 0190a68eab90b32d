import { ALPHA, D, firstIsLower, firstIsUpper, NOT_S, pythonRstrip, S } from "./internal/pythonRegex.ts"
import type { PunktParameters } from "./PunktParameters.ts"

// A port of NLTK's PunktSentenceTokenizer (nltk/tokenize/punkt.py, 3.8.1–3.10.3 behave alike for
// tokenizing) with the default PunktLanguageVars. Only the decision procedure is ported; training is not.

const ORTHO_BEG_UC = 1 << 1
const ORTHO_MID_UC = 1 << 2
const ORTHO_UNK_UC = 1 << 3
const ORTHO_BEG_LC = 1 << 4
const ORTHO_MID_LC = 1 << 5
const ORTHO_UNK_LC = 1 << 6
const ORTHO_UC = ORTHO_BEG_UC + ORTHO_MID_UC + ORTHO_UNK_UC
const ORTHO_LC = ORTHO_BEG_LC + ORTHO_MID_LC + ORTHO_UNK_LC

const NON_WORD = String.raw`(?:[)";}\]*:@'({[\u2018\u2019\u201c\u201d\xab\xbb?!])`
const MULTI_CHAR = `(?:-{2,}|\\.{2,}|(?:\\.${S}){2,}\\.)`
const WORD_START = String.raw`[^("\x60{\[:;&#*@)}\]\-,]`

const WORD_TOKENIZER = new RegExp(
  `${MULTI_CHAR}|(?=${WORD_START})${NOT_S}+?(?=${S}|$|${NON_WORD}|${MULTI_CHAR}|,(?=$|${S}|${NON_WORD}|${MULTI_CHAR}))|${NOT_S}`,
  "gu"
)
const PERIOD_CONTEXT = new RegExp(`[.?!](?=(?<afterTok>${NON_WORD}|${S}+(?<nextTok>${NOT_S}+)))`, "gu")
// Python's MULTILINE `$` matches only before "\n" (JS's `m` flag would also stop at "\r", U+2028, U+2029).
const BOUNDARY_REALIGNMENT = new RegExp(
  String.raw`^["')\]}\u2018\u2019\u201c\u201d\xab\xbb]+?(?:${S}+|(?=--)|(?=\n)|$)`,
  "u"
)
const HAS_NON_SPACE = new RegExp(NOT_S, "u")
const ELLIPSIS = /^\.\.+$/u
const NUMERIC = new RegExp(`^-?[.,]?${D}[${D},.\\-]*\\.?$`, "u")
const INITIAL = new RegExp(`^${ALPHA}\\.$`, "u")
const PUNCTUATION = new Set([";", ":", ",", ".", "!", "?"])
const SENT_END_CHARS = new Set([".", "?", "!"])

/** One token of a candidate context with Punkt's annotations. */
interface PunktToken {
  readonly tok: string
  readonly type: string
  readonly periodFinal: boolean
  sentbreak: boolean
  abbr: boolean
  ellipsis: boolean
}

const makeToken = (tok: string): PunktToken => {
  const lower = tok.toLowerCase()
  return {
    tok,
    type: NUMERIC.test(lower) ? "##number##" : lower,
    periodFinal: tok.endsWith("."),
    sentbreak: false,
    abbr: false,
    ellipsis: false
  }
}

const typeNoPeriod = (token: PunktToken): string =>
  token.type.length > 1 && token.type.endsWith(".") ? token.type.slice(0, -1) : token.type

const typeNoSentperiod = (token: PunktToken): string => (token.sentbreak ? typeNoPeriod(token) : token.type)

/** Punkt's own word split (punctuation other than periods split off), per line as `_tokenize_words` does. */
const punktWords = (text: string): Array<PunktToken> => {
  const tokens: Array<PunktToken> = []
  for (const line of text.includes("\n") ? text.split("\n") : [text]) {
    if (!HAS_NON_SPACE.test(line)) continue
    WORD_TOKENIZER.lastIndex = 0
    for (let match = WORD_TOKENIZER.exec(line); match !== null; match = WORD_TOKENIZER.exec(line)) {
      tokens.push(makeToken(match[0]))
    }
  }
  return tokens
}

const firstPass = (params: PunktParameters, token: PunktToken): void => {
  const tok = token.tok
  if (SENT_END_CHARS.has(tok)) {
    token.sentbreak = true
  } else if (ELLIPSIS.test(tok)) {
    token.ellipsis = true
  } else if (token.periodFinal && !tok.endsWith("..")) {
    const stem = tok.slice(0, -1).toLowerCase()
    const lastHyphenPart = stem.slice(stem.lastIndexOf("-") + 1)
    if (params.abbrevTypes.has(stem) || params.abbrevTypes.has(lastHyphenPart)) token.abbr = true
    else token.sentbreak = true
  }
}

type OrthoDecision = true | false | "unknown"

const orthoHeuristic = (params: PunktParameters, token: PunktToken): OrthoDecision => {
  if (PUNCTUATION.has(token.tok)) return false
  const context = params.orthoContext.get(typeNoSentperiod(token)) ?? 0
  if (firstIsUpper(token.tok) && (context & ORTHO_LC) !== 0 && (context & ORTHO_MID_UC) === 0) return true
  if (firstIsLower(token.tok) && ((context & ORTHO_UC) !== 0 || (context & ORTHO_BEG_LC) === 0)) return false
  return "unknown"
}

const secondPass = (params: PunktParameters, token: PunktToken, next: PunktToken): void => {
  if (!token.periodFinal) return
  const type = typeNoPeriod(token)
  const nextType = typeNoSentperiod(next)
  const isInitial = INITIAL.test(token.tok)

  if (params.collocations.has(`${type} ${nextType}`)) {
    token.sentbreak = false
    token.abbr = true
    return
  }
  if ((token.abbr || token.ellipsis) && !isInitial) {
    if (orthoHeuristic(params, next) === true) {
      token.sentbreak = true
      return
    }
    if (firstIsUpper(next.tok) && params.sentStarters.has(nextType)) {
      token.sentbreak = true
      return
    }
  }
  if (isInitial || type === "##number##") {
    const isSentStarter = orthoHeuristic(params, next)
    if (isSentStarter === false) {
      token.sentbreak = false
      token.abbr = true
      return
    }
    if (
      isSentStarter === "unknown" &&
      isInitial &&
      firstIsUpper(next.tok) &&
      ((params.orthoContext.get(nextType) ?? 0) & ORTHO_LC) === 0
    ) {
      token.sentbreak = false
      token.abbr = true
    }
  }
}

/**
 * `text_contains_sentbreak`: a token other than the last one is a sentence break. The second pass reads
 * the next token's first-pass annotation only, so one left-to-right sweep is equivalent to NLTK's
 * chained generators.
 */
const containsSentbreak = (params: PunktParameters, context: string): boolean => {
  const tokens = punktWords(context)
  for (const token of tokens) firstPass(params, token)
  for (let i = 0; i < tokens.length - 1; i++) {
    const token = tokens[i]!
    secondPass(params, token, tokens[i + 1]!)
    if (token.sentbreak) return true
  }
  return false
}

/** `_get_last_whitespace_index`: NLTK checks `string.whitespace` only, and returns 0 also when none is found. */
const lastAsciiWhitespaceIndex = (text: string, from: number, to: number): number => {
  for (let i = to - 1; i >= from; i--) {
    const c = text.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) return i - from
  }
  return 0
}

interface EndContext {
  readonly start: number
  readonly end: number
  readonly nextTokStart: number | undefined
  readonly context: string
}

/** `_match_potential_end_contexts` including its overlap rule for runs like `!!!`. */
const potentialEndContexts = (text: string): Array<EndContext> => {
  const contexts: Array<EndContext> = []
  let previousStart = 0
  let previousStop = 0
  let previous: RegExpExecArray | undefined
  const emit = (match: RegExpExecArray) => {
    const afterTok = match.groups!["afterTok"]!
    const nextTok = match.groups!["nextTok"]
    contexts.push({
      start: match.index,
      end: match.index + match[0].length,
      nextTokStart: nextTok === undefined ? undefined : match.index + 1 + afterTok.length - nextTok.length,
      context: text.slice(previousStart, previousStop) + match[0] + afterTok
    })
  }
  PERIOD_CONTEXT.lastIndex = 0
  for (let match = PERIOD_CONTEXT.exec(text); match !== null; match = PERIOD_CONTEXT.exec(text)) {
    let wordStart = lastAsciiWhitespaceIndex(text, previousStop, match.index)
    wordStart = wordStart !== 0 ? wordStart + previousStop + 1 : previousStart
    if (previous !== undefined && previousStop <= wordStart) emit(previous)
    previous = match
    previousStart = wordStart
    previousStop = match.index
  }
  if (previous !== undefined) emit(previous)
  return contexts
}

/** Sentence spans `[start, end)` in UTF-16 offsets, exactly as NLTK's `span_tokenize(text)`. */
export const sentenceSpans = (text: string, params: PunktParameters): Array<readonly [number, number]> => {
  const slices: Array<readonly [number, number]> = []
  let lastBreak = 0
  for (const candidate of potentialEndContexts(text)) {
    // A `?`/`!` candidate is always its own Punkt token (both are non-word characters, and the candidate
    // regex demands punctuation or whitespace after it), marked as a break in the first pass and never
    // unmarked (the second pass only revisits period-final tokens), and something follows it in the context:
    // NLTK's check is always true there, so it is skipped.
    const mark = text.charCodeAt(candidate.start)
    if (mark === 63 || mark === 33 || containsSentbreak(params, candidate.context)) {
      slices.push([lastBreak, candidate.end])
      lastBreak = candidate.nextTokStart ?? candidate.end
    }
  }
  slices.push([lastBreak, pythonRstrip(text).length])

  // `_realign_boundaries`: closing quotes/brackets after a break belong to the previous sentence.
  const spans: Array<readonly [number, number]> = []
  let realign = 0
  for (let i = 0; i < slices.length; i++) {
    const start = slices[i]![0] + realign
    const stop = slices[i]![1]
    const next = slices[i + 1]
    if (next === undefined) {
      if (stop > start) spans.push([start, stop])
      continue
    }
    const match = BOUNDARY_REALIGNMENT.exec(text.slice(next[0], next[1]))
    if (match !== null) {
      spans.push([start, next[0] + pythonRstrip(match[0]).length])
      realign = match[0].length
    } else {
      realign = 0
      if (stop > start) spans.push([start, stop])
    }
  }
  return spans
}

/** NLTK's `sent_tokenize(text)` with the given Punkt parameters. */
export const sentTokenize = (text: string, params: PunktParameters): Array<string> =>
  sentenceSpans(text, params).map(([start, end]) => text.slice(start, end))
