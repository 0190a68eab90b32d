import * as Path from "@effect/platform/Path"
import { DecodingParameters, GenerateRequest, TrainingBackend } from "@empo/core/Training"
import { ItemsOptions, writeGenerationItems } from "@empo/data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { ContentHasher } from "../internal/canonical.ts"
import { GenerateStageSpec } from "../ExperimentSpec.ts"
import { defineStage, defineStageKind, modelDeps, modelInputs, modelKey } from "../Stage.ts"
import { StageFailure } from "../StageExecutors.ts"
import { ensureDir, failWith, modelPath, StageFiles, withTrainingBackend } from "./shared.ts"

/** Generation items' inputs: which ED split, how many items and the system prompt, as hashed. */
export const ItemsInputs = Schema.Struct({
  source: Schema.String,
  format: Schema.Literal("auto", "ed-raw", "ed-pairs", "hf"),
  split: Schema.Literal("train", "valid", "test"),
  limit: Schema.NullOr(Schema.Int),
  systemPrompt: Schema.NullOr(Schema.String)
})

/** Writes the prompts to generate for (`{id, prompt, target, prev, emotion}` JSONL). */
export const itemsKind = defineStageKind({
  kind: "items",
  artifactKind: "items",
  pool: "local",
  inputs: ItemsInputs,
  execute: (context) => Effect.gen(function* () {
    const path = yield* Path.Path
    const i = context.inputs
    yield* ensureDir(context.outputDir)
    const manifest = yield* writeGenerationItems(ItemsOptions.make({
      source: i.source, format: i.format, split: i.split, out: path.join(context.outputDir, StageFiles.items),
      ...(i.limit === null ? {} : { limit: i.limit }),
      ...(i.systemPrompt === null ? {} : { systemPrompt: i.systemPrompt })
    })).pipe(Effect.mapError(failWith("generation items")))
    return { summary: { count: manifest.items } }
  })
})

/** A generation node's inputs: the model reference (when not a stage), batch size, decoding and seed. */
export const GenerateInputs = Schema.Struct({
  model: Schema.optional(Schema.String),
  batchSize: Schema.Int,
  decoding: Schema.Unknown,
  seed: Schema.Int
})

/** Generates one response per item with the run's model (in the worker). */
export const generateKind = defineStageKind({
  kind: "generate",
  artifactKind: "predictions",
  pool: "compute",
  inputs: GenerateInputs,
  execute: (context) => Effect.gen(function* () {
    const path = yield* Path.Path
    const i = context.inputs
    // The worker creates the output's folder: on a remote executor it is a path on the host, not here.
    const backend = yield* TrainingBackend
    const decoding = yield* Schema.decodeUnknown(DecodingParameters)(i.decoding).pipe(
      Effect.mapError((e) => new StageFailure({ reason: `decoding: ${e.message}` })))
    let seconds = 0
    yield* backend.generate(GenerateRequest.make({
      model: modelPath(context.upstream, i), items: path.join(context.upstream["items"]!, StageFiles.items),
      output: path.join(context.outputDir, StageFiles.predictions), batchSize: i.batchSize, decoding, seed: i.seed
    })).pipe(
      Stream.runForEach((event) =>
        event._tag === "progress" ? context.progress(`${event.done}/${event.total} generated`)
        : event._tag === "finished" ? Effect.sync(() => { seconds = event.seconds })
        : Effect.void),
      Effect.mapError(failWith("generate"))
    )
    return { summary: { seconds } }
  }).pipe(withTrainingBackend)
})

type Section = Record<string, unknown>

/** `stages.generate`: items from an ED split, then one generation per item with the run's final model. */
export const generateStage = defineStage({
  manifest: { id: "generate", kind: "stage", version: "1", description: "generation items from ED and the model's responses" },
  sections: { generate: GenerateStageSpec },
  kinds: [itemsKind, generateKind],
  plan: (context) => {
    const found = context.section("generate")
    if (found === undefined) return
    // The encoded form (defaults applied) is what is hashed; runs share it by identity.
    const section = found.encoded as Section
    const { run } = context
    const format = run.config.data.format
    const items = context.add("items", context.once(["items", run.dataSource, format, section], () => {
      const { split, limit, systemPrompt } = section
      return context.node("items", { source: run.dataSource, format, split, limit: limit ?? null, systemPrompt: systemPrompt ?? null })
    }))
    const from = context.model
    context.add("generate", context.once(["generate", ...modelKey(from), section, run.config.seed, items], () => {
      const { batchSize, decoding } = decodingOf(context.hasher, section)
      return context.node("generate", { ...modelInputs(from), batchSize, decoding, seed: run.config.seed }, { ...modelDeps(from), items })
    }))
  }
})

// Every seed and model generates with its section's decoding: split off and hashed once per section.
type Decoding = { readonly batchSize: unknown; readonly decoding: object }
const decodingsByPlanning = new WeakMap<ContentHasher, WeakMap<object, Decoding>>()
const decodingOf = (hasher: ContentHasher, section: Section) => {
  let decodings = decodingsByPlanning.get(hasher)
  if (decodings === undefined) decodingsByPlanning.set(hasher, decodings = new WeakMap())
  let found = decodings.get(section)
  if (found === undefined) {
    const { split: _split, limit: _limit, systemPrompt: _systemPrompt, batchSize, ...decoding } = section
    decodings.set(section, found = { batchSize, decoding: hasher.remember(decoding) })
  }
  return found
}
