import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { BenchmarkStageSpec, benchmarkRole, benchmarkSummary, leaderboardBaseline, type LmEvalOutput, normaliseScore } from "../src/index.ts"

// The shape lm_eval 0.4.13 returns (trimmed): `"<metric>,<filter>"` keys, "N/A" stderrs, aliases.
const output: LmEvalOutput = {
  results: {
    mmlu: { alias: "mmlu", "acc,none": 0.5882, "acc_stderr,none": 0.0039 },
    gsm8k: { alias: "gsm8k", "exact_match,strict-match": 0.3, "exact_match_stderr,strict-match": 0.012, "exact_match,flexible-extract": 0.32 },
    leaderboard_ifeval: { "inst_level_strict_acc,none": 0.5, "inst_level_strict_acc_stderr,none": "N/A" },
    leaderboard_mmlu_pro: { "acc,none": 0.28, "acc_stderr,none": 0.004 },
    leaderboard_gpqa_main: { "acc_norm,none": 0.2, "acc_norm_stderr,none": 0.02 }
  },
  versions: { mmlu: 2 }
}

describe("benchmark stage", () => {
  it("turns every numeric `<metric>,<filter>` value into a `<task>.<metric>[.<filter>]` summary", () => {
    const summary = benchmarkSummary(output)
    assert.deepStrictEqual(summary, {
      "mmlu.acc": 0.5882, "mmlu.acc_stderr": 0.0039,
      "gsm8k.exact_match.strict-match": 0.3, "gsm8k.exact_match_stderr.strict-match": 0.012, "gsm8k.exact_match.flexible-extract": 0.32,
      "leaderboard_ifeval.inst_level_strict_acc": 0.5,
      "leaderboard_mmlu_pro.acc": 0.28, "leaderboard_mmlu_pro.acc_stderr": 0.004,
      "leaderboard_gpqa_main.acc_norm": 0.2, "leaderboard_gpqa_main.acc_norm_stderr": 0.02
    })
  })

  it("adds Open LLM Leaderboard v2-normalised scores beside the raw ones, for leaderboard tasks only", () => {
    const summary = benchmarkSummary(output, "leaderboard")
    // MMLU-Pro has 10 choices: (0.28 − 0.1) / 0.9; its stderr scales by 1 / 0.9.
    assert.closeTo(summary["leaderboard_mmlu_pro.acc_leaderboard"]!, 0.2, 1e-12)
    assert.closeTo(summary["leaderboard_mmlu_pro.acc_leaderboard_stderr"]!, 0.004 / 0.9, 1e-12)
    // GPQA (4 choices) below its random baseline counts as 0; IFEval is generative (baseline 0: unchanged).
    assert.strictEqual(summary["leaderboard_gpqa_main.acc_norm_leaderboard"], 0)
    assert.strictEqual(summary["leaderboard_ifeval.inst_level_strict_acc_leaderboard"], 0.5)
    assert.notProperty(summary, "mmlu.acc_leaderboard")
    assert.strictEqual(leaderboardBaseline("leaderboard_bbh_object_counting"), 1 / 19)
    assert.strictEqual(leaderboardBaseline("leaderboard_musr_team_allocation"), 1 / 3)
    assert.strictEqual(leaderboardBaseline("leaderboard_math_algebra_hard"), 0)
    assert.isUndefined(leaderboardBaseline("hellaswag"))
    assert.strictEqual(normaliseScore(0.625, 0.25), 0.5)
  })

  it("names the final model's node `bench` and the others `bench-<role>`", () => {
    assert.strictEqual(benchmarkRole("preference", true), "bench")
    assert.strictEqual(benchmarkRole("base", false), "bench-base")
  })

  it("decodes `stages.benchmark` with defaults and refuses bad values by field", () => {
    const spec = Schema.decodeUnknownSync(BenchmarkStageSpec)({ tasks: ["mmlu"], numFewshot: 5, batchSize: "auto" })
    assert.deepStrictEqual(spec, { tasks: ["mmlu"], numFewshot: 5, batchSize: "auto", applyChatTemplate: false, device: "cpu", dtype: "auto",
      models: ["base", "sft", "preference"], normalise: "none" })
    assert.throws(() => Schema.decodeUnknownSync(BenchmarkStageSpec)({ tasks: [] }), /tasks/)
    assert.throws(() => Schema.decodeUnknownSync(BenchmarkStageSpec)({ tasks: ["mmlu"], batchSize: 0 }), /batchSize/)
    assert.throws(() => Schema.decodeUnknownSync(BenchmarkStageSpec)({ tasks: ["mmlu"], models: ["dpo"] }), /models/)
    assert.throws(() => Schema.decodeUnknownSync(BenchmarkStageSpec)({ tasks: ["t"], includePath: "/no/such/tasks" }), /includePath[\s\S]*no folder \/no\/such\/tasks/)
    assert.strictEqual(Schema.decodeUnknownSync(BenchmarkStageSpec)({ tasks: ["t"], includePath: import.meta.dirname }).includePath, import.meta.dirname)
  })
})
