import { defineTrlOptimizer, positiveParam, trlParams } from "@empo/core/Optimizer"
import * as Schema from "effect/Schema"

/** KTO params: the common TRL fields, β and the desirable/undesirable weights; batches need ≥ 2 rows. */
export const KtoParams = trlParams({
  beta: positiveParam(0.1),
  desirableWeight: positiveParam(1),
  undesirableWeight: positiveParam(1)
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
export const ktoOptimizer = defineTrlOptimizer("kto", {
  description: "KTO (TRL KTOTrainer) on unpaired desirable/undesirable completions",
  params: KtoParams,
  presetsDir: new URL("../presets/", import.meta.url)
})
