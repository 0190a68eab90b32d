import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { empoProcess } from "./support/cliProcess.ts"

const data = (...p: Array<string>) => sharedData(...p)
const common = [
  "--punkt", data("nltk", "punkt_english.json"),
  "--param", `vad.vadLexicon=${data("lexicons", "NRC-VAD-Lexicon.txt")}`,
  "--param", `vad.intensityLexicon=${data("lexicons", "NRC-Emotion-Intensity.txt")}`,
  "--param", `specificity.counts=${data("empathetic_dialogues", "ed_counts.json")}`
]

interface Summary {
  readonly n: number
  readonly metrics: Record<string, Record<string, number>>
}

// empo-method §6.2, every number these metrics produce (4 decimals; counts exact).
const expected = {
  baseline: {
    vad: { diff_max_v_abs_mean: 0.1139, diff_max_a_abs_mean: 0.1481, diff_max_d_abs_mean: 0.1270, diff_max_intensity_abs_mean: 0.2433, diff_max_v_abs_sd: 0.1419, diff_max_a_abs_sd: 0.1333, diff_max_d_abs_sd: 0.1247, diff_max_intensity_abs_sd: 0.2266, diff_max_v_signed_mean: -0.0910, diff_max_a_signed_mean: -0.0815, diff_max_d_signed_mean: -0.0908, diff_max_intensity_signed_mean: -0.1361, diff_mean_v_abs_mean: 0.0822, diff_mean_a_abs_mean: 0.0530, diff_mean_d_abs_mean: 0.0656, response_max_v_mean: 0.9193, response_max_a_mean: 0.7417, response_max_d_mean: 0.7927 },
    specificity: { nidf_mean: 0.2994, nidf_sd: 0.0500, nidf_mean_no_outliers: 0.2983, nidf_n_no_outliers: 2525 },
    diversity: { compression_ratio: 0.4453, nodes_folded: 29080, nodes_unfolded: 65304, unique_starting_words: 31, unique_responses: 2529, unique_templates: 2529, span_nodes: 5339, spans_created: 5315, folded_root_children: 788 },
    distinct: { distinct_1: 0.0437, distinct_2: 0.2367, distinct_3: 0.4458 },
    length: { chars_mean: 152.32, tokens_mean: 33.31, tokens_median: 30 },
    "epitome-saved": { diff_ER: 1.1201, diff_IP: 0.6031, diff_EX: 1.4409, diff_mean: 1.0547, pred_ER: 1.2264, pred_IP: 0.0268, pred_EX: 0.7008, gt_ER: 0.5315, gt_IP: 0.3000, gt_EX: 0.3063 }
  },
  dpo: {
    vad: { diff_max_v_abs_mean: 0.1259, diff_max_a_abs_mean: 0.1675, diff_max_d_abs_mean: 0.1267, diff_max_intensity_abs_mean: 0.2724, diff_max_v_abs_sd: 0.1473, diff_max_a_abs_sd: 0.1410, diff_max_d_abs_sd: 0.1228, diff_max_intensity_abs_sd: 0.2393, diff_max_v_signed_mean: -0.0411, diff_max_a_signed_mean: 0.0021, diff_max_d_signed_mean: -0.0180, diff_max_intensity_signed_mean: 0.0033, diff_mean_v_abs_mean: 0.0816, diff_mean_a_abs_mean: 0.0546, diff_mean_d_abs_mean: 0.0657, response_max_v_mean: 0.8694, response_max_a_mean: 0.6580, response_max_d_mean: 0.7199 },
    specificity: { nidf_mean: 0.2537, nidf_sd: 0.0475, nidf_mean_no_outliers: 0.2521, nidf_n_no_outliers: 2519 },
    diversity: { compression_ratio: 0.5362, nodes_folded: 16034, nodes_unfolded: 29901, unique_starting_words: 83, unique_responses: 2525, unique_templates: 2524, span_nodes: 2899, spans_created: 2894, folded_root_children: 722 },
    distinct: { distinct_1: 0.0520, distinct_2: 0.2845, distinct_3: 0.5298 },
    length: { chars_mean: 62.82, tokens_mean: 15.46, tokens_median: 14 },
    "epitome-saved": { diff_ER: 0.5953, diff_IP: 0.8000, diff_EX: 0.7213, diff_mean: 0.7055, pred_ER: 0.7047, pred_IP: 0.3031, pred_EX: 0.1472 }
  },
  human: {
    vad: { diff_max_v_abs_mean: 0.1427, diff_max_a_abs_mean: 0.1751, diff_max_d_abs_mean: 0.1431, diff_max_intensity_abs_mean: 0.2810, diff_max_v_abs_sd: 0.1785, diff_max_a_abs_sd: 0.1539, diff_max_d_abs_sd: 0.1433, diff_max_intensity_abs_sd: 0.2469, diff_max_v_signed_mean: -0.0004, diff_max_a_signed_mean: 0.0238, diff_max_d_signed_mean: 0.0065, diff_max_intensity_signed_mean: 0.0249, diff_mean_v_abs_mean: 0.0854, diff_mean_a_abs_mean: 0.0581, diff_mean_d_abs_mean: 0.0689, response_max_v_mean: 0.8287, response_max_a_mean: 0.6363, response_max_d_mean: 0.6954 },
    specificity: { nidf_mean: 0.2966, nidf_sd: 0.0664, nidf_mean_no_outliers: 0.2944, nidf_n_no_outliers: 2521 },
    diversity: { compression_ratio: 0.6564, nodes_folded: 22279, nodes_unfolded: 33943, unique_starting_words: 370, unique_responses: 2527, unique_templates: 2526, span_nodes: 2746, spans_created: 2736, folded_root_children: 881 },
    distinct: { distinct_1: 0.0850, distinct_2: 0.4619, distinct_3: 0.7929 },
    length: { chars_mean: 65.19, tokens_mean: 15.22, tokens_median: 13 }
  }
} as const

