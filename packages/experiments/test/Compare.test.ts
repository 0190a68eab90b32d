import type { ComparisonData, RunId, RunRecord, StageId } from "@empo/store"
import { assert, describe, it } from "@effect/vitest"
import { defineMetric, Metric, MetricScores } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { bestRows, compareExperiment, renderCsv, renderLatex, renderTable, withReference, withSection } from "../src/Compare.ts"
import { Plugins } from "../src/Plugins.ts"

const run = (id: string, beta: number, seed: number) =>
  ({ id: id as RunId, experiment: "e", label: `beta=${beta} seed=${seed}`, seed, position: 0, configJson: "{}", status: "completed", createdAt: 0, startedAt: null, finishedAt: null }) as unknown as RunRecord

// β 0.1 scores 1, 2, 3 across seeds; β 0.5 scores 11, 12, 13: same spread, clearly different means.
const data: ComparisonData = {
  runs: [run("a0", 0.1, 0), run("a1", 0.1, 1), run("a2", 0.1, 2), run("b0", 0.5, 0), run("b1", 0.5, 1), run("b2", 0.5, 2)],
  params: ["a0", "a1", "a2", "b0", "b1", "b2"].flatMap((id, i) => [
    { runId: id as RunId, key: "stages.preference.params.beta", value: i < 3 ? 0.1 : 0.5 },
    { runId: id as RunId, key: "model.kind", value: "tiny" },
    { runId: id as RunId, key: "seed", value: i % 3 }
  ]),
  summary: ["a0", "a1", "a2", "b0", "b1", "b2"].flatMap((id, i) => [
    { runId: id as RunId, stageId: `evaluate-${id}` as StageId, key: "length.tokens_mean", value: (i < 3 ? 1 : 11) + (i % 3) },
    { runId: id as RunId, stageId: `train-${id}` as StageId, key: "preference.train_loss", value: 0.5 }
  ])
}

