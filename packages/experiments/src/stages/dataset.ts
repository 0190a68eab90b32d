import * as Path from "@effect/platform/Path"
import { BuildOptions, buildDataset } from "@empo/grounding"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { StageId } from "@empo/store"
import type { PlanContext } from "../Stage.ts"
import { defineStage, defineStageKind } from "../Stage.ts"
import { ensureDir, failWith, StageFiles } from "./shared.ts"

/** A dataset node's inputs: the run's `data` section (less what the row kind ignores), as hashed. */
export const DatasetInputs = Schema.Struct({
  source: Schema.String,
  format: Schema.Literal("auto", "ed-raw", "ed-pairs", "hf"),
  split: Schema.Literal("train", "valid", "test", "all"),
  kind: Schema.Literal("sft", "preference", "kto"),
  grounder: Schema.optional(Schema.String),
  grounderMap: Schema.optional(Schema.String),
  lexicon: Schema.optional(Schema.String),
  negatives: Schema.optional(Schema.Int),
  mode: Schema.optional(Schema.Literal("faithful", "balanced")),
  systemPrompt: Schema.optional(Schema.String),
  /** Keep only the first N rows of the built dataset (applied by the builder, so its manifest is the file's). */
  limit: Schema.optional(Schema.Int),
  seed: Schema.optional(Schema.Int)
})
export type DatasetInputs = typeof DatasetInputs.Type

const builderKind = { preference: "dpo", kto: "kto", sft: "sft" } as const

/** Builds the training rows of one format (SFT dialogues, preference pairs, KTO examples) from ED. */
export const datasetKind = defineStageKind({
  kind: "dataset",
  artifactKind: "dataset",
  pool: "local",
  inputs: DatasetInputs,
  execute: (context) => Effect.gen(function* () {
    const path = yield* Path.Path
    const i = context.inputs
    yield* ensureDir(context.outputDir)
    const manifest = yield* buildDataset(BuildOptions.make({
      source: i.source, format: i.format, split: i.split, kind: builderKind[i.kind],
      ...(i.kind === "sft" || i.grounder === undefined ? {} : { grounder: i.grounder }),
      ...(i.grounderMap === undefined ? {} : { grounderMap: i.grounderMap }),
      ...(i.lexicon === undefined ? {} : { lexicon: i.lexicon }),
      ...(i.systemPrompt === undefined ? {} : { systemPrompt: i.systemPrompt }),
      ...(i.negatives === undefined ? {} : { negatives: i.negatives }),
      ...(i.mode === undefined ? {} : { mode: i.mode }),
      ...(i.seed === undefined ? {} : { seed: i.seed }),
      ...(i.limit === undefined ? {} : { limit: i.limit }),
      out: path.join(context.outputDir, StageFiles.data)
    })).pipe(Effect.mapError(failWith("dataset")))
    yield* context.progress(`${manifest.rows} ${manifest.kind} rows`)
    return { summary: { rows: manifest.rows } }
  })
})

/**
 * Plans the dataset of `format` for this run. SFT rows ignore grounding, so every grounder/negatives/mode variant
 * shares one SFT dataset.
 */
export const planDataset = (context: PlanContext, format: "sft" | "preference" | "kto"): StageId => {
  const { run } = context
  const section = (run.configJson as { readonly data: Record<string, unknown> }).data
  const stage = context.once(["dataset", run.dataSource, section, format], () => {
    const { source: _source, ...data } = section
    const { grounder: _g, grounderMap: _m, lexicon: _l, negatives: _n, mode: _mode, seed: _seed, ...common } = data
    return context.node("dataset", { source: run.dataSource, ...(format === "sft" ? common : data), kind: format })
  })
  return context.add(`dataset-${format}`, stage)
}

/** Datasets have no section of their own: the model and training stages plan the ones they read. */
export const datasetStage = defineStage({
  manifest: { id: "dataset", kind: "stage", version: "1", description: "training rows built from ED (SFT, preference pairs, KTO examples)" },
  kinds: [datasetKind],
  plan: () => {}
})
