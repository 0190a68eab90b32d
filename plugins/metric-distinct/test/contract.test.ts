import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

metricContract(plugin, { badParams: { orders: [0] }, params: { orders: [1, 2, 3] } })
