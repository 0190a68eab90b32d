import * as NodeContext from "@effect/platform-node/NodeContext"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as length } from "@empo/metric-length"
import { dpoOptimizer } from "@empo/optimizer-dpo"
import { sftOptimizer } from "@empo/optimizer-sft"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { closestName, editDistance } from "../src/internal/didYouMean.ts"
import { Plugins } from "../src/Plugins.ts"
import { loadExperiment } from "../src/SpecLoader.ts"

const RealPlugins = Plugins.layer({ optimizers: [sftOptimizer, dpoOptimizer], metrics: [distinct, length] })
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-spec-messages-"))

const base = (data: string, stages: string) => `name: messages
data:
  source: /nonexistent/ed
${data}
model:
  kind: tiny
stages:
${stages}
  generate:
    limit: 8
`

/** The file's SpecError as `field: message` lines (the located sentences without `file:line:col: `). */
const sentencesOf = (name: string, text: string) =>
  Effect.gen(function* () {
    const file = path.join(dir, name)
    fs.writeFileSync(file, text)
    const error = yield* Effect.flip(loadExperiment(file))
    assert.strictEqual(error._tag, "SpecError")
    const lines = error.message.split("\n")
    for (const line of lines) assert.match(line, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: \\S`))
    // No schema tree, no raw "Expected …, actual …" from Effect.
    assert.notMatch(error.message, /└─|├─|Expected |Encoded side|actual /)
    return { error, sentences: lines.map((l) => l.replace(/^.*?:\d+:\d+: /, "")) }
  }).pipe(Effect.provide(Layer.merge(NodeContext.layer, RealPlugins)))

describe("experiment file validation messages", () => {
  it.effect("every params error of every stage is reported, each as one sentence on its own line", () =>
    Effect.gen(function* () {
      const { error, sentences } = yield* sentencesOf("all-errors.yaml", base("  split: valid", `  sft:
    optimizer: sft
    preset: tiny-cpu
    params:
      maxStep: 150
      learningRate: fast
  preference:
    optimizer: dpo
    preset: tiny-cpu
    params:
      beta: -1
      maxSteps: 10
  evaluate:
    metrics:
      - id: distinct
        params:
          order: [1]
          lowercase: maybe`))
      assert.includeMembers(sentences, [
        "stages.sft.params.maxStep: unknown parameter; did you mean maxSteps?",
        "stages.sft.params.learningRate: expected number, got \"fast\"",
        "stages.preference.params.beta: expected a positive number, got -1",
        "stages.evaluate.metrics.0.params.order: unknown parameter; did you mean orders?",
        "stages.evaluate.metrics.0.params.lowercase: expected boolean, got \"maybe\""
      ])
      assert.strictEqual(sentences.length, 5, error.message)
      const maxStep = error.issues.find((i) => i.field === "stages.sft.params.maxStep")!
      assert.strictEqual(maxStep.line, 12)
    }))

  it.effect("a union of literals is one sentence naming the known values and the likely one", () =>
    Effect.gen(function* () {
      const { sentences } = yield* sentencesOf("literals.yaml", base("  split: vaild\n  grounder: plutchik-2", "  sft:\n    optimizer: sft"))
      assert.deepStrictEqual(sentences, [
        "data.split: unknown split \"vaild\"; known: train, valid, test, all; did you mean valid?",
        "data.grounder: unknown grounder \"plutchik-2\"; known: plutchik-1, plutchik-original, user-map, vad-distance, random, same-emotion; did you mean plutchik-1?"
      ])
    }))

  it.effect("an unknown field with no close name lists the known ones; an unknown plugin id suggests the close one", () =>
    Effect.gen(function* () {
      const { sentences } = yield* sentencesOf("unknown.yaml", base("  split: valid\n  flavour: 3", "  sft:\n    optimizer: sfft"))
      const flavour = sentences.find((s) => s.startsWith("data.flavour: unknown field; known: "))
      assert.isDefined(flavour, sentences.join("\n"))
      assert.include(flavour, "grounder")
      const typo = yield* sentencesOf("optimizer.yaml", base("  split: valid", "  sft:\n    optimizer: sfft"))
      assert.deepStrictEqual(typo.sentences, ["stages.sft.optimizer: unknown optimizer `sfft`; known optimizers: dpo, sft; did you mean sft?"])
    }))

  it("edit distance counts a swap of neighbours as one edit and suggests only close names", () => {
    assert.strictEqual(editDistance("vaild", "valid"), 1)
    assert.strictEqual(editDistance("maxStep", "maxSteps"), 1)
    assert.strictEqual(editDistance("", "abc"), 3)
    assert.strictEqual(closestName("maxStep", ["learningRate", "maxSteps", "maxLength"]), "maxSteps")
    assert.isUndefined(closestName("flavour", ["source", "split", "grounder"]))
  })
})
