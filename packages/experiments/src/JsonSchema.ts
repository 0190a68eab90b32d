import * as JSONSchema from "effect/JSONSchema"
import * as Schema from "effect/Schema"
import { ExperimentSpec } from "./ExperimentSpec.ts"
import type { StagePlugin } from "./Stage.ts"
import { stagesSchemaOf } from "./SpecLoader.ts"
import { builtinStages } from "./stages/index.ts"

/**
 * The JSON Schema editors use for experiment files (written to experiments/experiment.schema.json), with the
 * `stages:` sections of a catalogue's stage plugins (the app's: tools/gen-schema.ts passes them).
 */
export const experimentJsonSchema = (stagePlugins: ReadonlyArray<StagePlugin> = builtinStages): object => ({
  ...JSONSchema.make(Schema.Struct({ ...ExperimentSpec.fields, stages: stagesSchemaOf(stagePlugins) })),
  $id: "https://empo.dev/experiment.schema.json",
  title: "EmPO experiment",
  description: "An EmPO Workbench experiment: data, model, stages and an optional sweep"
})

/** The file's exact text (what `tools/gen-schema.ts` writes and its `--check` compares). */
export const experimentJsonSchemaText = (stagePlugins?: ReadonlyArray<StagePlugin>): string =>
  JSON.stringify(experimentJsonSchema(stagePlugins), null, 2) + "\n"
