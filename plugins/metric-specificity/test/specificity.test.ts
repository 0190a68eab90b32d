import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { EvalItem, Metric } from "@empo/core/Metric"
import { sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import { NltkTokenizer } from "@empo/text"
import { noWorker } from "@empo/metrics/testing/metricContract"
import { readTildeCsv } from "@empo/text/testing/predictions"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { buildCounts, nidfTable, plugin, responseNidf, SpecificityParams } from "../src/index.ts"

const params = Schema.decodeUnknownSync(SpecificityParams)({ counts: sharedData("empathetic_dialogues", "ed_counts.json") })
const TokenizerLive = NltkTokenizer.layerFromFile(sharedData("nltk", "punkt_english.json")).pipe(Layer.provide(NodeContext.layer))
const Environment = Layer.mergeAll(NodeContext.layer, TokenizerLive, noWorker)
const SpecificityLive = plugin.layer(params).pipe(Layer.provide(Environment))

const items = (file: string, column: "gens" | "gen_targets") =>
  readTildeCsv(sharedData("predictions", file)).map((row, i) =>
    new EvalItem({ id: String(i), response: row[column]!, context: row["prevs"]! }))

// empo-method.md §6.2 / §6.3: mean (SD), outlier-free mean (n kept), row 0.
const reference = [
  { name: "baseline", file: "baseline_zephyr-7b-sft-full.txt", column: "gens", mean: 0.2994, sd: 0.0500, clean: 0.2983, kept: 2525, row0: 0.329744 },
  { name: "DPO", file: "dpo_zephyr-7b-sft-full124_d270.txt", column: "gens", mean: 0.2537, sd: 0.0475, clean: 0.2521, kept: 2519 },
  { name: "human", file: "baseline_zephyr-7b-sft-full.txt", column: "gen_targets", mean: 0.2966, sd: 0.0664, clean: 0.2944, kept: 2521, row0: 0.303654 }
] as const

describe("metric-specificity", () => {
  it.effect("every §6.2 NIDF number matches to 4 decimals (baseline, DPO, human), and the authors' row-0 values", () =>
    Effect.gen(function* () {
      const metric = yield* Metric
      for (const expected of reference) {
        const scores = yield* metric.score(items(expected.file, expected.column))
        const a = scores.aggregate
        assert.closeTo(a["nidf_mean"]!, expected.mean, 5e-5, `${expected.name} mean`)
        assert.closeTo(a["nidf_sd"]!, expected.sd, 5e-5, `${expected.name} sd`)
        assert.closeTo(a["nidf_mean_no_outliers"]!, expected.clean, 5e-5, `${expected.name} outlier-free mean`)
        assert.strictEqual(a["nidf_n_no_outliers"], expected.kept)
        assert.strictEqual(scores.perItem["nidf"]!.length, 2540)
        if ("row0" in expected) assert.closeTo(scores.perItem["nidf"]![0]!, expected.row0, 5e-7)
      }
      assert.deepStrictEqual(metric.resources.map((r) => r.name), ["ed_counts.json", "punkt_english.json"])
    }).pipe(Effect.provide(SpecificityLive)))

  it("NIDF: case-sensitive distinct tokens, unknown words score 1, the commonest word 0", () => {
    const table = nidfTable(new Map([["the", 100], ["cat", 10], ["zebra", 1]]))
    assert.strictEqual(table.get("the"), 0)
    assert.strictEqual(table.get("zebra"), 1)
    assert.closeTo(table.get("cat")!, 0.5, 1e-12)
    assert.closeTo(responseNidf(["the", "cat", "the", "The"], table), (0 + 0.5 + 1) / 3, 1e-12)
    assert.isNaN(responseNidf([], table))
  })

  it.scoped("`buildCounts` on the shared ED pairs (sp1) is consistent with the study's counts", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const dir = yield* fsx.makeTempDirectoryScoped()
      const out = `${dir}/val_counts.json`
      const summary = yield* buildCounts({
        corpora: [sharedData("empathetic_dialogues", "val.csv")], format: "csv", column: "sp1", out
      })
      assert.strictEqual(summary.utterances, 7577)
      const ours: Record<string, number> = JSON.parse(fs.readFileSync(out, "utf8"))
      const study: Record<string, number> = JSON.parse(fs.readFileSync(params.counts!, "utf8"))
      // The study counted train + val; val alone must be a sub-count word by word (empo-method.md §1.7).
      const violations = Object.entries(ours).filter(([word, count]) => !(word in study) || count > study[word]!)
      assert.deepStrictEqual(violations, [])
      assert.strictEqual(Object.keys(ours).length, summary.words)
      assert.isAbove(summary.words, 5000)
    }).pipe(Effect.provide(Environment)))

  it.scoped("`buildCounts` counts documents, not occurrences, and unescapes `_comma_`", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const dir = yield* fsx.makeTempDirectoryScoped()
      yield* fsx.writeFileString(`${dir}/c.jsonl`, [
        JSON.stringify({ utterance: "I am sad_comma_ very sad." }),
        JSON.stringify({ utterance: "Sad? I am fine." })
      ].join("\n"))
      yield* buildCounts({ corpora: [`${dir}/c.jsonl`], format: "jsonl", column: "utterance", out: `${dir}/out.json` })
      const counts = JSON.parse(yield* fsx.readFileString(`${dir}/out.json`))
      assert.deepStrictEqual(counts, { I: 2, am: 2, sad: 1, ",": 1, very: 1, ".": 2, Sad: 1, "?": 1, fine: 1 })
    }).pipe(Effect.provide(Environment)))

  it.scoped("bad corpora are InputErrors naming file, line and field, and nothing is written", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const dir = yield* fsx.makeTempDirectoryScoped()
      yield* fsx.writeFileString(`${dir}/c.csv`, "a,b\n1,2\n")
      const missing = yield* buildCounts({ corpora: [`${dir}/c.csv`], format: "csv", column: "sp1", out: `${dir}/o.json` }).pipe(Effect.flip)
      assert.strictEqual(missing._tag, "InputError")
      assert.include(missing.message, "c.csv")
      assert.include(missing.message, "sp1")
      yield* fsx.writeFileString(`${dir}/c.jsonl`, '{"utterance": "ok"}\n{"text": 3}\n')
      const badLine = yield* buildCounts({ corpora: [`${dir}/c.jsonl`], format: "jsonl", column: "utterance", out: `${dir}/o.json` }).pipe(Effect.flip)
      assert.include(badLine.message, "c.jsonl:2")
      yield* fsx.writeFile(`${dir}/latin1.txt`, new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]))
      const notUtf8 = yield* buildCounts({ corpora: [`${dir}/latin1.txt`], format: "text", column: "", out: `${dir}/o.json` }).pipe(Effect.flip)
      assert.include(notUtf8.message, "UTF-8")
      assert.deepStrictEqual((yield* fsx.readDirectory(dir)).sort(), ["c.csv", "c.jsonl", "latin1.txt"])
    }).pipe(Effect.provide(Environment)))

  it.effect("without a counts param it reads empathetic_dialogues/ed_counts.json of EMPO_DATA_DIR, then the cache", () =>
    Effect.gen(function* () {
      const cache = fs.mkdtempSync(path.join(os.tmpdir(), "nidf-cache-"))
      const build = (config: Map<string, string>) =>
        Metric.pipe(Effect.provide(plugin.layer({}).pipe(Layer.provide(Environment))), Effect.withConfigProvider(ConfigProvider.fromMap(config)))
      const fromDataDir = yield* build(new Map([["EMPO_DATA_DIR", sharedDataDir()], ["EMPO_CACHE", cache]]))
      const explicit = yield* Metric.pipe(Effect.provide(SpecificityLive))
      assert.deepStrictEqual(fromDataDir.resources, explicit.resources)
      const missing = yield* build(new Map([["EMPO_CACHE", cache], ["HOME", cache]])).pipe(Effect.flip)
      assert.strictEqual(missing.exitCode, 2)
      assert.include(missing.message, path.join(cache, "empathetic_dialogues", "ed_counts.json"))
      assert.include(missing.message, "empo counts build")
      // The cache is the second place looked in.
      fs.mkdirSync(path.join(cache, "empathetic_dialogues"))
      fs.writeFileSync(path.join(cache, "empathetic_dialogues", "ed_counts.json"), JSON.stringify({ the: 3, cat: 1 }))
      const fromCache = yield* build(new Map([["EMPO_CACHE", cache], ["HOME", cache]]))
      assert.strictEqual(fromCache.resources[0]!.name, "ed_counts.json")
      assert.notStrictEqual(fromCache.resources[0]!.sha256, explicit.resources[0]!.sha256)
    }))

  it.effect("a malformed counts file is an input-fault MetricError naming the file", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nidf-"))
      fs.writeFileSync(`${dir}/counts.json`, JSON.stringify({ the: 10, cat: -1 }))
      const error = yield* Metric.pipe(
        Effect.provide(plugin.layer({ counts: `${dir}/counts.json` }).pipe(Layer.provide(Environment))),
        Effect.flip
      )
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, "counts.json")
      assert.include(error.message, "cat")
    }))
})
