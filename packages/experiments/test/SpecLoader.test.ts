import * as NodeContext from "@effect/platform-node/NodeContext"
import { repoRoot } from "@empo/core/testing/sharedData"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { loadExperiment } from "../src/SpecLoader.ts"
import { TestPlugins } from "./fixtures/plugins.ts"

const malformedDir = path.join(repoRoot(), "experiments/_fixtures/malformed")
const cases = fs.readdirSync(malformedDir).filter((f) => f.endsWith(".yaml")).sort()

// Each fixture says which field is wrong on its first line and marks the offending line with `# <-`.
const expectation = (file: string) => {
  const lines = fs.readFileSync(file, "utf8").split("\n")
  return {
    field: lines[0]!.replace("# expect-field:", "").trim(),
    line: lines.findIndex((l) => l.includes("# <-")) + 1
  }
}

const TestEnv = Layer.merge(NodeContext.layer, TestPlugins)

describe("loadExperiment on malformed files", () => {
  it("has at least thirty cases", () => {
    assert.isAtLeast(cases.length, 30)
  })

  for (const name of cases) {
    it.effect(`${name}: exit 2 naming the line and the field`, () =>
      Effect.gen(function* () {
        const file = path.join(malformedDir, name)
        const expected = expectation(file)
        const error = yield* Effect.flip(loadExperiment(file))
        assert.strictEqual(error._tag, "SpecError")
        assert.strictEqual(error.exitCode, 2)
        const issue = error.issues.find((i) => i.line === expected.line && i.field.startsWith(expected.field))
        assert.isDefined(issue, `wanted line ${expected.line} field "${expected.field}", got:\n${error.message}`)
        assert.include(error.message, `${file}:${expected.line}:`)
        assert.notInclude(error.message, "    at ")
      }).pipe(Effect.provide(TestEnv)))
  }
})

describe("loadExperiment on valid files", () => {
  it.effect("lists known ids for unknown plugins", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(loadExperiment(path.join(malformedDir, "unknown-optimizer.yaml")))
      assert.include(error.message, "known optimizers: dpo, kto, sft")
      const metric = yield* Effect.flip(loadExperiment(path.join(malformedDir, "unknown-metric.yaml")))
      assert.include(metric.message, "known metrics: length")
    }).pipe(Effect.provide(TestEnv)))

  it.effect("expands the fixture sweep into stable ids with shared stages", () =>
    Effect.gen(function* () {
      const file = path.join(repoRoot(), "experiments/_fixtures/sweep/experiment.yaml")
      const plan = yield* loadExperiment(file)
      const again = yield* loadExperiment(file)
      assert.deepStrictEqual(plan.runs.map((r) => r.id), again.runs.map((r) => r.id))
      assert.strictEqual(plan.runs.length, 6)
      const stageOf = (i: number, name: string) => plan.runs[i]!.stages.find((s) => s.name === name)!.stageId
      // Same seed, different β: the SFT checkpoint and both datasets are shared; the preference stage is not.
      assert.strictEqual(stageOf(0, "sft"), stageOf(2, "sft"))
      assert.strictEqual(stageOf(0, "dataset-sft"), stageOf(1, "dataset-sft"))
      assert.notStrictEqual(stageOf(0, "preference"), stageOf(2, "preference"))
      assert.notStrictEqual(stageOf(0, "sft"), stageOf(1, "sft"))
      assert.strictEqual(stageOf(0, "items"), stageOf(5, "items"))
      assert.notStrictEqual(stageOf(0, "dataset-preference"), stageOf(4, "dataset-kto"))
      assert.strictEqual(plan.runs[0]!.params["stages.preference.params.beta"], 0.1)
      assert.strictEqual(plan.runs[2]!.params["stages.preference.params.beta"], 0.5)
    }).pipe(Effect.provide(TestEnv)))
})
