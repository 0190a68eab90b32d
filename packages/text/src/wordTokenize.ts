import { sentenceSpans } from "./Punkt.ts"
import type { PunktParameters } from "./PunktParameters.ts"
import { type NltkVersion, treebankWordTokenize } from "./TreebankWordTokenizer.ts"

/**
 * NLTK's `word_tokenize(text)` (English, `preserve_line=False`) as NLTK 3.8.1 behaves: Punkt sentence
 * splitting with the given parameters, then the improved Treebank tokenizer on each sentence.
 * Pass `version: "3.10.3"` for the behaviour of current NLTK (see {@link NltkVersion}).
 */
export const wordTokenize = (
  text: string,
  params: PunktParameters,
  version: NltkVersion = "3.8.1"
): Array<string> => {
  const tokens: Array<string> = []
  for (const [start, end] of sentenceSpans(text, params)) {
    for (const token of treebankWordTokenize(text.slice(start, end), version)) tokens.push(token)
  }
  return tokens
}
