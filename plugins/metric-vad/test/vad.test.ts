import * as NodeContext from "@effect/platform-node/NodeContext"
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
import { parseIntensityLexicon, parseVadLexicon, plugin, VadParams } from "../src/index.ts"

const params = Schema.decodeUnknownSync(VadParams)({
  vadLexicon: sharedData("lexicons", "NRC-VAD-Lexicon.txt"),
  intensityLexicon: sharedData("lexicons", "NRC-Emotion-Intensity.txt")
})
const Environment = Layer.mergeAll(
  NodeContext.layer,
  noWorker,
  NltkTokenizer.layerFromFile(sharedData("nltk", "punkt_english.json")).pipe(Layer.provide(NodeContext.layer))
)
const VadLive = plugin.layer(params).pipe(Layer.provide(Environment))

const items = (file: string, responseColumn: "gens" | "gen_targets") =>
  readTildeCsv(sharedData("predictions", file)).map((row, i) =>
    new EvalItem({ id: String(i), response: row[responseColumn]!, context: row["prevs"]! }))

const baseline = "baseline_zephyr-7b-sft-full.txt"
const dpo = "dpo_zephyr-7b-sft-full124_d270.txt"

// empo-method.md §6.2: |diff_max| mean (SD), signed diff_max mean, |diff_mean| mean, response max means.
const reference = {
  baseline: {
    abs: [0.1139, 0.1481, 0.1270, 0.2433], sd: [0.1419, 0.1333, 0.1247, 0.2266],
    signed: [-0.0910, -0.0815, -0.0908, -0.1361], absMean: [0.0822, 0.0530, 0.0656], responseMax: [0.9193, 0.7417, 0.7927]
  },
  dpo: {
    abs: [0.1259, 0.1675, 0.1267, 0.2724], sd: [0.1473, 0.1410, 0.1228, 0.2393],
    signed: [-0.0411, 0.0021, -0.0180, 0.0033], absMean: [0.0816, 0.0546, 0.0657], responseMax: [0.8694, 0.6580, 0.7199]
  },
  human: {
    abs: [0.1427, 0.1751, 0.1431, 0.2810], sd: [0.1785, 0.1539, 0.1433, 0.2469],
    signed: [-0.0004, 0.0238, 0.0065, 0.0249], absMean: [0.0854, 0.0581, 0.0689], responseMax: [0.8287, 0.6363, 0.6954]
  }
}

const toFourDecimals = (actual: number | undefined, expected: number, key: string) =>
  assert.closeTo(actual!, expected, 5e-5, key)

const checkTable = (aggregate: Record<string, number>, expected: (typeof reference)["baseline"]) => {
  ;(["v", "a", "d", "intensity"] as const).forEach((x, i) => {
    toFourDecimals(aggregate[`diff_max_${x}_abs_mean`], expected.abs[i]!, `diff_max_${x}_abs_mean`)
    toFourDecimals(aggregate[`diff_max_${x}_abs_sd`], expected.sd[i]!, `diff_max_${x}_abs_sd`)
    toFourDecimals(aggregate[`diff_max_${x}_signed_mean`], expected.signed[i]!, `diff_max_${x}_signed_mean`)
  })
  ;(["v", "a", "d"] as const).forEach((x, i) => {
    toFourDecimals(aggregate[`diff_mean_${x}_abs_mean`], expected.absMean[i]!, `diff_mean_${x}_abs_mean`)
    toFourDecimals(aggregate[`response_max_${x}_mean`], expected.responseMax[i]!, `response_max_${x}_mean`)
  })
}

const authorsRows = () => {
  const [header, ...lines] = fs.readFileSync(sharedData("predictions", "reference", "authors_vad_diff_max_per_row.csv"), "utf8").trim().split(/\r?\n/)
  const names = header!.split(",")
  return lines.map((line) => Object.fromEntries(line.split(",").map((value, i) => [names[i]!, Number(value)])))
}

