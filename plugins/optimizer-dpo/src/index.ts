import { defineTrlOptimizer, positiveParam, trlParams } from "@empo/core/Optimizer"
import * as Schema from "effect/Schema"

/** DPO params: the common TRL fields, β and conservative-DPO label smoothing. */
export const DpoParams = trlParams({
  beta: positiveParam(0.1),
  labelSmoothing: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 0.5)), { default: () => 0 })
})
export type DpoParams = typeof DpoParams.Type

/** Direct preference optimization (TRL DPOTrainer, `loss_type="sigmoid"`) on `{prompt, chosen, rejected}` pairs. */
export const dpoOptimizer = defineTrlOptimizer("dpo", {
  description: "DPO, sigmoid loss (TRL DPOTrainer); the reference is the starting model (or its frozen adapter copy)",
  params: DpoParams,
  presetsDir: new URL("../presets/", import.meta.url)
})