describe("compareExperiment", () => {
  it("keeps only varying params, groups seeds, gives mean ± t-based 95% CI and Welch p against the baseline", () => {
    const table = compareExperiment("e", data, { baseline: "a0" as RunId })
    if (!("rows" in table)) throw table
    assert.deepStrictEqual(table.varying, ["stages.preference.params.beta"])
    assert.deepStrictEqual(table.metrics, ["length.tokens_mean"])
    const [a, b] = table.rows
    assert.isTrue(a!.isBaseline)
    assert.strictEqual(a!.metrics["length.tokens_mean"]!.mean, 2)
    // sd = 1, n = 3: t(0.975, 2) = 4.302653 → half-width 4.302653 / √3
    assert.closeTo(a!.metrics["length.tokens_mean"]!.ci95, 4.302653 / Math.sqrt(3), 1e-5)
    assert.strictEqual(b!.metrics["length.tokens_mean"]!.delta, 10)
    // Welch t = 10 / √(2/3), df = 4 → p ≈ 0.000257 (scipy.stats.ttest_ind(equal_var=False))
    assert.closeTo(b!.metrics["length.tokens_mean"]!.p!, 0.000257, 2e-5)
    assert.include(renderTable(table), "12 ± 2.5***")
    assert.include(renderCsv(table), "stages.preference.params.beta,runs,length.tokens_mean.mean")
    assert.include(renderLatex(table, () => "higher"), "\\textbf{12 $\\pm$ 2.5$^\\dagger$}")
  })

  it.effect("the LaTeX export bolds the minimum of a lower-is-better metric and nothing for one without a direction", () =>
    Effect.gen(function* () {
      const length = defineMetric({
        manifest: {
          id: "length", kind: "metric", version: "1.0.0", description: "test plugin with two directions",
          keys: { tokens_mean: { direction: "lower", label: "tokens" }, chars_mean: { direction: "none", label: "chars" } }
        },
        params: Schema.Struct({}),
        layer: () => Layer.succeed(Metric, Metric.of({ id: "length", version: "1.0.0", params: {}, resources: [], score: () => Effect.succeed(new MetricScores({ metric: "length", version: "1.0.0", params: {}, resources: [], perItem: {}, aggregate: {} })) }))
      })
      const plugins = yield* Plugins.make({ metrics: [length], optimizers: [] })
      const directionOf = (key: string) => plugins.metricKey(key)?.direction
      const withChars: ComparisonData = {
        ...data,
        summary: [...data.summary, ...data.runs.map((r, i) => ({ runId: r.id, stageId: `evaluate-${r.id}` as StageId, key: "length.chars_mean", value: i }))]
      }
      const table = compareExperiment("e", withChars)
      if (!("rows" in table)) throw table
      assert.deepStrictEqual(bestRows(table, directionOf), { "length.chars_mean": undefined, "length.tokens_mean": 0 })
      const latex = renderLatex(table, directionOf)
      // β 0.1 has the lower mean of tokens (2 vs 12): bold; chars has no direction: nothing bold.
      assert.include(latex, "\\textbf{2 $\\pm$ 2.5}")
      assert.notInclude(latex, "\\textbf{12")
      assert.strictEqual(latex.match(/\\textbf/g)?.length, 1)
      // The training table: a loss is lower-is-better, reward accuracies higher, unknown keys undescribed.
      assert.strictEqual(directionOf("sft.eval_loss"), "lower")
      assert.strictEqual(directionOf("preference.rewards/accuracies"), "higher")
      assert.isUndefined(directionOf("train.loss"), "training keys are named by role (sft., preference.)")
      assert.isUndefined(directionOf("generate.seconds"))
      assert.isUndefined(directionOf("length.unknown_key"))
    }))

  it("prints swept floats rounded in table and LaTeX headers, in full in CSV", () => {
    const beta = 0.010634217
    const swept: ComparisonData = { ...data, params: data.params.map((p) => (p.key.endsWith("beta") && p.value === 0.1 ? { ...p, value: beta } : p)) }
    const table = compareExperiment("e", swept, {})
    if (!("rows" in table)) throw table
    assert.include(renderTable(table), "0.01063")
    assert.notInclude(renderTable(table), String(beta))
    assert.notInclude(renderLatex(table, () => "higher"), String(beta))
    assert.include(renderCsv(table), String(beta))
  })

  it("selects metrics by prefix and names the known ones for an unknown request", () => {
    const train = compareExperiment("e", data, { metrics: ["preference."] })
    assert.isTrue("rows" in train && train.metrics[0] === "preference.train_loss")
    const unknown = compareExperiment("e", data, { metrics: ["bleu"] })
    assert.isFalse("rows" in unknown)
    if (!("rows" in unknown)) assert.include(unknown.message, "known: length.tokens_mean, preference.train_loss")
  })
})