describe("metric-vad on the study's prediction files", () => {
  it.effect("per-row diff_max_{v,a,d,intensity} equal the authors' saved values (baseline and human), ±1e-9", () =>
    Effect.gen(function* () {
      const metric = yield* Metric
      const rows = authorsRows()
      for (const [condition, column] of [["baseline", "gens"], ["human", "gen_targets"]] as const) {
        const scores = yield* metric.score(items(baseline, column))
        let compared = 0
        for (const x of ["v", "a", "d", "intensity"]) {
          const ours = scores.perItem[`diff_max_${x}`]!
          assert.strictEqual(ours.length, 2540)
          rows.forEach((row, i) => {
            assert.closeTo(ours[i]!, row[`${condition}_diff_max_${x}`]!, 1e-9, `${condition} row ${i} diff_max_${x}`)
            compared++
          })
        }
        assert.strictEqual(compared, 4 * 2540)
      }
    }).pipe(Effect.provide(VadLive)))

  it.effect("every §6.2 VAD number matches to 4 decimals for baseline, DPO and human", () =>
    Effect.gen(function* () {
      const metric = yield* Metric
      checkTable((yield* metric.score(items(baseline, "gens"))).aggregate, reference.baseline)
      checkTable((yield* metric.score(items(dpo, "gens"))).aggregate, reference.dpo)
      checkTable((yield* metric.score(items(baseline, "gen_targets"))).aggregate, reference.human)
    }).pipe(Effect.provide(VadLive)))

  it.effect("records the lexicons' and the tokenizer's sha256 and its parameters", () =>
    Effect.gen(function* () {
      const metric = yield* Metric
      assert.deepStrictEqual(metric.resources.map((r) => r.name), ["NRC-VAD-Lexicon.txt", "NRC-Emotion-Intensity.txt", "punkt_english.json"])
      metric.resources.forEach((r) => assert.match(r.sha256, /^[0-9a-f]{64}$/))
      assert.deepStrictEqual(metric.params, params)
    }).pipe(Effect.provide(VadLive)))

  it.effect("lower-cases, counts unknown tokens and punctuation as zeros, and scores an empty text as zeros", () =>
    Effect.gen(function* () {
      const metric = yield* Metric
      const scores = yield* metric.score([
        new EvalItem({ id: "a", context: "HAPPY !", response: "" }),
        new EvalItem({ id: "b", context: "", response: "happy" })
      ])
      const happy = [1.0, 0.735, 0.772]
      assert.closeTo(scores.perItem["context_max_v"]![0]!, happy[0]!, 1e-12)
      assert.closeTo(scores.perItem["context_mean_v"]![0]!, happy[0]! / 2, 1e-12)
      assert.strictEqual(scores.perItem["max_v"]![0], 0)
      assert.closeTo(scores.perItem["diff_max_v"]![1]!, -happy[0]!, 1e-12)
    }).pipe(Effect.provide(VadLive)))

  it.effect("a malformed lexicon line is an input-fault MetricError naming file, line and field", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vad-"))
      const bad = path.join(dir, "vad.txt")
      fs.writeFileSync(bad, "happy\t1.000\t0.735\t0.772\nsad\t0.225\tlow\t0.333\n")
      const error = yield* Metric.pipe(
        Effect.provide(plugin.layer({ ...params, vadLexicon: bad }).pipe(Layer.provide(Environment))),
        Effect.flip
      )
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, `${bad}:2`)
      assert.include(error.message, "arousal")
      const missing = yield* Metric.pipe(
        Effect.provide(plugin.layer({ ...params, intensityLexicon: path.join(dir, "absent.txt") }).pipe(Layer.provide(Environment))),
        Effect.flip
      )
      assert.include(missing.message, "absent.txt")
    }))

  it.effect("without lexicon params it reads lexicons/ of EMPO_DATA_DIR, never the working directory", () =>
    Effect.gen(function* () {
      const emptyCache = fs.mkdtempSync(path.join(os.tmpdir(), "vad-cache-"))
      const withDataDir = ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()], ["EMPO_CACHE", emptyCache]]))
      const metric = yield* Metric.pipe(Effect.provide(plugin.layer({}).pipe(Layer.provide(Environment))), Effect.withConfigProvider(withDataDir))
      const explicit = yield* Metric.pipe(Effect.provide(VadLive))
      assert.deepStrictEqual(metric.resources, explicit.resources)
      // No data folder and an empty cache: an input fault naming where it looked and EMPO_DATA_DIR.
      const nowhere = ConfigProvider.fromMap(new Map([["EMPO_CACHE", emptyCache], ["HOME", emptyCache]]))
      const error = yield* Metric.pipe(Effect.provide(plugin.layer({}).pipe(Layer.provide(Environment))), Effect.withConfigProvider(nowhere), Effect.flip)
      assert.strictEqual(error.exitCode, 2)
      assert.include(error.message, path.join(emptyCache, "lexicons", "NRC-VAD-Lexicon.txt"))
      assert.include(error.message, "EMPO_DATA_DIR")
      assert.include(error.message, "vadLexicon")
    }))

  it("the VAD lexicon skips a header line and keeps multi-word terms", () => {
    const lexicon = parseVadLexicon("term\tvalence\tarousal\tdominance\nhappy\t1.000\t0.735\t0.772\nad hoc\t0.5\t0.4\t0.6\n")
    assert.deepStrictEqual([...lexicon.keys()], ["happy", "ad hoc"])
    assert.strictEqual(parseVadLexicon(fs.readFileSync(sharedData("lexicons", "NRC-VAD-Lexicon.txt"), "utf8")).size, 19971)
  })

  it("the intensity lexicon keeps the last score of a repeated word", () => {
    const lexicon = parseIntensityLexicon("fun\tjoy\t0.5\nfun\tanticipation\t0.2\nsad\tsadness\t0.9\n")
    assert.strictEqual(lexicon.get("fun"), 0.2)
    assert.strictEqual(lexicon.size, 2)
    const real = parseIntensityLexicon(fs.readFileSync(sharedData("lexicons", "NRC-Emotion-Intensity.txt"), "utf8"))
    assert.strictEqual(real.size, 5891)
  })
})