const systems = [
  { name: "baseline", args: ["--predictions", data("predictions", "baseline_zephyr-7b-sft-full.txt")] },
  { name: "dpo", args: ["--predictions", data("predictions", "dpo_zephyr-7b-sft-full124_d270.txt")] },
  { name: "human", args: ["--predictions", data("predictions", "baseline_zephyr-7b-sft-full.txt"), "--human"] }
] as const

describe("npx empo eval reproduces empo-method §6.2", () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-eval-cache-"))
  for (const system of systems) {
    it(`${system.name}: every metric key matches`, async () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "empo-eval-out-"))
      const result = await empoProcess(["eval", ...system.args, ...common, "--json", "--cache-dir", cacheDir, "--out", out])
      assert.strictEqual(result.code, 0, result.stderr)
      const summary = JSON.parse(result.stdout) as Summary
      assert.strictEqual(summary.n, 2540)
      for (const [metric, keys] of Object.entries(expected[system.name])) {
        for (const [key, value] of Object.entries(keys) as Array<[string, number]>) {
          const got = summary.metrics[metric]?.[key]
          assert.isDefined(got, `${metric}.${key}`)
          const decimals = key === "chars_mean" || key === "tokens_mean" ? 2 : 4
          assert.strictEqual(got!.toFixed(decimals), value.toFixed(decimals), `${system.name} ${metric}.${key}`)
        }
      }
      assert.include(result.stderr, "diversity: done in")
      const csv = fs.readFileSync(path.join(out, "scores.csv"), "utf8").trim().split("\n")
      assert.strictEqual(csv.length, 2541)
      assert.include(csv[0]!, "vad.diff_max_v")
    }, 600_000)
  }

  it("a second run is served from the cache", async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "empo-eval-cache-"))
    const first = await empoProcess(["eval", ...systems[1].args, ...common, "--metrics", "diversity,distinct", "--cache-dir", fresh])
    assert.notInclude(first.stderr, "(cached)")
    assert.strictEqual(fs.readdirSync(fresh).length, 2)
    const result = await empoProcess(["eval", ...systems[1].args, ...common, "--metrics", "diversity,distinct", "--cache-dir", fresh])
    assert.strictEqual(result.code, 0, result.stderr)
    assert.include(result.stderr, "diversity: done in")
    assert.include(result.stderr, "(cached)")
    assert.include(result.stdout, "compression_ratio      0.5362")
  }, 600_000)

  it("--compare reports deltas with CIs and p-values (paired by item id)", async () => {
    const result = await empoProcess(["eval", "--compare", data("predictions", "baseline_zephyr-7b-sft-full.txt"), data("predictions", "dpo_zephyr-7b-sft-full124_d270.txt"), ...common, "--metrics", "epitome-saved,distinct", "--json", "--cache-dir", cacheDir])
    assert.strictEqual(result.code, 0, result.stderr)
    const c = JSON.parse(result.stdout) as { paired: boolean; columns: Array<{ metric: string; column: string; delta: number; ci: { low: number; high: number }; pPermutation: number; pT: number }>; aggregates: Array<{ key: string; delta: number }> }
    assert.isTrue(c.paired)
    const er = c.columns.find((x) => x.metric === "epitome-saved" && x.column === "diff_ER")!
    assert.strictEqual(er.delta.toFixed(4), (0.5953 - 1.1201).toFixed(4))
    assert.isBelow(er.ci.low, er.delta)
    assert.isAbove(er.ci.high, er.delta)
    assert.isBelow(er.ci.high, 0)
    assert.isBelow(er.pPermutation, 0.001)
    assert.isBelow(er.pT, 1e-10)
    assert.strictEqual(c.aggregates.find((x) => x.key === "distinct_1")!.delta.toFixed(4), (0.0520 - 0.0437).toFixed(4))
  }, 600_000)
})

