import type { ComparisonData, RunId, RunRecord, StageId } from "@empo/store"
import { assert, describe, it } from "@effect/vitest"
import { defineMetric, Metric, MetricScores } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { bestRows, compareExperiment, renderCsv, renderLatex, renderTable } from "../src/Compare.ts"
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
