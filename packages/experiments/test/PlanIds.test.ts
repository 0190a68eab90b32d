import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { canonicalJson, shortHash } from "../src/internal/canonical.ts"
import { loadExperiment } from "../src/SpecLoader.ts"
import { TestPlugins } from "./fixtures/plugins.ts"

// Stage and run ids are content hashes that name output folders and store rows: a planner change that alters
// one silently orphans every finished stage. The source is absolute so the ids do not depend on the checkout.
const spec = `
name: pinned
seeds: [0, 1]
data:
  source: /pinned/empathetic_dialogues
  limit: 32
model:
  kind: tiny
stages:
  sft:
    optimizer: sft
  preference:
    optimizer: dpo
    params: { beta: 0.1 }
  generate:
    limit: 8
  evaluate:
    metrics: [length, { id: length, params: { unit: chars } }]
sweep:
  grid:
    stages.preference:
      - { optimizer: dpo, params: { beta: 0.1 } }
      - { optimizer: kto, params: { beta: 0.25 } }
    model.hidden: [32, 64]
  zip:
    data.negatives: [1, 3]
    stages.generate.maxNewTokens: [16, 32]
  random:
    n: 2
    seed: 7
    params:
      stages.generate.temperature: { uniform: [0.5, 1.5] }
  exclude:
    - { model.hidden: 64, data.negatives: 1 }
`

// The pinned source exists on no machine; the plan-time file check is told it does (the ids are what is tested).
const PinnedSource = Layer.effect(FileSystem.FileSystem, Effect.map(FileSystem.FileSystem, (fs) => ({
  ...fs, exists: (file: string) => file.startsWith("/pinned/") ? Effect.succeed(true) : fs.exists(file)
}))).pipe(Layer.provide(NodeContext.layer))
const TestEnv = Layer.mergeAll(NodeContext.layer, PinnedSource, TestPlugins)

describe("plan ids", () => {
  it.effect("stay byte-identical for a sweep over every block", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-plan-ids-"))
      const file = path.join(dir, "pinned.yaml")
      fs.writeFileSync(file, spec)
      const plan = yield* loadExperiment(file).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))))
      assert.strictEqual(plan.runs.length, 24)
      assert.strictEqual(plan.stages.size, 74)
      const first = plan.runs[0]!
      // Run ids hash what a run computes, not where it executes: the release's id hashed the executor section too.
      const { executor: _executor, ...computed } = first.configJson as Record<string, unknown>
      assert.strictEqual(first.id, shortHash(computed, 12))
      assert.strictEqual(first.id, "72fba8eeb54b")
      assert.strictEqual(shortHash(first.configJson, 12), "dd77229ec8df") // the release-0.1 id, re-keyed by migration 0002
      assert.strictEqual(first.label, "dpo beta=0.1 hidden=32 negatives=1 maxNewTokens=16 temperature=0.5117 seed=0")
      assert.deepStrictEqual(Object.fromEntries(first.stages.map((s): [string, string] => [s.name, s.stageId])), {
        "dataset-sft": "dataset-046eb37272fff002",
        model: "tiny-model-2da02b0e15610b8d",
        sft: "train-298cab07d69962b3",
        "dataset-preference": "dataset-bc0b85bd228a82fa",
        preference: "train-f1d308b9bc79fa4c",
        items: "items-6e7ddbb835a11a22",
        generate: "generate-2d9608d50e20a477",
        evaluate: "evaluate-fca069bc30a98a4a"
      })
      // The whole stage graph (ids, kinds, inputs, deps) as one digest: unchanged since release 0.1, when the
      // planner was a fixed union of kinds (stage plugins must plan byte-identical nodes).
      const sha = (value: unknown) => createHash("sha256").update(canonicalJson(value)).digest("hex")
      assert.strictEqual(sha([...plan.stages.entries()]), "b1a06869b4cc111b944bfdcefea958c27e4a6687d47224609f641d53ee2d36fb")
      // Everything else about the runs (ids, labels, params without executor.*, stage lists), in order.
      const runs = plan.runs.map((r) => [r.id, r.label, r.seed, r.position, r.configJson, Object.entries(r.params), r.stages])
      assert.isFalse(plan.runs.some((r) => Object.keys(r.params).some((k) => k.startsWith("executor."))))
      assert.strictEqual(sha(runs), "c66a9ef8661dca4e74885f073ff43c0be284cdea7c34d1fcd75ba0183da2cd44")
    }).pipe(Effect.provide(TestEnv)))

  it.effect("the same sweep under two executor settings maps to the same run and stage ids", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-plan-ids-"))
      const load = (executor: string) => {
        const file = path.join(dir, `${executor === "" ? "plain" : "timeout"}.yaml`)
        fs.writeFileSync(file, spec + executor)
        return loadExperiment(file)
      }
      const plain = yield* load("")
      const timed = yield* load("executor:\n  kind: local\n  stageTimeoutSeconds: 3600\n")
      fs.rmSync(dir, { recursive: true, force: true })
      assert.strictEqual(timed.stageTimeoutSeconds, 3600)
      assert.deepStrictEqual(timed.runs.map((r) => r.id), plain.runs.map((r) => r.id))
      assert.deepStrictEqual([...timed.stages.keys()], [...plain.stages.keys()])
      assert.deepStrictEqual(timed.runs.map((r) => r.stages), plain.runs.map((r) => r.stages))
    }).pipe(Effect.provide(TestEnv)))
})
