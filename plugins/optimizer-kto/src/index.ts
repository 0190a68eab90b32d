import { commonTrainParamFields, defineOptimizer, trlOptimizerLayer } from "@empo/core/Optimizer"
import * as Schema from "effect/Schema"

/** KTO params: the common TRL fields, β and the desirable/undesirable weights; batches need ≥ 2 rows. */
export const KtoParams = Schema.Struct({
  ...commonTrainParamFields,
  beta: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 0.1 }),
  desirableWeight: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1 }),
  undesirableWeight: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1 })
}).pipe(
  Schema.filter((params) =>
    params.batchSize >= 2 || {
      path: ["batchSize"],
      message: "KTO needs batchSize ≥ 2: its KL term pairs each completion with another one from the same batch"
    }
  )
)
export type KtoParams = typeof KtoParams.Type

/**
 * Kahneman-Tversky optimization (TRL KTOTrainer) on unpaired `{prompt, completion, label}` rows. Preference
 * pairs are refused (file, line and the conversion to use are named), never silently split.
 */
export const ktoOptimizer = defineOptimizer({
  manifest: {
    id: "kto",
    kind: "optimizer",
    version: "0.1.0",
    description: "KTO (TRL KTOTrainer) on unpaired desirable/undesirable completions",
    stage: "kto",
    dataFormat: "kto",
    presetsDir: new URL("../presets/", import.meta.url)
  },
  params: KtoParams,
  layer: (params) => trlOptimizerLayer("kto", "kto", params)
})

export default ktoOptimizer
