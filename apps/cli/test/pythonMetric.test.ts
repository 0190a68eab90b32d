// A metric plugin whose scoring happens in the Python worker (tools/test/fixtures/metric-toy-python): it scores
// through the real worker in `empo eval` and in an experiment's evaluate stage, and is cached by content —
// including the sha256 of the model file it reads.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import { Plugins } from "@empo/experiments"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { toyPythonMetric } from "../../../tools/test/fixtures/metric-toy-python/index.ts"
import { metricPlugins, optimizerPlugins } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { edExperimentYaml } from "./support/experimentYaml.ts"

const catalogue = Plugins.layer({ metrics: [...metricPlugins, toyPythonMetric], optimizers: optimizerPlugins })
const words = (text: string) => text.split(/\s+/).filter((w) => w !== "").length
const calls = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "").length : 0)

const workspace = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-python-metric-"))
  const model = path.join(dir, "toy-model.json")
  fs.writeFileSync(model, JSON.stringify({ weight: 2 }))
  const log = path.join(dir, "calls.log")
  process.env["EMPO_TOY_METRIC_CALLS"] = log
  // The evaluate stage tokenizes (length); offline, Punkt comes from the shared data.
  process.env["EMPO_PUNKT"] = sharedData("nltk", "punkt_english.json")
  return { dir, model, log }
}

describe("a metric plugin with a Python handler", () => {
  it.live("scores through the worker in `empo eval`, cached by items, params and the model file's sha256", () =>
    Effect.gen(function* () {
      const { dir, model, log } = workspace()
      const predictions = path.join(dir, "preds.txt")
      fs.writeFileSync(predictions, "~prevs~gens\n0~I got the job~Wow, congratulations to you!\n1~My cat is ill~I am so sorry.\n2~We won~Great\n")
      const evaluate = () => empoInProcess(["eval", "--predictions", predictions, "--metrics", "toy-python", "--param", `toy-python.model=${model}`,
        "--cache-dir", path.join(dir, "cache"), "--punkt", sharedData("nltk", "punkt_english.json"), "--json"], catalogue)
      const mean = (stdout: string) => (JSON.parse(stdout) as { metrics: Record<string, Record<string, number>> }).metrics["toy-python"]!["weighted_words_mean"]

      const first = yield* evaluate()
      assert.strictEqual(first.exit._tag, "Success")
      assert.strictEqual(mean(first.stdout), (2 * (4 + 4 + 1)) / 3)
      assert.strictEqual(calls(log), 1)
      // The same items, params and model: a cache hit, Python is not asked again.
      assert.strictEqual(mean((yield* evaluate()).stdout), (2 * 9) / 3)
      assert.strictEqual(calls(log), 1)
      // The same path with other content is another model: the cache misses and the new weight counts.
      fs.writeFileSync(model, JSON.stringify({ weight: 3 }))
      assert.strictEqual(mean((yield* evaluate()).stdout), (3 * 9) / 3)
      assert.strictEqual(calls(log), 2)
      fs.rmSync(dir, { recursive: true, force: true })
    }), 60_000)

  it.live("scores inside an experiment's evaluate stage (a tiny model's real generations), per-item scores in the store", () =>
    Effect.gen(function* () {
      const { dir, model, log } = workspace()
      const file = path.join(dir, "toy.yaml")
      const db = path.join(dir, "empo.db")
      fs.writeFileSync(file, edExperimentYaml({
        name: "toy-python-eval",
        limit: 64,
        stages: [
          "  generate: { split: test, limit: 6, batchSize: 6, maxNewTokens: 6 }",
          "  evaluate:",
          `    metrics: [length, { id: toy-python, params: { model: ${model} } }]`
        ]
      }))
      const run = yield* empoInProcess(["run", file, "--db", db, "--work-dir", path.join(dir, "stages"), "--json"], catalogue)
      assert.strictEqual(run.exit._tag, "Success", run.stdout)
      assert.strictEqual(calls(log), 1)
      const { scores, summary, predictions } = yield* Effect.gen(function* () {
        const store = yield* RunStore
        const scores = yield* store.itemScoresOf("toy-python-eval", ["weighted_words"])
        const stages = yield* store.stagesOf("toy-python-eval")
        const evaluate = stages.find((s) => s.kind === "evaluate")!
        const generate = stages.find((s) => s.kind === "generate")!
        const runs = yield* store.listRuns({ experiment: "toy-python-eval" })
        const detail = yield* store.showRun(runs[0]!.id)
        const summary = detail.summary.find((s) => s.stageId === evaluate.id && s.key === "toy-python.weighted_words_mean")!.value
        return { scores, summary, predictions: path.join(generate.outputDir, "predictions.jsonl") }
      }).pipe(Effect.scoped, Effect.provide(RunStore.layer(db)), Effect.provide(NodeContext.layer))
      // What Python computed, checked here from the generations themselves.
      const generated = fs.readFileSync(predictions, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { id: string; gens?: string; response?: string })
      const expected = generated.map((g) => 2 * words(String(g.gens ?? g.response ?? "")))
      assert.strictEqual(scores.length, 1)
      assert.deepStrictEqual(scores[0]!.values, expected)
      assert.deepStrictEqual(scores[0]!.itemIds, generated.map((g) => g.id))
      assert.closeTo(summary, expected.reduce((a, b) => a + b, 0) / expected.length, 1e-9)
      fs.rmSync(dir, { recursive: true, force: true })
    }), 240_000)
})
