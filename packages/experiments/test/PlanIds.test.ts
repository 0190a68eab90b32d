import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { canonicalJson } from "../src/internal/canonical.ts"
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

const TestEnv = Layer.merge(NodeContext.layer, TestPlugins)

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
      assert.strictEqual(first.id, "dd77229ec8df")
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
      // Everything else the planner produces (ids, labels, params, stage inputs), in order, as one digest.
      const digest = createHash("sha256").update(canonicalJson({
        runs: plan.runs.map((r) => [r.id, r.label, r.seed, r.position, r.configJson, Object.entries(r.params), r.stages]),
        stages: [...plan.stages.entries()]
      })).digest("hex")
      assert.strictEqual(digest, "9eb1ce82c94ad0fc4ec3caca7871c0fd2ead3d9e8374263fb3c6ffe2471d8a08")
    }).pipe(Effect.provide(TestEnv)))
})