describe("headline, direction markers and reference rows", () => {
  const keys = ["distinct.distinct_1", "length.tokens_mean", "specificity.nidf_mean", "vad.diff_max_v_abs_mean", "vad.diff_max_v_signed_mean", "bench.mmlu_acc", "epitome-saved.diff_mean", "vad.valence"]
  const directions: Record<string, "higher" | "lower" | "none"> = {
    "distinct.distinct_1": "higher", "length.tokens_mean": "none", "specificity.nidf_mean": "higher",
    "vad.diff_max_v_abs_mean": "lower", "vad.diff_max_v_signed_mean": "none", "epitome-saved.diff_mean": "lower", "bench.mmlu_acc": "higher"
  }
  const directionOf = (key: string) => directions[key]
  const wide: ComparisonData = {
    ...data,
    summary: data.runs.flatMap((r, i) => keys.map((key, k) => ({ runId: r.id, stageId: `evaluate-${r.id}` as StageId, key, value: k + (i < 3 ? 0 : 0.5) + (i % 3) * 0.1 })))
  }

  it("leads with the headline keys in headline order, only scores (higher/lower), then the rest", () => {
    const table = compareExperiment("e", wide, { directionOf })
    if (!("rows" in table)) throw table
    // diff-EPITOME, VAD |diff|, NIDF, then a benchmark; distinct, a description and an undescribed key follow, sorted.
    assert.deepStrictEqual(table.headline, ["epitome-saved.diff_mean", "vad.diff_max_v_abs_mean", "specificity.nidf_mean", "bench.mmlu_acc"])
    assert.deepStrictEqual(table.metrics, [...table.headline, "distinct.distinct_1", "length.tokens_mean", "vad.diff_max_v_signed_mean", "vad.valence"])
    assert.deepStrictEqual(table.directions, directions)
    const custom = compareExperiment("e", wide, { directionOf, headline: ["distinct", "length", "vad."] })
    if (!("rows" in custom)) throw custom
    assert.deepStrictEqual(custom.headline, ["distinct.distinct_1", "vad.diff_max_v_abs_mean"])
    // Keys asked for by name keep their order; the headline block is the headline keys they start with.
    const named = compareExperiment("e", wide, { directionOf, metrics: ["vad.diff_max_v_abs_mean", "length", "specificity"] })
    if (!("rows" in named)) throw named
    assert.deepStrictEqual(named.metrics, ["vad.diff_max_v_abs_mean", "length.tokens_mean", "specificity.nidf_mean"])
    assert.deepStrictEqual(named.headline, ["vad.diff_max_v_abs_mean"])
  })

  it("marks ↑/↓ in the terminal table and LaTeX, and renders a reference row as a column, a CSV row and a LaTeX row", () => {
    const table = compareExperiment("e", wide, { directionOf, baseline: "a0" as RunId })
    if (!("rows" in table)) throw table
    const gold = { n: 1, mean: 0.25, ci95: Number.NaN }
    const withGold = withSection(withReference(table, {
      label: "human (gold)", description: "the gold turns", metrics: { "vad.diff_max_v_abs_mean": gold, "distinct.distinct_1": { ...gold, mean: 0.75 } }
    }), { title: "retention", lines: ["mmlu 0.5 → 0.48"] })
    const text = renderTable(withGold).split("\n")
    assert.match(text[0]!, /^metric\s+0\.1 \(baseline\)\s+0\.5\s+human \(gold\)$/)
    assert.match(text[3]!, /^epitome-saved\.diff_mean ↓\s/)
    assert.match(text.find((l) => l.startsWith("vad.diff_max_v_abs_mean"))!, /^vad\.diff_max_v_abs_mean ↓\s+3\.1 ± 0\.25\s+3\.6 ± 0\.25\*\*\s+0\.25$/)
    assert.match(text.find((l) => l.startsWith("bench."))!, /^bench\.mmlu_acc ↑\s/)
    assert.match(text.find((l) => l.startsWith("vad.valence"))!, /^vad\.valence\s+7\.1/, "no marker without a known direction")
    assert.match(text.find((l) => l.startsWith("length."))!, /^length\.tokens_mean\s+1\.1 ± 0\.25/)
    // A blank line between the headline block and the rest.
    assert.strictEqual(text[3 + table.headline.length], "")
    assert.include(text, "↑ higher is better, ↓ lower is better (the metric plugins' manifests)")
    assert.include(text, "human (gold): the gold turns")
    assert.deepStrictEqual(text.slice(-2), ["retention", "  mmlu 0.5 → 0.48"])

    const csv = renderCsv(withGold).trim().split("\n")
    assert.strictEqual(csv.length, 4)
    assert.match(csv[3]!, /^,human \(gold\),/)
    assert.include(csv[3]!, "0.25,NaN,1,,")
    const latex = renderLatex(withGold, directionOf)
    assert.include(latex, "vad.diff\\_max\\_v\\_abs\\_mean $\\downarrow$")
    assert.include(latex, "specificity.nidf\\_mean $\\uparrow$")
    assert.include(latex, "\\midrule\n\\textit{human (gold)} &  & – & 0.25 & – & – & 0.75 & – & – & – \\\\\n\\bottomrule")
    // The reference is never the best: its 0.25 is the lowest |diff| and is not bold.
    assert.notInclude(latex, "\\textbf{0.25")
  })
})
