import { EvalItem } from "@empo/core"
import { contractItems, metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

const levels = (k: number) => ({
  pred_ER_scores: String(k % 3), pred_IP_scores: "0", pred_EX_scores: String((k + 1) % 3),
  gt_ER_scores: "1", gt_IP_scores: "2", gt_EX_scores: "0"
})

metricContract(plugin, {
  badParams: { predictedColumn: "no-placeholder" },
  items: contractItems.map((item, k) => new EvalItem({ ...item, fields: levels(k) }))
})
