// The neural metrics end to end through `empo` and the real worker (issue 12): `empo model tiny-encoder` and
// `empo epitome train` on the shared EPITOME data (it must beat the majority class on ER), its checkpoints and
// the encoder scored by `epitome` and `bertscore` in `empo eval`, the quickstart's own metric entries in an
// experiment's evaluate stage and `empo compare`, and every bad input named with exit 2.
import { assert, describe, it } from "@effect/vitest"
import { sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { edExperimentYaml } from "./support/experimentYaml.ts"

const repo = path.resolve(import.meta.dirname, "../../..")
const python = process.env["EMPO_PYTHON"] ?? path.join(repo, ".venv", "bin", "python")
const punkt = ["--punkt", sharedData("nltk", "punkt_english.json")]
// One thread: the trained levels are then the same on every machine (and CI's two cores are shared).
process.env["EMPO_TORCH_THREADS"] = "1"

const failure = (exit: Exit.Exit<unknown, unknown>) => {
  const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  if (Option.isNone(error)) return assert.fail("expected a failure")
  return error.value as { _tag: string; message: string; exitCode: number }
}

/** The first `n` rows of the study's baseline predictions (the file's own header, `~`-separated). */
const predictionsSubset = (dir: string, n: number, drop?: string) => {
  const text = fs.readFileSync(sharedData("predictions", "baseline_zephyr-7b-sft-full.txt"), "utf8")
  const records: Array<string> = []
  let current = ""
  let quotes = 0
  for (const line of text.split("\n")) {
    current = current === "" ? line : `${current}\n${line}`
    quotes += (line.match(/"/g) ?? []).length
    if (quotes % 2 === 0) {
      records.push(current)
      current = ""
      quotes = 0
    }
    if (records.length === n + 1) break
  }
  let rows = records
  if (drop !== undefined) {
    const header = records[0]!.split("~")
    const keep = header.map((h, i) => (h === drop ? -1 : i)).filter((i) => i >= 0)
    rows = records.map((r) => keep.map((i) => r.split("~")[i]).join("~"))
  }
  const file = path.join(dir, drop === undefined ? "preds.txt" : `preds-no-${drop}.txt`)
  fs.writeFileSync(file, rows.join("\n") + "\n")
  return file
}

describe("neural metrics through empo", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-neural-"))
  process.env["EMPO_CACHE"] = path.join(dir, "cache")
  const encoder = path.join(dir, "encoder")
  const checkpoints = path.join(dir, "epitome")

  it.live("empo epitome train beats the majority class on ER test, reports all three, and its checkpoints score", () =>
    Effect.gen(function* () {
      const built = yield* empoInProcess(["model", "tiny-encoder", "--corpus", sharedData("epitome", "train.csv"), "--out", encoder], PluginsLive)
      assert.strictEqual(built.exit._tag, "Success", built.stdout)
      const train = yield* empoInProcess([
        "epitome", "train", "--data", path.join(sharedDataDir(), "epitome"), "--encoder", encoder, "--out", checkpoints,
        "--epochs", "4", "--lr", "1e-3", "--json"
      ], PluginsLive)
      assert.strictEqual(train.exit._tag, "Success", train.stdout)
      type Split = { accuracy: number; macroF1: number; n: number }
      const record = JSON.parse(train.stdout) as { mechanisms: Record<string, { test: Split; majority: { macroF1: number; accuracy: number } }> }
      assert.deepStrictEqual(Object.keys(record.mechanisms).sort(), ["ER", "EX", "IP"])
      for (const m of ["ER", "IP", "EX"]) {
        assert.strictEqual(record.mechanisms[m]!.test.n, 302)
        assert.isTrue(fs.existsSync(path.join(checkpoints, `finetuned_${m}.pth`)))
      }
      const er = record.mechanisms["ER"]!
      assert.isAbove(er.test.macroF1, er.majority.macroF1 + 0.03, JSON.stringify(er))
      const saved = JSON.parse(fs.readFileSync(path.join(checkpoints, "metrics.json"), "utf8")) as { mechanisms: Record<string, unknown> }
      assert.deepStrictEqual(Object.keys(saved.mechanisms).sort(), ["ER", "EX", "IP"])

      const preds = predictionsSubset(dir, 24)
      const evaluated = yield* empoInProcess([
        "eval", "--predictions", preds, "--metrics", "epitome,bertscore", ...punkt, "--no-cache", "--json",
        "--param", `epitome.checkpoints=${checkpoints}`, "--param", `epitome.encoder=${encoder}`,
        "--param", `bertscore.model=${encoder}`, "--param", "bertscore.layer=2", "--out", path.join(dir, "scores")
      ], PluginsLive)
      assert.strictEqual(evaluated.exit._tag, "Success", evaluated.stdout)
      const summary = JSON.parse(evaluated.stdout) as { n: number; metrics: Record<string, Record<string, number>> }
      assert.strictEqual(summary.n, 24)
      const epitome = summary.metrics["epitome"]!
      for (const m of ["ER", "IP", "EX"]) {
        assert.strictEqual(epitome[`pred_${m}_n0`]! + epitome[`pred_${m}_n1`]! + epitome[`pred_${m}_n2`]!, 24)
        assert.isAtLeast(epitome[`diff_${m}`]!, 0)
        assert.isAtMost(epitome[`diff_${m}`]!, 4)
      }
      const bert = summary.metrics["bertscore"]!
      assert.isAbove(bert["f1"]!, 0)
      assert.isBelow(bert["f1"]!, 1)
      const info = JSON.parse(fs.readFileSync(path.join(dir, "scores", "summary.json"), "utf8")) as { metricInfo: Record<string, { meta?: Record<string, string> }> }
      assert.match(info.metricInfo["bertscore"]!.meta!["hash"]!, /_L2_no-idf_version=0\.3\.13\(hug_trans=/)
    }), 600_000)

  it.live("bad input exits 2 naming the file: a missing checkpoint, another architecture, no tokenizer, no prevs", () =>
    Effect.gen(function* () {
      const preds = predictionsSubset(dir, 4)
      const evalWith = (params: ReadonlyArray<string>, file = preds, metrics = "epitome") =>
        empoInProcess(["eval", "--predictions", file, "--metrics", metrics, ...punkt, "--no-cache", ...params.flatMap((p) => ["--param", p])], PluginsLive)

      const partial = path.join(dir, "partial")
      fs.mkdirSync(partial)
      fs.copyFileSync(path.join(checkpoints, "finetuned_ER.pth"), path.join(partial, "finetuned_ER.pth"))
      fs.copyFileSync(path.join(checkpoints, "finetuned_EX.pth"), path.join(partial, "finetuned_EX.pth"))
      const missing = failure((yield* evalWith([`epitome.checkpoints=${partial}`, `epitome.encoder=${encoder}`])).exit)
      assert.strictEqual(missing.exitCode, 2)
      assert.include(missing.message, partial)
      assert.include(missing.message, "finetuned_IP.pth")

      const other = path.join(dir, "other")
      fs.cpSync(checkpoints, other, { recursive: true })
      execFileSync(python, ["-c", "import sys, torch; torch.save({'classifier.weight': torch.zeros(3, 32)}, sys.argv[1])", path.join(other, "finetuned_IP.pth")])
      const wrong = failure((yield* evalWith([`epitome.checkpoints=${other}`, `epitome.encoder=${encoder}`])).exit)
      assert.strictEqual(wrong.exitCode, 2)
      assert.include(wrong.message, path.join(other, "finetuned_IP.pth"))
      assert.include(wrong.message, "unexpected keys: classifier.weight")

      const bare = path.join(dir, "bare-encoder")
      fs.mkdirSync(bare)
      for (const name of ["config.json", "model.safetensors"]) fs.copyFileSync(path.join(encoder, name), path.join(bare, name))
      for (const [metrics, params] of [["epitome", [`epitome.checkpoints=${checkpoints}`, `epitome.encoder=${bare}`]], ["bertscore", [`bertscore.model=${bare}`, "bertscore.layer=1"]]] as const) {
        const noTokenizer = failure((yield* evalWith(params, preds, metrics)).exit)
        assert.strictEqual(noTokenizer.exitCode, 2)
        assert.include(noTokenizer.message, `${bare} has no tokenizer`)
      }

      const noPrevs = failure((yield* evalWith([`epitome.checkpoints=${checkpoints}`, `epitome.encoder=${encoder}`], predictionsSubset(dir, 4, "prevs"))).exit)
      assert.strictEqual(noPrevs.exitCode, 2)
      assert.include(noPrevs.message, "`prevs`")
    }), 300_000)

  it.live("the quickstart's epitome and bertscore entries score in an evaluate stage and `empo compare` shows them", () =>
    Effect.gen(function* () {
      const quickstart = fs.readFileSync(path.join(repo, "experiments", "quickstart.yaml"), "utf8")
      const start = quickstart.indexOf("      - id: epitome")
      const end = quickstart.indexOf("\nsweep:")
      assert.isAbove(start, 0, "quickstart.yaml has no epitome entry")
      const neural = quickstart.slice(start, end).split("\n").filter((l) => !l.trim().startsWith("#")).join("\n")
      assert.include(neural, "id: bertscore")
      const file = path.join(dir, "neural.yaml")
      const db = path.join(dir, "empo.db")
      fs.writeFileSync(file, edExperimentYaml({
        name: "neural-quickstart",
        limit: 64,
        stages: [
          "  generate: { split: test, limit: 6, batchSize: 6, maxNewTokens: 12, doSample: true, temperature: 0.9, topP: 0.95, repetitionPenalty: 1.2 }",
          "  evaluate:",
          "    metrics:",
          neural
        ]
      }))
      process.env["EMPO_PUNKT"] = sharedData("nltk", "punkt_english.json")
      // The quickstart's paths are relative to the repository root; this test runs in apps/cli.
      process.env["EMPO_DATA_DIR"] = sharedDataDir()
      const run = yield* empoInProcess(["run", file, "--db", db, "--work-dir", path.join(dir, "stages"), "--json"], PluginsLive)
      assert.strictEqual(run.exit._tag, "Success", run.stdout)
      const compare = yield* empoInProcess(["compare", "neural-quickstart", "--db", db, "--format", "json"], PluginsLive)
      assert.strictEqual(compare.exit._tag, "Success", compare.stdout)
      for (const key of ["epitome.diff_mean", "epitome.diff_ER", "bertscore.f1", "bertscore.p", "bertscore.r"]) assert.include(compare.stdout, key)
      fs.rmSync(dir, { recursive: true, force: true })
    }), 300_000)
})