describe("npx empo eval: bad input exits 2 with a clear message, writes nothing", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-eval-bad-"))
  const cases: ReadonlyArray<[string, string | Uint8Array, ReadonlyArray<string>, RegExp]> = [
    ["empty.txt", "", [], /empty\.txt: file is empty/],
    ["noprevs.txt", "~gens\n0~hi\n", ["--metrics", "vad"], /prevs/], // length reads no user turn; vad needs one
    ["ok.txt", "~prevs~gens\n0~a~b\n", ["--response-column", "shortgens"], /missing column `shortgens`/],
    ["latin1.txt", new Uint8Array([...Buffer.from("~prevs~gens\n0~caf"), 0xe9, ...Buffer.from("~x\n")]), [], /latin1\.txt:2: file is not valid UTF-8/],
    ["ok2.txt", "~prevs~gens\n0~a~b\n", ["--metrics", "length,bleu"], /unknown metric `bleu`; known metrics: vad, specificity, diversity, distinct, length, epitome-saved/],
    ["ok3.txt", "~prevs~gens\n0~a~b\n", ["--metrics", "epitome-saved"], /no column `pred_ER_scores`/],
    ["ok4.txt", "~prevs~gens~gen_targets\n0~a~b~c\n", ["--human", "--metrics", "epitome-saved"], /epitome-saved reads EPITOME levels/],
    ["ok5.txt", "~prevs~gens\n0~a~b\n", ["--param", "distinct.orders=[0]", "--metrics", "distinct"], /invalid parameters for metric `distinct`/]
  ]
  for (const [name, content, extra, message] of cases) {
    it(`${name} ${extra.join(" ")}`, async () => {
      const file = path.join(tmp, name)
      fs.writeFileSync(file, content)
      const out = path.join(tmp, `out-${name}`)
      const result = await empoProcess(["eval", "--predictions", file, "--punkt", data("nltk", "punkt_english.json"), ...(extra.includes("--metrics") ? [] : ["--metrics", "length"]), "--no-cache", "--out", out, ...extra])
      assert.strictEqual(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
      assert.notInclude(result.stderr, "    at ")
      assert.isFalse(fs.existsSync(out))
    }, 120_000)
  }
})
