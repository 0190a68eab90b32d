import { sharedData } from "@empo/core/testing/sharedData"
import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

metricContract(plugin, {
  params: { counts: sharedData("empathetic_dialogues", "ed_counts.json") },
  badParams: { counts: "" }
})
