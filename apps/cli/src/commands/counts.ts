import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { InputError } from "@empo/core"
import { buildCounts } from "@empo/metric-specificity"
import { NltkTokenizer } from "@empo/text"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { TokenizerLive } from "../MainLayer.ts"

const corpus = Options.text("corpus").pipe(
  Options.repeated,
  Options.withDescription("corpus file; repeat for several (the study counted ED train.csv + val.csv)")
)
const format = Options.choice("format", ["auto", "text", "csv", "tilde", "jsonl"]).pipe(
  Options.withDefault("auto" as const),
  Options.withDescription("text = one utterance a line; csv / tilde (~-separated) with a header; jsonl objects; auto: by extension, ~ in the header, else text")
)
const column = Options.text("column").pipe(
  Options.withDefault("sp1"),
  Options.withDescription("column (csv, tilde) or key (jsonl) holding the utterances; sp1 is what the study counted in the ED pair files")
)
const out = Options.text("out").pipe(Options.withDescription("counts JSON to write ({word: number of utterances containing it})"))
const punkt = Options.text("punkt").pipe(
  Options.optional,
  Options.withDescription("Punkt parameters JSON (default: EMPO_PUNKT, else NLTK's English data downloaded once into EMPO_CACHE)")
)

const build = Command.make("build", { corpus, format, column, out, punkt }, (flags) =>
  Effect.gen(function* () {
    if (flags.corpus.length === 0) return yield* new InputError({ reason: "give at least one --corpus file", field: "corpus" })
    const summary = yield* buildCounts({ corpora: flags.corpus, format: flags.format, column: flags.column, out: flags.out })
    yield* Console.log(`wrote ${flags.out}: ${summary.words} words counted over ${summary.utterances} utterances`)
  }).pipe(
    Effect.provide(Option.match(flags.punkt, { onNone: () => TokenizerLive, onSome: (file) => NltkTokenizer.layerFromFile(file) }))
  )).pipe(
  Command.withDescription(
    "Document frequencies for NIDF specificity: for each case-sensitive NLTK token, the number of utterances containing it"
  )
)

export const countsCommand = Command.make("counts").pipe(
  Command.withDescription("Word counts for the specificity metric"),
  Command.withSubcommands([build])
)
