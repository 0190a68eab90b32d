import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

// `Schema.Struct({})` accepts any non-nullish value (like TypeScript's `{}`), so `null` is the bad input.
metricContract(plugin, { badParams: null })
