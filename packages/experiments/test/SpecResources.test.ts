import * as NodeContext from "@effect/platform-node/NodeContext"
import { sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as epitomeSaved } from "@empo/metric-epitome-saved"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Plugins } from "../src/Plugins.ts"
import { loadExperiment } from "../src/SpecLoader.ts"
import { testMetrics, testOptimizers } from "./fixtures/plugins.ts"

const Env = Layer.merge(NodeContext.layer, Plugins.layer({ optimizers: testOptimizers, metrics: [...testMetrics, vad, specificity, distinct, epitomeSaved] }))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-resources-"))
const emptyCache = fs.mkdtempSync(path.join(os.tmpdir(), "empo-resources-cache-"))
const source = sharedData("empathetic_dialogues")

// A data folder (EMPO_DATA_DIR) of the shared data, or none at all (an empty cache and no EMPO_PUNKT).
const withDataDir = Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()], ["EMPO_CACHE", emptyCache]])))
const withoutDataDir = Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_CACHE", emptyCache], ["HOME", emptyCache]])))

const write = (name: string, lines: ReadonlyArray<string>) => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, lines.join("\n") + "\n")
  return file
}
const lineOf = (file: string, text: string) => fs.readFileSync(file, "utf8").split("\n").findIndex((l) => l.includes(text)) + 1

const spec = (data: ReadonlyArray<string>, metrics: ReadonlyArray<string>) => [
  "name: resources", "data:", ...data, "model:", "  kind: tiny", "stages:", "  preference:", "    optimizer: dpo",
  "  generate:", "    limit: 4", "  evaluate:", "    metrics:", ...metrics
]

