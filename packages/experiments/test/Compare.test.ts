import type { ComparisonData, RunId, RunRecord, StageId } from "@empo/store"
import { assert, describe, it } from "@effect/vitest"
import { compareExperiment, renderCsv, renderLatex, renderTable } from "../src/Compare.ts"

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
    { runId: id as RunId, stageId: `train-${id}` as StageId, key: "train.train_loss", value: 0.5 }
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
    assert.include(renderLatex(table), "\\textbf{12 $\\pm$ 2.5$^\\dagger$}")
  })

  it("selects metrics by prefix and names the known ones for an unknown request", () => {
    const train = compareExperiment("e", data, { metrics: ["train."] })
    assert.isTrue("rows" in train && train.metrics[0] === "train.train_loss")
    const unknown = compareExperiment("e", data, { metrics: ["bleu"] })
    assert.isFalse("rows" in unknown)
    if (!("rows" in unknown)) assert.include(unknown.message, "known: length.tokens_mean, train.train_loss")
  })
})
