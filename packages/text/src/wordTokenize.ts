import { sentenceSpans } from "./Punkt.ts"
import type { PunktParameters } from "./PunktParameters.ts"
import { type QuoteRule, treebankWordTokenize } from "./TreebankWordTokenizer.ts"

/**
 * NLTK's `word_tokenize(text)` (English, `preserve_line=False`) as NLTK 3.8.1 behaves: Punkt sentence
 * splitting with the given parameters, then the improved Treebank tokenizer on each sentence.
 * Pass `quoteRule: "nltk-3.9"` for the behaviour of NLTK ≥ 3.9.
 */
export const wordTokenize = (
  text: string,
  params: PunktParameters,
  quoteRule: QuoteRule = "nltk-3.8.1"
): Array<string> => {
  const tokens: Array<string> = []
  for (const [start, end] of sentenceSpans(text, params)) {
    for (const token of treebankWordTokenize(text.slice(start, end), quoteRule)) tokens.push(token)
  }
  return tokens
}
