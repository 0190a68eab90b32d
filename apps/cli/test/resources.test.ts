// Every file a run reads is checked before any stage starts (issue 11, item 2), and data files default to the
// data folder rather than the working directory (item 3), through the CLI itself.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import { Plugins } from "@empo/experiments"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { dataFilesReport } from "../src/commands/doctor.ts"
import { metricPlugins, optimizerPlugins } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"

const catalogue = Plugins.layer({ metrics: metricPlugins, optimizers: optimizerPlugins })
const emptyCache = fs.mkdtempSync(path.join(os.tmpdir(), "empo-resources-cache-"))
// Only these variables: the test's own EMPO_DATA_DIR or EMPO_PUNKT must not leak in.
const withEnv = (entries: ReadonlyArray<readonly [string, string]>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))
const noDataFolder = [["EMPO_CACHE", emptyCache], ["HOME", emptyCache]] as const
const dataFolder = [["EMPO_DATA_DIR", sharedDataDir()], ["EMPO_CACHE", emptyCache], ["HOME", emptyCache]] as const

const failureOf = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return assert.fail("the command succeeded")
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error)) return assert.fail(`no typed failure: ${Cause.pretty(exit.cause)}`)
  return error.value as { readonly exitCode: number; readonly message: string }
}

describe("resources through the CLI", () => {
  it.live("`empo run` of an experiment with a missing lexicon fails in under 5 s with exit 2 and the YAML line of the path; nothing runs", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-missing-lexicon-"))
      const file = path.join(dir, "missing-lexicon.yaml")
      const lines = [
        "name: missing-lexicon",
        "data:",
        `  source: ${sharedData("empathetic_dialogues")}`,
        "  split: valid",
        "  limit: 32",
        "model: { kind: tiny, layers: 1, hidden: 32, heads: 2, vocab: 500 }",
        "stages:",
        "  sft: { optimizer: sft, preset: tiny-cpu, params: { maxSteps: 2 } }",
        "  preference: { optimizer: dpo, preset: tiny-cpu, params: { maxSteps: 2 } }",
        "  generate: { split: test, limit: 4, maxNewTokens: 4 }",
        "  evaluate:",
        "    metrics:",
        "      - length",
        "      - id: vad",
        "        params:",
        `          vadLexicon: ${dir}/lexicons/NRC-VAD-Lexicon.txt`,
        ""
      ]
      fs.writeFileSync(file, lines.join("\n"))
      const line = lines.findIndex((l) => l.includes("vadLexicon:")) + 1
      const work = path.join(dir, "stages")
      for (const extra of [[], ["--dry-run"]]) {
        const started = Date.now()
        const { exit } = yield* empoInProcess(["run", file, "--db", path.join(dir, "empo.db"), "--work-dir", work, ...extra], catalogue).pipe(withEnv(dataFolder))
        const seconds = (Date.now() - started) / 1000
        const error = failureOf(exit)
        assert.strictEqual(error.exitCode, 2)
        assert.isBelow(seconds, 5)
        assert.include(error.message, `${file}:${line}:`)
        assert.include(error.message, "stages.evaluate.metrics.1.params.vadLexicon")
        assert.notInclude(error.message, "    at ")
      }
      assert.isFalse(fs.existsSync(work), "a stage started")
    }))

  it.live("`empo run` without Punkt data offline names EMPO_PUNKT and --punkt before training anything", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-no-punkt-"))
      const file = path.join(dir, "no-punkt.yaml")
      fs.writeFileSync(file, [
        "name: no-punkt", "data:", `  source: ${sharedData("empathetic_dialogues")}`, "model: { kind: tiny }",
        "stages:", "  preference: { optimizer: dpo, preset: tiny-cpu }", "  generate: { limit: 4 }", "  evaluate:", "    metrics: [distinct]", ""
      ].join("\n"))
      const { exit } = yield* empoInProcess(["run", file, "--db", path.join(dir, "empo.db"), "--work-dir", path.join(dir, "stages")], catalogue).pipe(withEnv(noDataFolder))
      const error = failureOf(exit)
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, `${file}:9:`, error.message)
      assert.include(error.message, "EMPO_PUNKT")
      assert.include(error.message, "--punkt")
      assert.isFalse(fs.existsSync(path.join(dir, "stages")))
    }))

  it.live("`empo eval --predictions F` needs no --param or --punkt when EMPO_DATA_DIR is set", () =>
    Effect.gen(function* () {
      const predictions = sharedData("predictions", "baseline_zephyr-7b-sft-full.txt")
      const { exit, stdout } = yield* empoInProcess(["eval", "--predictions", predictions, "--metrics", "vad,specificity,length", "--no-cache", "--json"], catalogue).pipe(withEnv(dataFolder))
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      const summary = JSON.parse(stdout) as { metrics: Record<string, Record<string, number>> }
      // empo-method §6.2: the same numbers as with every file given explicitly.
      assert.closeTo(summary.metrics["vad"]!["diff_max_v_abs_mean"]!, 0.1139, 5e-5)
      assert.closeTo(summary.metrics["specificity"]!["nidf_mean"]!, 0.2994, 5e-5)
      const missing = yield* empoInProcess(["eval", "--predictions", predictions, "--metrics", "specificity", "--no-cache"], catalogue).pipe(
        withEnv([...noDataFolder, ["EMPO_PUNKT", sharedData("nltk", "punkt_english.json")]]))
      const error = failureOf(missing.exit)
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, path.join(emptyCache, "empathetic_dialogues", "ed_counts.json"))
    }))

  it.effect("`empo doctor` reports each data file a default reads, found or with where it looked", () =>
    Effect.gen(function* () {
      const found = yield* dataFilesReport.pipe(withEnv(dataFolder))
      assert.strictEqual(found.dataDir, sharedDataDir())
      assert.deepStrictEqual(found.files.filter((f) => f.found === null), [])
      assert.includeMembers(found.files.map((f) => f.usedBy), ["vad.vadLexicon", "vad.intensityLexicon", "specificity.counts", "metrics that tokenize"])
      const missing = yield* dataFilesReport.pipe(withEnv(noDataFolder))
      assert.isTrue(missing.files.every((f) => f.found === null))
      const punkt = missing.files.find((f) => f.name === "Punkt parameters")!
      assert.include(punkt.hint ?? "", "EMPO_PUNKT")
      assert.deepStrictEqual(punkt.searched, [path.join(emptyCache, "nltk", "punkt_english.json")])
    }).pipe(Effect.provide(NodeContext.layer), Effect.provide(catalogue)))
})
