import { defineMetric, type EvalItem, keysWith, Metric, MetricResource, MetricScores, Tokenizer } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { foldSpans } from "./spanFolding.ts"
import { treeStatistics } from "./treeStatistics.ts"

export * from "./spanFolding.ts"
export * from "./treeStatistics.ts"

export const DiversityParams = Schema.Struct({
  /** How many of the most frequent spans to report (as `top_span_<k>_count`). */
  topSpans: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 100)), { default: () => 10 })
})
export type DiversityParams = typeof DiversityParams.Type

const version = "1.0.0"

export const plugin = defineMetric({
  manifest: {
    id: "diversity",
    kind: "metric",
    version,
    description: "The study's span/template folding (empo-method §5.5): compression ratio of the response tree, unique starting words, templates, span nodes",
    // empo-method §5.5: a lower compression ratio and fewer unique starts mean more templated, less diverse
    // responses; the tree sizes and span counts describe the folding. `top_span_<k>_count` keys vary with
    // `topSpans` and carry no direction.
    keys: {
      ...keysWith("higher", {
        compression_ratio: "compression", unique_starting_words: "unique starts", unique_responses: "unique responses", unique_templates: "unique templates"
      }),
      ...keysWith("none", {
        nodes_folded: "nodes (folded)", nodes_unfolded: "nodes (unfolded)", span_nodes: "span nodes", spans_created: "spans", folded_root_children: "root children"
      })
    }
  },
  params: DiversityParams,
  layer: (params: DiversityParams) =>
    Layer.effect(
      Metric,
      Effect.gen(function* () {
        const tokenizer = yield* Tokenizer
        const resources = [new MetricResource(tokenizer.resource)]
        const score = Effect.fn("diversity.score")(function* (items: ReadonlyArray<EvalItem>) {
          const responses = items.map((item) => item.response)
          const tokenized = responses.map((r) => tokenizer.wordTokenize(r))
          const { templates, spans } = foldSpans(tokenized, tokenizer.wordTokenize)
          const stats = treeStatistics(responses, tokenized, templates, spans, params.topSpans)
          const aggregate: Record<string, number> = {
            compression_ratio: stats.compressionRatio,
            nodes_folded: stats.nodesFolded,
            nodes_unfolded: stats.nodesUnfolded,
            unique_starting_words: stats.uniqueStartingWords,
            unique_responses: stats.uniqueResponses,
            unique_templates: stats.uniqueTemplates,
            span_nodes: stats.spanNodes,
            spans_created: stats.spansCreated,
            folded_root_children: stats.foldedRootChildren
          }
          stats.topSpans.forEach((s, k) => (aggregate[`top_span_${k + 1}_count`] = s.count))
          return new MetricScores({
            metric: "diversity",
            version,
            params: { ...params, topSpanTexts: stats.topSpans.map((s) => s.text) },
            resources,
            perItem: {
              response_tokens: tokenized.map((t) => t.length),
              template_tokens: templates.map((t) => t.length)
            },
            aggregate
          })
        })
        return Metric.of({ id: "diversity", version, params, resources, score })
      })
    )
})
