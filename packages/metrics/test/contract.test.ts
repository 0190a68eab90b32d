import { defineMetric, Metric, MetricScores } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { metricContract } from "../src/testing/metricContract.ts"

// The contract suite itself, on the smallest possible plugin.
const words = defineMetric({
  manifest: { id: "words", kind: "metric", version: "0.1.0", description: "whitespace words per response", keys: { words_mean: { direction: "none", label: "words" } } },
  params: Schema.Struct({ minLength: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }) }),
  layer: (params) =>
    Layer.succeed(Metric, Metric.of({
      id: "words", version: "0.1.0", params, resources: [],
      score: (items) => Effect.sync(() => {
        const counts = items.map((i) => i.response.split(/\s+/).filter((w) => w.length > params.minLength).length)
        return new MetricScores({ metric: "words", version: "0.1.0", params, resources: [], perItem: { words: counts }, aggregate: { words_mean: counts.reduce((s, x) => s + x, 0) / counts.length } })
      })
    }))
})

metricContract(words, { badParams: { minLength: -2 }, params: { minLength: 1 }, checkParams: (p) => { if (p.minLength !== 1) throw new Error("params not decoded") } })