describe("loadExperiment checks every file a run reads before any stage starts", () => {
  it.effect("a vad lexicon that does not exist is reported at its own YAML line", () =>
    Effect.gen(function* () {
      const file = write("missing-lexicon.yaml", spec([`  source: ${source}`], [
        "      - id: vad", "        params:", `          vadLexicon: ${dir}/nowhere/NRC-VAD-Lexicon.txt`, `          intensityLexicon: ${sharedData("lexicons", "NRC-Emotion-Intensity.txt")}`
      ]))
      const error = yield* Effect.flip(loadExperiment(file)).pipe(withDataDir)
      assert.strictEqual(error.exitCode, 2)
      const line = lineOf(file, "vadLexicon:")
      const issue = error.issues.find((i) => i.field === "stages.evaluate.metrics.0.params.vadLexicon")
      assert.isDefined(issue, error.message)
      assert.strictEqual(issue!.line, line)
      assert.include(error.message, `${file}:${line}:`)
      assert.include(error.message, "nowhere/NRC-VAD-Lexicon.txt does not exist")
      assert.notInclude(error.message, "--")
    }).pipe(Effect.provide(Env)))

  it.effect("metric params left out resolve from EMPO_DATA_DIR; without a data folder each is reported with where it looked", () =>
    Effect.gen(function* () {
      const file = write("defaults.yaml", spec([`  source: ${source}`], ["      - vad", "      - specificity"]))
      const plan = yield* loadExperiment(file).pipe(withDataDir)
      assert.strictEqual(plan.runs.length, 1)
      const error = yield* Effect.flip(loadExperiment(file)).pipe(withoutDataDir)
      const fields = error.issues.map((i) => i.field)
      assert.includeMembers(fields, ["stages.evaluate.metrics.0", "stages.evaluate.metrics.1"])
      assert.include(error.message, path.join(emptyCache, "lexicons", "NRC-VAD-Lexicon.txt"))
      assert.include(error.message, "set params.counts or EMPO_DATA_DIR")
      assert.strictEqual(error.issues.find((i) => i.field === "stages.evaluate.metrics.1")!.line, lineOf(file, "- specificity"))
    }).pipe(Effect.provide(Env)))

  it.effect("an evaluation that tokenizes without Punkt data offline fails the plan naming EMPO_PUNKT and --punkt; epitome-saved alone does not tokenize", () =>
    Effect.gen(function* () {
      const file = write("punkt.yaml", spec([`  source: ${source}`], ["      - distinct"]))
      const error = yield* Effect.flip(loadExperiment(file)).pipe(withoutDataDir)
      const issue = error.issues.find((i) => i.field === "stages.evaluate.metrics")
      assert.isDefined(issue, error.message)
      assert.strictEqual(issue!.line, lineOf(file, "metrics:"))
      assert.include(issue!.message, "EMPO_PUNKT")
      assert.include(issue!.message, "--punkt")
      assert.include(issue!.message, path.join(emptyCache, "nltk", "punkt_english.json"))
      const withPunkt = Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_CACHE", emptyCache], ["EMPO_PUNKT", sharedData("nltk", "punkt_english.json")]])))
      assert.strictEqual((yield* loadExperiment(file).pipe(withPunkt)).runs.length, 1)
      const noTokens = write("no-tokens.yaml", spec([`  source: ${source}`], ["      - epitome-saved"]))
      assert.strictEqual((yield* loadExperiment(noTokens).pipe(withoutDataDir)).runs.length, 1)
    }).pipe(Effect.provide(Env)))

  it.effect("a missing data.source, a vad-distance grounder without a lexicon, and a missing data.lexicon are located in the YAML", () =>
    Effect.gen(function* () {
      const noSource = write("no-source.yaml", spec([`  source: ${dir}/no-such-ed`], ["      - epitome-saved"]))
      const sourceError = yield* Effect.flip(loadExperiment(noSource)).pipe(withDataDir)
      const sourceIssue = sourceError.issues.find((i) => i.field === "data.source")
      assert.isDefined(sourceIssue, sourceError.message)
      assert.strictEqual(sourceIssue!.line, lineOf(noSource, "source:"))

      const noLexicon = write("no-lexicon.yaml", spec([`  source: ${source}`, "  grounder: vad-distance"], ["      - epitome-saved"]))
      assert.strictEqual((yield* loadExperiment(noLexicon).pipe(withDataDir)).runs.length, 1)
      const grounderError = yield* Effect.flip(loadExperiment(noLexicon)).pipe(withoutDataDir)
      const grounderIssue = grounderError.issues.find((i) => i.field === "data.grounder")
      assert.isDefined(grounderIssue, grounderError.message)
      assert.strictEqual(grounderIssue!.line, lineOf(noLexicon, "grounder:"))
      assert.include(grounderIssue!.message, "set data.lexicon")
      assert.notInclude(grounderIssue!.message, "--lexicon")

      const badLexicon = write("bad-lexicon.yaml", spec([`  source: ${source}`, "  grounder: vad-distance", `  lexicon: ${dir}/vad.txt`], ["      - epitome-saved"]))
      const lexiconError = yield* Effect.flip(loadExperiment(badLexicon)).pipe(withDataDir)
      const lexiconIssue = lexiconError.issues.find((i) => i.field === "data.lexicon")
      assert.isDefined(lexiconIssue, lexiconError.message)
      assert.strictEqual(lexiconIssue!.line, lineOf(badLexicon, "lexicon:"))
    }).pipe(Effect.provide(Env)))

  it.effect("a swept lexicon that does not exist is reported at its value in the sweep", () =>
    Effect.gen(function* () {
      const file = write("swept.yaml", [
        ...spec([`  source: ${source}`, "  grounder: vad-distance"], ["      - epitome-saved"]),
        "sweep:", "  grid:", "    data.lexicon:", `      - ${sharedData("lexicons", "NRC-VAD-Lexicon.txt")}`, `      - ${dir}/absent-vad.txt`
      ])
      const error = yield* Effect.flip(loadExperiment(file)).pipe(withDataDir)
      assert.strictEqual(error.issues.length, 1, error.message)
      assert.strictEqual(error.issues[0]!.line, lineOf(file, "absent-vad.txt"))
    }).pipe(Effect.provide(Env)))
})
