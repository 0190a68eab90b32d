import { sharedDataDir } from "@empo/core/testing/sharedData"
import * as path from "node:path"

/** The smallest Llama the `tiny` model kind builds: fast enough for a CPU test to generate or train with. */
export const tinyModel = "{ kind: tiny, layers: 1, hidden: 32, heads: 2, vocab: 500, maxPositions: 128 }"

/** An experiment's YAML over the shared ED data (its first `limit` validation dialogues); `stages` are the lines under `stages:`. */
export const edExperimentYaml = (options: {
  readonly name: string
  readonly limit: number
  readonly model?: string
  readonly stages: ReadonlyArray<string>
}): string =>
  [
    `name: ${options.name}`,
    "data:",
    `  source: ${path.join(sharedDataDir(), "empathetic_dialogues")}`,
    "  split: valid",
    `  limit: ${options.limit}`,
    `model: ${options.model ?? tinyModel}`,
    "stages:",
    ...options.stages,
    ""
  ].join("\n")
