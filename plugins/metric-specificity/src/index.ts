import * as Path from "@effect/platform/Path"
import { DataFiles, resolveDataFile } from "@empo/core/DataFolder"
import { defineMetric, Metric, MetricError, MetricResource, MetricScores, type EvalItem } from "@empo/core/Metric"
import { Tokenizer } from "@empo/core/Tokenizer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { loadCounts } from "./Counts.ts"
import { aggregateNidf, NIDF_KEYS, nidfTable, responseNidf } from "./nidf.ts"

export * from "./Counts.ts"
export * from "./nidf.ts"

const ID = "specificity"
const VERSION = "1.0.0"
const COUNTS_HINT = "build one with `empo counts build --corpus <file> --out <counts.json>`"

/** The document-frequency counts NIDF is computed against (`empo counts build` makes them from any corpus). */
export const SpecificityParams = Schema.Struct({
  /** Absent: `empathetic_dialogues/ed_counts.json` of the data folder (`EMPO_DATA_DIR`, then the cache). */
  counts: Schema.optional(Schema.NonEmptyString)
})
export type SpecificityParams = typeof SpecificityParams.Type

const makeSpecificityMetric = Effect.fn("SpecificityMetric.make")(function* (params: SpecificityParams) {
  const tokenizer = yield* Tokenizer
  const path = yield* Path.Path
  const file = params.counts ?? (yield* resolveDataFile(DataFiles.edCounts).pipe(Effect.mapError((error) =>
    new MetricError({ metric: ID, reason: `no \`counts\` param: ${error.message}; ${COUNTS_HINT}`, inputFault: true }))))
  const { counts, sha256 } = yield* loadCounts(file).pipe(
    Effect.mapError((error) =>
      new MetricError({
        metric: ID,
        reason: `${error.message} (param \`counts\`; ${COUNTS_HINT})`,
        inputFault: true
      }))
  )
  const table = nidfTable(counts)
  const resources = [new MetricResource({ name: path.basename(file), sha256 }), new MetricResource(tokenizer.resource)]

  const score = Effect.fn("SpecificityMetric.score")(function* (items: ReadonlyArray<EvalItem>) {
    // Responses are tokenized as they are (no lower-casing), like the counts: the study's choice.
    const nidf = items.map((item) => responseNidf(tokenizer.wordTokenize(item.response), table))
    return new MetricScores({ metric: ID, version: VERSION, params, resources, perItem: { nidf }, aggregate: aggregateNidf(nidf) })
  })
  return Metric.of({ id: ID, version: VERSION, params, resources, score })
})

/** The `specificity` metric plugin (NIDF). */
export const plugin = defineMetric<SpecificityParams>({
  manifest: {
    id: ID,
    kind: "metric",
    version: VERSION,
    description: "Word specificity: mean NIDF of a response's distinct NLTK tokens against corpus document frequencies (EmPO §5.4)",
    keys: NIDF_KEYS,
    files: [{ param: "counts", dataFile: DataFiles.edCounts, hint: COUNTS_HINT }]
  },
  params: SpecificityParams,
  layer: (params) => Layer.effect(Metric, makeSpecificityMetric(params))
})
