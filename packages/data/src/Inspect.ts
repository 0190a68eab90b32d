import { type DatasetLoad, ED_EMOTIONS, MalformedRow } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { cutForGeneration } from "./GenerationItems.ts"
import { loadDataset, type LoadOptions } from "./Sources.ts"

const Counts = Schema.Record({ key: Schema.String, value: Schema.Int })

/** Per-split figures of `empo data inspect`. */
export class SplitSummary extends Schema.Class<SplitSummary>("SplitSummary")({
  dialogues: Schema.Int,
  utterances: Schema.Int,
  /** Dialogues that yield a generation item (have a listener turn). */
  items: Schema.Int,
  emotions: Counts
}) {}

/** What `empo data inspect` reports (its `--json` output). */
export class InspectReport extends Schema.Class<InspectReport>("InspectReport")({
  format: Schema.String,
  files: Schema.Array(Schema.String),
  dialogues: Schema.Int,
  utterances: Schema.Int,
  droppedHitRows: Schema.Int,
  splits: Schema.Record({ key: Schema.String, value: SplitSummary }),
  malformedCount: Schema.Int,
  /** The first 50 malformed rows (all are counted in `malformedCount`). */
  malformed: Schema.Array(MalformedRow)
}) {}

/** Pure summary of a load. */
export const summarizeLoad = (load: DatasetLoad): InspectReport => {
  const splits: Record<string, { dialogues: number; utterances: number; items: number; emotions: Record<string, number> }> = {}
  for (const d of load.dialogues) {
    const s = (splits[d.split] ??= { dialogues: 0, utterances: 0, items: 0, emotions: Object.fromEntries(ED_EMOTIONS.map((e) => [e, 0])) })
    s.dialogues++
    s.utterances += d.turns.length
    if (cutForGeneration(d) !== undefined) s.items++
    s.emotions[d.emotion] = (s.emotions[d.emotion] ?? 0) + 1
  }
  return InspectReport.make({
    format: load.format,
    files: load.files,
    dialogues: load.dialogues.length,
    utterances: load.utterances,
    droppedHitRows: load.droppedHitRows ?? 0,
    splits: Object.fromEntries(Object.entries(splits).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, SplitSummary.make(v)])),
    malformedCount: load.malformed.length,
    malformed: load.malformed.slice(0, 50)
  })
}

/** Loads a source and summarises it (`empo data inspect`). */
export const inspectDataset = Effect.fn("inspectDataset")(function*(options: LoadOptions) {
  return summarizeLoad(yield* loadDataset(options))
})
