import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

metricContract(plugin, { badParams: { topSpans: -1 } })
