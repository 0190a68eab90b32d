import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { RunStore, type StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { itemKeyOf } from "../src/Analysis.ts"
import { FigureRenderer } from "../src/FigureRenderer.ts"
import { defaultHeadline, headlineKeys } from "../src/Headline.ts"
import { Report } from "../src/Report.ts"
import { headlineLatex } from "../src/Tables.ts"
import { keyOf, seedSweep } from "./fixture.ts"

const withReport = <A, E>(body: (report: Report["Type"]) => Effect.Effect<A, E>) => {
  const dir = mkdtempSync(join(tmpdir(), "empo-report-"))
  const store = RunStore.layer(join(dir, "empo.db")).pipe(Layer.provide(NodeContext.layer))
  return Effect.gen(function* () {
    yield* seedSweep(dir)
    return yield* body(yield* Report)
  }).pipe(
    Effect.provide(Layer.provideMerge(Report.layer.pipe(Layer.provide(FigureRenderer.layer())), Layer.merge(store, NodeContext.layer))),
    Effect.scoped
  )
}

describe("headline selection", () => {
  it("takes directed keys of prefixes in the configured order, exact keys as named", () => {
    const known = ["distinct.distinct_1", "length.tokens_mean", "specificity.nidf_mean", "specificity.nidf_sd", "vad.diff_mean_v_abs_mean", "vad.diff_mean_v_abs_sd", "bench.hellaswag"]
    // bench.* has no manifest here: with no direction it is a description, not a headline.
    assert.deepStrictEqual(headlineKeys(known, keyOf, defaultHeadline), ["vad.diff_mean_v_abs_mean", "specificity.nidf_mean", "distinct.distinct_1"])
    assert.deepStrictEqual(headlineKeys(known, () => ({ direction: "higher", label: "x" }), ["bench.", "length.tokens_mean"]), ["bench.hellaswag", "length.tokens_mean"])
  })

  it("maps a summary key to the per-item key it averages", () => {
    const items = ["vad.diff_mean_v", "vad.diff_mean", "specificity.nidf", "distinct.item_distinct_1"]
    assert.deepStrictEqual(itemKeyOf("vad.diff_mean_v_abs_mean", items), { key: "vad.diff_mean_v", abs: true })
    assert.deepStrictEqual(itemKeyOf("vad.diff_mean_v_signed_mean", items), { key: "vad.diff_mean_v", abs: false })
    assert.deepStrictEqual(itemKeyOf("specificity.nidf_mean", items), { key: "specificity.nidf", abs: false })
    assert.strictEqual(itemKeyOf("distinct.distinct_1", items), undefined)
  })
})

describe("Report.model", () => {
  it.effect("summarises configurations across seeds with CIs, tests against the baseline over items, marks the best", () =>
    withReport((report) => Effect.gen(function* () {
      const model = yield* report.model({ experiment: "sweep", keyOf })
      const { headline } = model
      assert.deepStrictEqual(headline.metrics, ["vad.diff_mean_v_abs_mean", "specificity.nidf_mean", "distinct.distinct_1"])
      assert.deepStrictEqual(headline.rows.map((r) => r.label), ["dpo β=0.1", "dpo β=0.5", "kto β=0.1"])
      assert.strictEqual(model.baselineLabel, "dpo β=0.1")
      const [base, better, kto] = headline.rows
      // Two seeds: a t-interval across seeds; KTO has one seed, so its interval comes from the items.
      assert.strictEqual(better!.cells["specificity.nidf_mean"]!.ciKind, "seeds")
      assert.isAbove(better!.cells["specificity.nidf_mean"]!.ci95, 0)
      assert.strictEqual(kto!.cells["specificity.nidf_mean"]!.ciKind, "items")
      // distinct has no per-item series: its CI across seeds exists for DPO only, and KTO's has none.
      assert.strictEqual(kto!.cells["distinct.distinct_1"]!.ciKind, "none")
      // NIDF is 0.06 higher for every item under β=0.5: the paired test over items is decisive.
      const nidf = better!.cells["specificity.nidf_mean"]!
      assert.strictEqual(nidf.test, "paired-items")
      assert.isBelow(nidf.p!, 0.001)
      assert.strictEqual(base!.cells["specificity.nidf_mean"]!.p, undefined)
      assert.strictEqual(headline.best["specificity.nidf_mean"], 1)
      // |ΔV| is lower-better: β=0.5 moves every item 0.06 closer.
      assert.strictEqual(headline.best["vad.diff_mean_v_abs_mean"], 1)
      // Curves: the shared SFT once, one preference series per run.
      const series = (role: string) => new Set(model.curves.filter((c) => c.role === role).map((c) => c.series))
      assert.deepStrictEqual([...series("sft")], ["all configurations"])
      assert.strictEqual(series("preference").size, 5)
      assert.isTrue(model.curves.some((c) => c.key === "kl"))
      // β is the swept number; the optimizer separates the lines.
      assert.deepStrictEqual([...new Set(model.sweeps.map((s) => `${s.param}:${s.series}`))], ["stages.preference.params.beta:dpo", "stages.preference.params.beta:kto"])
      // Per emotion: 4 emotions × 3 configurations × (|ΔV|, NIDF).
      assert.strictEqual(model.emotions.length, 4 * 3 * 2)
      assert.sameMembers([...new Set(model.emotions.map((e) => e.metric))], ["|vad diff_mean_v|", "specificity nidf"])
      assert.deepStrictEqual(model.lineage[0]!.steps.map((s) => s.role), ["dataset-sft", "model", "sft", "preference", "items", "generate", "evaluate"])
      assert.deepStrictEqual(model.lineage[0]!.steps[2]!.inputs, [{ stageId: "dataset-aaaa" as StageId, name: "data.jsonl", sha256: "a".repeat(64) }])
      const latex = headlineLatex(headline, keyOf, model.baselineLabel)
      assert.include(latex, "\\toprule")
      assert.match(latex, /\\textbf\{0\.\d+ \$\\pm\$ 0\.\d+\}\$\^\{\\ast\\ast\\ast\}\$/)
    })))

  it.effect("--runs, --baseline and --metrics narrow the report; wrong names fail with exit code 2", () =>
    withReport((report) => Effect.gen(function* () {
      const narrowed = yield* report.model({ experiment: "sweep", keyOf, runs: ["run00", "run10", "run11"], baseline: "run10", metrics: ["length."] })
      assert.deepStrictEqual(narrowed.headline.rows.map((r) => [r.label, r.isBaseline]), [["β=0.1", false], ["β=0.5", true]])
      assert.deepStrictEqual(narrowed.headline.metrics, ["length.tokens_mean"])
      const unknown = yield* Effect.flip(report.model({ experiment: "sweep", keyOf, metrics: ["bleu"] }))
      assert.strictEqual(unknown._tag, "UnknownMetricKeyError")
      assert.strictEqual((unknown as { exitCode?: number }).exitCode, 2)
      const outside = yield* Effect.flip(report.model({ experiment: "sweep", keyOf, runs: ["run00"], baseline: "run10" }))
      assert.strictEqual(outside._tag, "RunNotInExperimentError")
      assert.strictEqual((outside as { exitCode?: number }).exitCode, 2)
      const missing = yield* Effect.flip(report.model({ experiment: "nope", keyOf }))
      assert.strictEqual(missing._tag, "ExperimentNotFoundError")
    })))
})
