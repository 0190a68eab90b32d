import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { TrainingBackendLive } from "@empo/bridge"
import { DecodingParameters, GenerateEvent, GenerateRequest, TrainingBackend } from "@empo/core/Training"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { makeGenerateProgress } from "./trainProgress.ts"

const model = Options.text("model").pipe(Options.withDescription("a local model or LoRA adapter folder, or a hub id"))
const items = Options.file("items", { exists: "yes" }).pipe(Options.withDescription("generation items JSONL ({id, prompt, target, prev, emotion}, as written by `empo data items`)"))
const out = Options.text("out").pipe(Options.withDescription("predictions JSONL ({id, prompt, response, target, prev, emotion}), written atomically"))
const systemPrompt = Options.text("system-prompt").pipe(Options.optional, Options.withDescription("a system message to prepend to prompts that have none"))
const maxNewTokens = Options.integer("max-new-tokens").pipe(Options.withDefault(200), Options.withDescription("longest response, in model tokens"))
const batchSize = Options.integer("batch-size").pipe(Options.withDefault(8), Options.withDescription("items generated together (lower it when memory runs out)"))
const limit = Options.integer("limit").pipe(Options.optional, Options.withDescription("only the first N items"))
const sample = Options.boolean("sample").pipe(Options.withDescription("sample (temperature/top-p) instead of greedy decoding"))
const temperature = Options.float("temperature").pipe(Options.withDefault(1), Options.withDescription("with --sample: softmax temperature"))
const topP = Options.float("top-p").pipe(Options.withDefault(1), Options.withDescription("with --sample: nucleus sampling keeps tokens up to this probability mass"))
const seed = Options.integer("seed").pipe(Options.withDefault(42), Options.withDescription("seed of the sampling (greedy decoding does not use it)"))
const json = Options.boolean("json").pipe(Options.withDescription("print events as NDJSON on stdout"))

const encodeEvent = Schema.encodeSync(GenerateEvent)

export const generateCommand = Command.make(
  "generate",
  { model, items, out, systemPrompt, maxNewTokens, batchSize, limit, sample, temperature, topP, seed, json },
  (flags) =>
    Effect.gen(function*() {
      const request = yield* Schema.decodeUnknown(GenerateRequest)({
        model: flags.model,
        items: flags.items,
        output: flags.out,
        batchSize: flags.batchSize,
        seed: flags.seed,
        decoding: Schema.encodeSync(DecodingParameters)(new DecodingParameters({ maxNewTokens: flags.maxNewTokens, doSample: flags.sample, temperature: flags.temperature, topP: flags.topP })),
        ...Option.match(flags.systemPrompt, { onNone: () => ({}), onSome: (systemPrompt) => ({ systemPrompt }) }),
        ...Option.match(flags.limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) })
      })
      const backend = yield* TrainingBackend
      const progress = makeGenerateProgress()
      yield* backend.generate(request).pipe(
        Stream.runForEach((event) => flags.json ? Console.log(JSON.stringify(encodeEvent(event))) : Effect.sync(() => progress(event)))
      )
    }).pipe(Effect.provide(TrainingBackendLive))
).pipe(Command.withDescription("Generate one response per item with a trained model (predictions JSONL for `empo eval`)"))
