import * as Context from "effect/Context"

/** A word/sentence tokenizer; `@empo/text` provides the NLTK-exact English one. */
export interface TokenizerShape {
  /** Words of a text (for the NLTK tokenizer: `word_tokenize(text)`). */
  readonly wordTokenize: (text: string) => ReadonlyArray<string>
  /** Sentences of a text. */
  readonly sentTokenize: (text: string) => ReadonlyArray<string>
  /** The tokenizer's data (name and sha256), recorded with metric results so caches notice a change. */
  readonly resource: { readonly name: string; readonly sha256: string }
}

/** The tokenizer shared by metrics that count words. */
export class Tokenizer extends Context.Tag("@empo/core/Tokenizer")<Tokenizer, TokenizerShape>() {}
