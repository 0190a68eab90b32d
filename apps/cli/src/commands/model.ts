import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { TrainingBackendLive, WorkerClientLive } from "@empo/bridge"
import { callMethod } from "@empo/core/Worker"
import { TinyEncoderMethod } from "@empo/metric-epitome"
import { TinyModelRequest, TrainingBackend } from "@empo/core/Training"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as NodePath from "node:path"

const corpus = Options.file("corpus", { exists: "yes" }).pipe(Options.withDescription("dialogues: an ED CSV (utterance or sp1/sp2 columns) or SFT/pair JSONL"))
const out = Options.text("out").pipe(Options.withDescription("output folder (HF format: config, weights, tokenizer, chat template)"))
const layers = Options.integer("layers").pipe(Options.withDefault(2), Options.withDescription("transformer layers"))
const hidden = Options.integer("hidden").pipe(Options.withDefault(128), Options.withDescription("hidden size (width of every layer)"))
const heads = Options.integer("heads").pipe(Options.withDefault(4), Options.withDescription("attention heads (must divide --hidden)"))
const vocab = Options.integer("vocab").pipe(Options.withDefault(2000), Options.withDescription("BPE vocabulary size trained on --corpus"))
const seed = Options.integer("seed").pipe(Options.withDefault(42), Options.withDescription("seed of the initial weights"))

const tinyCommand = Command.make("tiny", { corpus, out, layers, hidden, heads, vocab, seed }, (flags) =>
  Effect.gen(function*() {
    const backend = yield* TrainingBackend
    const info = yield* backend.tinyModel(new TinyModelRequest({
      corpus: flags.corpus,
      outputDir: flags.out,
      layers: flags.layers,
      hidden: flags.hidden,
      heads: flags.heads,
      vocab: flags.vocab,
      seed: flags.seed
    }))
    yield* Console.log(`tiny Llama model: ${info.parameters} parameters, vocabulary ${info.vocabSize} (BPE on ${info.texts} texts) → ${info.outputDir}`)
  }).pipe(Effect.provide(TrainingBackendLive))).pipe(
  Command.withDescription("Build a tiny Llama-architecture model + BPE tokenizer with a Zephyr chat template from dialogues (no download)")
)

const encoderCorpus = Options.file("corpus", { exists: "yes" }).pipe(Options.withDescription("text to train the BPE on: an EPITOME CSV (seeker_post/response_post), an ED CSV or dialogue JSONL"))
const encoderOut = Options.text("out").pipe(Options.withDescription("output folder (HF RoBERTa: config, weights, tokenizer)"))
const encoderHidden = Options.integer("hidden").pipe(Options.withDefault(32), Options.withDescription("hidden size"))
const encoderLayers = Options.integer("layers").pipe(Options.withDefault(2), Options.withDescription("transformer layers"))
const encoderHeads = Options.integer("heads").pipe(Options.withDefault(2), Options.withDescription("attention heads (must divide --hidden)"))

const tinyEncoderCommand = Command.make("tiny-encoder", { corpus: encoderCorpus, out: encoderOut, hidden: encoderHidden, layers: encoderLayers, heads: encoderHeads, vocab, seed }, (flags) =>
  Effect.gen(function*() {
    const info = yield* callMethod(TinyEncoderMethod, {
      corpus: NodePath.resolve(flags.corpus), outputDir: NodePath.resolve(flags.out), hidden: flags.hidden, layers: flags.layers, heads: flags.heads, vocab: flags.vocab, seed: flags.seed
    })
    yield* Console.log(`tiny RoBERTa encoder: ${info.parameters} parameters, vocabulary ${info.vocabSize} (BPE on ${info.texts} texts) → ${info.outputDir}`)
  }).pipe(Effect.provide(WorkerClientLive()))).pipe(
  Command.withDescription("Build a tiny RoBERTa encoder + byte-level BPE tokenizer (random seeded weights, no download) for the epitome and bertscore metrics on CPU")
)

export const modelCommand = Command.make("model").pipe(
  Command.withDescription("Model utilities"),
  Command.withSubcommands([tinyCommand, tinyEncoderCommand])
)
