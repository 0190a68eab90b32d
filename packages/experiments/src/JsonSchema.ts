import * as JSONSchema from "effect/JSONSchema"
import { ExperimentSpec } from "./ExperimentSpec.ts"

/** The JSON Schema editors use for experiment files (written to experiments/experiment.schema.json). */
export const experimentJsonSchema = (): object => ({
  ...JSONSchema.make(ExperimentSpec),
  $id: "https://empo.dev/experiment.schema.json",
  title: "EmPO experiment",
  description: "An EmPO Workbench experiment: data, model, stages and an optional sweep"
})

/** The file's exact text (what `tools/gen-schema.ts` writes and its `--check` compares). */
export const experimentJsonSchemaText = (): string => JSON.stringify(experimentJsonSchema(), null, 2) + "\n"
