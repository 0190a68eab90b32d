import { commonTrainParamFields, defineOptimizer, trlOptimizerLayer } from "@empo/core/Optimizer"
import * as Schema from "effect/Schema"

/**
 * IPO params: the common TRL fields and β. TRL length-normalises the IPO log-ratio and targets a margin of
 * 1/(2β), so β ≈ 0.5 gives a usable signal where DPO's 0.1 leaves the loss flat at 25.
 */
export const IpoParams = Schema.Struct({
  ...commonTrainParamFields,
  beta: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 0.5 })
})
export type IpoParams = typeof IpoParams.Type

/** Identity preference optimization (TRL DPOTrainer, `loss_type="ipo"`) on `{prompt, chosen, rejected}` pairs. */
export const ipoOptimizer = defineOptimizer({
  manifest: {
    id: "ipo",
    kind: "optimizer",
    version: "0.1.0",
    description: "IPO (TRL DPOTrainer with loss_type ipo; squared loss towards a 1/(2β) margin)",
    stage: "ipo",
    dataFormat: "preference",
    presetsDir: new URL("../presets/", import.meta.url)
  },
  params: IpoParams,
  layer: (params) => trlOptimizerLayer("ipo", "ipo", params)
})

export default ipoOptimizer
