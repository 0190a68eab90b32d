import * as NodeContext from "@effect/platform-node/NodeContext"
import type { Dialogue } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { DatasetSources } from "@empo/data"
import * as Effect from "effect/Effect"

/** Both shared ED pair files (val.csv + test.csv), loaded once per test file. */
export const sharedEdDir = (): string => sharedData("empathetic_dialogues")

let cached: Promise<ReadonlyArray<Dialogue>> | undefined

/** The real dialogues of the shared pair derivative (all splits). */
export const realDialogues = (): Effect.Effect<ReadonlyArray<Dialogue>> =>
  Effect.promise(() =>
    (cached ??= DatasetSources.loadDataset(DatasetSources.LoadOptions.make({ source: sharedEdDir(), format: "ed-pairs" })).pipe(
      Effect.map((load) => load.dialogues),
      Effect.provide(NodeContext.layer),
      Effect.runPromise
    ))
  )
