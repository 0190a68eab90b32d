import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Metric } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { readPredictions } from "@empo/metrics"
import { contractEnvironment } from "@empo/metrics/testing/metricContract"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { DiversityParams, foldSpans, plugin, prefixTreeNodes, spanFrequency, spanToken } from "../src/index.ts"

const whitespace = (text: string) => text.split(" ").filter((t) => t !== "")

describe("span folding (pure)", () => {
  it("merges the heaviest n-gram first and stops when nothing repeats", () => {
    const corpus = ["a b c d", "a b c e", "x a b c"].map(whitespace)
    const { templates, spans } = foldSpans(corpus, whitespace)
    // "a b c" (3 × 3 = 9) beats "a b" / "b c" (2 × 3 = 6).
    assert.deepStrictEqual([...spans.values()][0], ["a", "b", "c"])
    assert.deepStrictEqual(templates, [[spanToken(1), "d"], [spanToken(1), "e"], ["x", spanToken(1)]])
  })

  it("breaks weight ties by the shorter n-gram, then by first occurrence", () => {
    // "p q" × 3 (weight 6) ties with "r s t" × 2 (weight 6): the shorter wins.
    const corpus = ["r s t", "r s t", "p q", "p q", "p q"].map(whitespace)
    assert.deepStrictEqual([...foldSpans(corpus, whitespace).spans.values()][0], ["p", "q"])
    // "m n" and "y z" both × 2: "y z" occurs first (response 0).
    const later = ["y z", "m n", "y z m n"].map(whitespace)
    assert.deepStrictEqual([...foldSpans(later, whitespace).spans.values()][0], ["y", "z"])
  })

  it("replaces substrings like the original's str.replace (can hit inside longer tokens)", () => {
    const corpus = ["I 'm AI 'm", "I 'm ok", "I 'm fine"].map(whitespace)
    const { templates } = foldSpans(corpus, whitespace)
    // "I 'm" (2 × 3 = 6) is chosen; in the first response the replace also turns "AI 'm" into "Aspan_…".
    assert.deepStrictEqual(templates[0], [spanToken(1), `A${spanToken(1)}`])
  })

  it("prefix tree node counts include the root; recursive span counts expand nested spans", () => {
    assert.deepStrictEqual(prefixTreeNodes([["a", "b"], ["a", "c"], ["d"]]), { nodes: 5, rootChildren: 2 })
    assert.deepStrictEqual(prefixTreeNodes([]), { nodes: 1, rootChildren: 0 })
    const spans = new Map([["span_1", ["x", "y"]], ["span_2", ["span_1", "z"]]])
    assert.deepStrictEqual([...spanFrequency([["span_2", "span_1"]], spans)], [["span_2", 1], ["span_1", 2]])
  })
})

// empo-method §6.2 tree rows: exact.
const reference = [
  { name: "baseline", file: "baseline_zephyr-7b-sft-full.txt", human: false, ratio: 0.4453, folded: 29080, unfolded: 65304, starts: 31, responses: 2529, templates: 2529, spanNodes: 5339, created: 5315, rootChildren: 788, top: ["It 's", 1425] },
  { name: "DPO d270", file: "dpo_zephyr-7b-sft-full124_d270.txt", human: false, ratio: 0.5362, folded: 16034, unfolded: 29901, starts: 83, responses: 2525, templates: 2524, spanNodes: 2899, created: 2894, rootChildren: 722, top: [". I", 669] },
  { name: "human", file: "baseline_zephyr-7b-sft-full.txt", human: true, ratio: 0.6564, folded: 22279, unfolded: 33943, starts: 370, responses: 2527, templates: 2526, spanNodes: 2746, created: 2736, rootChildren: 881, top: [". I", 290] }
] as const

describe("diversity on the study's predictions (§6.2, exact)", () => {
  for (const ref of reference) {
    it.effect(`${ref.name}: tree statistics`, () =>
      Effect.gen(function* () {
        const { items } = yield* readPredictions(sharedData("predictions", ref.file), { human: ref.human })
        const metric = yield* Effect.provide(Metric, plugin.layer(yield* Schema.decodeUnknown(DiversityParams)({})))
        const { aggregate: a, params } = yield* metric.score(items)
        assert.strictEqual(a["compression_ratio"]!.toFixed(4), ref.ratio.toFixed(4))
        assert.deepStrictEqual(
          [a["nodes_folded"], a["nodes_unfolded"], a["unique_starting_words"], a["unique_responses"], a["unique_templates"], a["span_nodes"], a["spans_created"], a["folded_root_children"]],
          [ref.folded, ref.unfolded, ref.starts, ref.responses, ref.templates, ref.spanNodes, ref.created, ref.rootChildren]
        )
        assert.strictEqual(a["top_span_1_count"], ref.top[1])
        assert.strictEqual((params as { topSpanTexts: ReadonlyArray<string> }).topSpanTexts[0], ref.top[0])
      }).pipe(Effect.provide(contractEnvironment), Effect.provide(NodeContext.layer)), 300_000)
  }
})
