import { defineMetric, Metric, MetricResource, MetricScores, type EvalItem } from "@empo/core/Metric"
import { Tokenizer } from "@empo/core/Tokenizer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { aggregateLength, codePointLength, LENGTH_KEYS } from "./length.ts"

export * from "./length.ts"

const ID = "length"
const VERSION = "1.0.0"

/** No parameters. */
export const LengthParams = Schema.Struct({})
export type LengthParams = typeof LengthParams.Type

const makeLengthMetric = Effect.fn("LengthMetric.make")(function* (params: LengthParams) {
  const tokenizer = yield* Tokenizer
  const resources = [new MetricResource(tokenizer.resource)]
  const score = Effect.fn("LengthMetric.score")(function* (items: ReadonlyArray<EvalItem>) {
    const chars = items.map((item) => codePointLength(item.response))
    const tokens = items.map((item) => tokenizer.wordTokenize(item.response).length)
    return new MetricScores({
      metric: ID, version: VERSION, params, resources, perItem: { chars, tokens }, aggregate: aggregateLength(chars, tokens)
    })
  })
  return Metric.of({ id: ID, version: VERSION, params, resources, score })
})

/** The `length` metric plugin. */
export const plugin = defineMetric<LengthParams>({
  manifest: {
    id: ID,
    kind: "metric",
    version: VERSION,
    description: "Response length in characters (code points) and NLTK tokens",
    keys: LENGTH_KEYS
  },
  params: LengthParams,
  layer: (params) => Layer.effect(Metric, makeLengthMetric(params))
})
