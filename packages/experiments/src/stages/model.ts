import * as Path from "@effect/platform/Path"
import { TinyModelRequest, TrainingBackend } from "@empo/core/Training"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { defineStage, defineStageKind } from "../Stage.ts"
import { planDataset } from "./dataset.ts"
import { failWith, StageFiles, withTrainingBackend } from "./shared.ts"

/** A tiny model's architecture and seed, as hashed; it is trained from the run's SFT corpus (`corpus`). */
export const TinyModelInputs = Schema.Struct({
  layers: Schema.Int,
  hidden: Schema.Int,
  heads: Schema.Int,
  vocab: Schema.Int,
  maxPositions: Schema.Int,
  seed: Schema.Int
})

/** Builds a tiny Llama-architecture model and tokenizer from the corpus (no download). */
export const tinyModelKind = defineStageKind({
  kind: "tiny-model",
  artifactKind: "model",
  pool: "compute",
  inputs: TinyModelInputs,
  execute: (context) => Effect.gen(function* () {
    const path = yield* Path.Path
    const i = context.inputs
    const info = yield* Effect.flatMap(TrainingBackend, (backend) => backend.tinyModel(TinyModelRequest.make({
      corpus: path.join(context.upstream["corpus"]!, StageFiles.data), outputDir: context.outputDir, ...i
    }))).pipe(Effect.mapError(failWith("tiny model")))
    yield* context.progress(`${info.parameters} parameters, vocabulary ${info.vocabSize}`)
    return { summary: { parameters: info.parameters } }
  }).pipe(withTrainingBackend)
})

/** The run's base model: a tiny model built from the SFT corpus, or a reference (hub id, folder) used as is. */
export const modelStage = defineStage({
  manifest: { id: "model", kind: "stage", version: "1", description: "the base model: a tiny model built from ED, a hub id or a local folder" },
  kinds: [tinyModelKind],
  plan: (context) => {
    const { config } = context.run
    if (config.model.kind === "tiny") {
      const corpus = planDataset(context, "sft")
      const tinySpec = config.model
      const stage = context.once(["tiny-model", tinySpec, config.seed, corpus], () => {
        const { kind: _kind, ...tiny } = tinySpec
        return context.node("tiny-model", { ...tiny, seed: config.seed }, { corpus })
      })
      context.model = { stage: context.add("model", stage) }
    } else {
      context.model = { ref: config.model.kind === "hub" ? config.model.id : config.model.path }
    }
    context.models.push({ role: "base", source: context.model })
  }
})
