import * as NodeContext from "@effect/platform-node/NodeContext"
import { repoRoot, sharedDataDir } from "@empo/core/testing/sharedData"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as diversity } from "@empo/metric-diversity"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { plugin as epitome } from "@empo/metric-epitome"
import { plugin as bertscore } from "@empo/metric-bertscore"
import { dpoOptimizer } from "@empo/optimizer-dpo"
import { ipoOptimizer } from "@empo/optimizer-ipo"
import { ktoOptimizer } from "@empo/optimizer-kto"
import { sftOptimizer } from "@empo/optimizer-sft"
import { benchmarkStage } from "@empo/stage-benchmark"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { experimentJsonSchemaText } from "../src/JsonSchema.ts"
import { Plugins } from "../src/Plugins.ts"
import { builtinStages } from "../src/stages/index.ts"
import { loadExperiment } from "../src/SpecLoader.ts"

const root = repoRoot()
const experiments = path.join(root, "experiments")
// The app's real plugins, as apps/cli/src/plugins.ts lists them.
const RealPlugins = Plugins.layer({
  optimizers: [sftOptimizer, dpoOptimizer, ipoOptimizer, ktoOptimizer],
  metrics: [vad, specificity, diversity, distinct, length, epitome, bertscore],
  stages: [...builtinStages, benchmarkStage]
})
const env = (effect: Effect.Effect<void, unknown, Plugins | NodeContext.NodeContext>) =>
  effect.pipe(
    Effect.provide(Layer.merge(NodeContext.layer, RealPlugins)),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()]])))
  )

const cli = (args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, [path.join(root, "apps/cli/bin/empo.mjs"), ...args], {
    cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }
  })

describe("shipped experiments", () => {
  it("every experiment file names the generated JSON Schema, and the schema is current", () => {
    const files = [...fs.readdirSync(experiments).filter((f) => f.endsWith(".yaml")).map((f) => path.join(experiments, f)),
      ...fs.readdirSync(path.join(experiments, "_fixtures")).map((d) => path.join(experiments, "_fixtures", d, "experiment.yaml")).filter(fs.existsSync)]
    assert.isAtLeast(files.length, 4)
    for (const file of files) {
      const relative = path.relative(path.dirname(file), path.join(experiments, "experiment.schema.json"))
      assert.strictEqual(fs.readFileSync(file, "utf8").split("\n")[0], `# yaml-language-server: $schema=${relative.startsWith(".") ? relative : `./${relative}`}`, file)
    }
    assert.strictEqual(fs.readFileSync(path.join(experiments, "experiment.schema.json"), "utf8"), experimentJsonSchemaText([...builtinStages, benchmarkStage]), "run npx tsx tools/gen-schema.ts")
  })

  it.effect("quickstart: tiny → SFT → DPO β 0.1 / 0.5 and KTO, one model and one SFT for all three", () =>
    env(Effect.gen(function* () {
      const plan = yield* loadExperiment(path.join(experiments, "quickstart.yaml"))
      assert.strictEqual(plan.runs.length, 3)
      const stage = (i: number, name: string) => plan.runs[i]!.stages.find((s) => s.name === name)?.stageId
      assert.strictEqual(stage(0, "model"), stage(2, "model"))
      assert.strictEqual(stage(0, "sft"), stage(2, "sft"))
      assert.strictEqual(stage(0, "dataset-preference"), stage(1, "dataset-preference"))
      assert.isDefined(stage(2, "dataset-kto"))
      assert.strictEqual(new Set(plan.runs.map((_, i) => stage(i, "preference"))).size, 3)
      assert.deepStrictEqual(plan.runs.map((r) => r.params["stages.preference.params.beta"]), [0.1, 0.5, 0.1])
      assert.strictEqual(plan.runs[0]!.params["stages.generate.limit"], 64)
      assert.strictEqual(plan.stages.size, 15)
    })))

  it.effect("empo-paper: the study's point (zephyr, LoRA r 1024 / α 64, DPO β 0.052, lr 1e-6, 3 negatives, plutchik-1) and its sweep", () =>
    env(Effect.gen(function* () {
      const plan = yield* loadExperiment(path.join(experiments, "empo-paper.yaml"))
      assert.strictEqual(plan.runs.length, 54)
      const paper = plan.stages.get(plan.runs.find((r) => r.label.startsWith("grounder=plutchik-1 dpo d270 beta=0.052"))!.stages.find((s) => s.name === "preference")!.stageId)!
      const params = paper.inputs["params"] as { beta: number; learningRate: number; batchSize: number }
      assert.deepStrictEqual([params.beta, params.learningRate, params.batchSize], [0.052, 1e-6, 64])
      assert.strictEqual(paper.inputs["model"] ?? null, null)
      const sft = plan.stages.get(paper.deps["model"]!)!
      assert.strictEqual(sft.inputs["model"], "HuggingFaceH4/zephyr-7b-sft-full")
      assert.deepStrictEqual((sft.inputs["params"] as { lora: { r: number; alpha: number } }).lora.r, 1024)
      assert.deepStrictEqual((sft.inputs["params"] as { lora: { r: number; alpha: number } }).lora.alpha, 64)
      const data = plan.stages.get(paper.deps["data"]!)!
      assert.deepStrictEqual([data.inputs["negatives"], data.inputs["grounder"], data.inputs["kind"]], [3, "plutchik-1", "preference"])
      // One SFT per seed serves every grounder × loss × β of that seed.
      const sfts = new Set(plan.runs.map((r) => r.stages.find((s) => s.name === "sft")!.stageId))
      assert.strictEqual(sfts.size, 3)
      assert.isFalse(plan.runs.some((r) => r.params["data.grounder"] === "vad-distance" && r.params["stages.preference.optimizer"] !== "dpo"))
    })))

  it.effect("empo-paper: the IPO and KTO arms train the 7B model with study-scale presets, not tiny-cpu", () =>
    env(Effect.gen(function* () {
      const plan = yield* loadExperiment(path.join(experiments, "empo-paper.yaml"))
      for (const optimizer of ["ipo", "kto"]) {
        const run = plan.runs.find((r) => r.params["stages.preference.optimizer"] === optimizer)!
        const stage = plan.stages.get(run.stages.find((s) => s.name === "preference")!.stageId)!
        assert.strictEqual(stage.inputs["preset"], "study-7b", optimizer)
        const params = stage.inputs["params"] as { learningRate: number; batchSize: number; maxLength: number; scheduler: string }
        assert.deepStrictEqual([params.learningRate, params.batchSize, params.maxLength, params.scheduler], [1e-6, 64, 512, "cosine"], optimizer)
      }
    })))

  it("the CLI dry-runs the paper sweep and refuses a malformed file with exit 2 and no stack trace", () => {
    const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-cli-")), "empo.db")
    const dry = cli(["run", "experiments/empo-paper.yaml", "--dry-run", "--db", db])
    assert.strictEqual(dry.status, 0, dry.stderr)
    assert.include(dry.stdout, "experiment empo-paper: 54 runs, ")
    assert.include(dry.stdout, "shared by 54 runs")
    const bad = cli(["run", "experiments/_fixtures/malformed/negatives-negative.yaml", "--db", db])
    assert.strictEqual(bad.status, 2)
    assert.match(bad.stderr, /^error: .*negatives-negative\.yaml:5:14: data\.negatives: expected a number between 1 and 64, got -1/)
    assert.notInclude(bad.stderr, "    at ")
  }, 120_000)
})
