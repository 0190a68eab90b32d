import { defineMetric, type EvalItem, keysWith, Metric, MetricResource, MetricScores, Tokenizer } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { NgramCounter } from "./distinct.ts"

export * from "./distinct.ts"

export const DistinctParams = Schema.Struct({
  /** n-gram orders to report. */
  orders: Schema.optionalWith(Schema.NonEmptyArray(Schema.Int.pipe(Schema.between(1, 8))), { default: () => [1, 2, 3] as const }),
  /** Lowercase the tokens (the study's supplementary distinct-n does). */
  lowercase: Schema.optionalWith(Schema.Boolean, { default: () => true })
})
export type DistinctParams = typeof DistinctParams.Type

// 1.1.0: the per-item columns are `item_distinct_<n>` (they were named like the corpus values).
const version = "1.1.0"

export const plugin = defineMetric({
  manifest: {
    id: "distinct",
    kind: "metric",
    version,
    description: "Corpus distinct-n (unique n-grams / all n-grams, within responses) and n-gram entropy in bits, over NLTK tokens",
    // More distinct n-grams and a flatter n-gram distribution mean more diverse responses.
    keys: keysWith("higher", {
      distinct_1: "distinct-1", distinct_2: "distinct-2", distinct_3: "distinct-3", entropy_1: "H1 (bits)", entropy_2: "H2 (bits)", entropy_3: "H3 (bits)"
    })
  },
  params: DistinctParams,
  layer: (params: DistinctParams) =>
    Layer.effect(
      Metric,
      Effect.gen(function* () {
        const tokenizer = yield* Tokenizer
        const resources = [new MetricResource(tokenizer.resource)]
        // Each response tokenized and its n-grams interned once: `empo eval --compare` rescores resampled items
        // hundreds of times. Tokenize the original text, then lowercase tokens: lowercasing first changes Punkt's
        // sentence splits.
        const counter = new NgramCounter(params.orders, (text) => {
          const tokens = tokenizer.wordTokenize(text)
          return params.lowercase ? tokens.map((t) => t.toLowerCase()) : tokens
        })
        const score = Effect.fn("distinct.score")(function* (items: ReadonlyArray<EvalItem>) {
          const texts = items.map((item) => item.response)
          const perItem: Record<string, ReadonlyArray<number>> = {}
          const aggregate: Record<string, number> = {}
          for (const n of params.orders) {
            const corpus = counter.corpus(texts, n)
            aggregate[`distinct_${n}`] = corpus.distinct
            aggregate[`entropy_${n}`] = corpus.entropy
            // Named apart from the corpus value: the mean of per-response distinct-n is a different (higher) number.
            perItem[`item_distinct_${n}`] = texts.map((text) => counter.itemDistinct(text, n))
          }
          return new MetricScores({ metric: "distinct", version, params, resources, perItem, aggregate })
        })
        return Metric.of({ id: "distinct", version, params, resources, score })
      })
    )
})
