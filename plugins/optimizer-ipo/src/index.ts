import { defineTrlOptimizer, positiveParam, trlParams } from "@empo/core/Optimizer"

/**
 * IPO params: the common TRL fields and β. TRL length-normalises the IPO log-ratio and targets a margin of
 * 1/(2β), so β ≈ 0.5 gives a usable signal where DPO's 0.1 leaves the loss flat at 25.
 */
export const IpoParams = trlParams({ beta: positiveParam(0.5) })
export type IpoParams = typeof IpoParams.Type

/** Identity preference optimization (TRL DPOTrainer, `loss_type="ipo"`) on `{prompt, chosen, rejected}` pairs. */
export const ipoOptimizer = defineTrlOptimizer("ipo", {
  description: "IPO (TRL DPOTrainer with loss_type ipo; squared loss towards a 1/(2β) margin)",
  params: IpoParams,
  presetsDir: new URL("../presets/", import.meta.url)
})
