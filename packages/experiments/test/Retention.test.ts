import type { ComparisonData, RunId, RunRecord, StageId } from "@empo/store"
import { assert, describe, it } from "@effect/vitest"
import { renderRetention, retentionOf } from "../src/Retention.ts"

const run = (id: string, label: string) =>
  ({ id: id as RunId, experiment: "e", label, seed: 0, position: 0, configJson: "{}", status: "completed", createdAt: 0, startedAt: null, finishedAt: null }) as unknown as RunRecord
const rows = (runId: string, stage: string, values: Record<string, number>) =>
  Object.entries(values).map(([key, value]) => ({ runId: runId as RunId, stageId: stage as StageId, key, value }))

// The base model's benchmark is one stage shared by both runs; each run's final model has its own.
const base = { "bench-base.mmlu.acc": 0.5882, "bench-base.mmlu.acc_stderr": 0.0039, "bench-base.gsm8k.exact_match.strict-match": 0.3,
  "bench-base.gsm8k.exact_match_stderr.strict-match": 0.01, "bench-base.wikitext.word_perplexity": 10 }
const data: ComparisonData = {
  runs: [run("a", "beta=0.1 seed=0"), run("b", "beta=0.5 seed=0")],
  params: [],
  summary: [
    ...rows("a", "benchmark-base", base), ...rows("b", "benchmark-base", base),
    // a: a 0.0050 fall, inside 2 × sqrt(0.0039² + 0.0040²) = 0.0112; a rise in perplexity beyond its (absent) SE is not flagged.
    ...rows("a", "benchmark-a", { "bench.mmlu.acc": 0.5832, "bench.mmlu.acc_stderr": 0.004, "bench.wikitext.word_perplexity": 12 }),
    // b: a 0.0300 fall, beyond 0.0112; the filtered metric falls 0.05 against 2 × sqrt(2) × 0.01 = 0.028.
    ...rows("b", "benchmark-b", { "bench.mmlu.acc": 0.5582, "bench.mmlu.acc_stderr": 0.004, "bench.gsm8k.exact_match.strict-match": 0.25,
      "bench.gsm8k.exact_match_stderr.strict-match": 0.01 })
  ]
}

describe("retention", () => {
  it("pairs each final-model score with the base model's and flags drops beyond two combined standard errors", () => {
    const table = retentionOf(data)!
    assert.deepStrictEqual(table.rows.map((r) => r.label), ["beta=0.1 seed=0", "beta=0.5 seed=0"])
    const [a, b] = table.rows.map((r) => Object.fromEntries(r.scores.map((s) => [s.key, s])))
    assert.closeTo(a!["mmlu.acc"]!.delta!, -0.005, 1e-12)
    assert.isFalse(a!["mmlu.acc"]!.dropped)
    assert.strictEqual(a!["mmlu.acc"]!.baseStderr, 0.0039)
    assert.isFalse(a!["wikitext.word_perplexity"]!.dropped, "no standard errors: nothing to flag against")
    assert.isTrue(b!["mmlu.acc"]!.dropped)
    assert.isTrue(b!["gsm8k.exact_match.strict-match"]!.dropped)
    assert.strictEqual(b!["gsm8k.exact_match.strict-match"]!.stderr, 0.01)
    assert.notProperty(b, "mmlu.acc_stderr")

    const text = renderRetention(table)
    assert.match(text, /beta=0\.5 seed=0\s+mmlu\.acc\s+0\.5582 ± 0\.0040\s+0\.5882 ± 0\.0039\s+-0\.0300\s+DROP > 2 SE/)
    assert.match(text, /beta=0\.1 seed=0\s+mmlu\.acc\s+0\.5832 ± 0\.0040\s+0\.5882 ± 0\.0039\s+-0\.0050$/m)
  })

  it("is absent when no run has benchmark scores", () => {
    assert.isUndefined(retentionOf({ runs: data.runs, params: [], summary: rows("a", "evaluate", { "length.mean": 3 }) }))
  })
})
