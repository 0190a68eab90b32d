// `empo compare --human-reference`: the gold turns of the runs' items, scored by the runs' own evaluate metrics
// and params, equal `empo eval --predictions <the run's predictions.jsonl> --human` scoring them directly.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import { type RunId, RunStore, type StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"

interface Summary {
  readonly n: number
  readonly metrics: Record<string, Record<string, number>>
}
interface Table {
  readonly metrics: ReadonlyArray<string>
  readonly headline: ReadonlyArray<string>
  readonly directions: Record<string, string>
  readonly rows: ReadonlyArray<{ readonly label: string; readonly metrics: Record<string, { readonly mean: number }> }>
  readonly references: ReadonlyArray<{ readonly label: string; readonly description: string; readonly metrics: Record<string, { readonly mean: number | null }> }>
}

// The evaluate section as the runner stores it: plugin params encoded, file params resolved.
const evaluateMetrics = [
  { id: "length", params: {} },
  { id: "distinct", params: { orders: [1, 2, 3], lowercase: true } },
  { id: "specificity", params: { counts: sharedData("empathetic_dialogues", "ed_counts.json") } },
  { id: "vad", params: { vadLexicon: sharedData("lexicons", "NRC-VAD-Lexicon.txt"), intensityLexicon: sharedData("lexicons", "NRC-Emotion-Intensity.txt") } }
]
const evalParams = [
  "--metrics", "length,distinct,specificity,vad",
  "--param", `specificity.counts=${sharedData("empathetic_dialogues", "ed_counts.json")}`,
  "--param", `vad.vadLexicon=${sharedData("lexicons", "NRC-VAD-Lexicon.txt")}`,
  "--param", `vad.intensityLexicon=${sharedData("lexicons", "NRC-Emotion-Intensity.txt")}`
]

describe("empo compare --human-reference", () => {
  it.live("adds the gold turns scored by the runs' metrics, equal to `empo eval --human`, cached by content; headline first with ↑/↓", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-human-ref-"))
      const previous = { cache: process.env["EMPO_CACHE"], data: process.env["EMPO_DATA_DIR"] }
      process.env["EMPO_CACHE"] = path.join(dir, "cache")
      process.env["EMPO_DATA_DIR"] = sharedData()
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        for (const [key, value] of [["EMPO_CACHE", previous.cache], ["EMPO_DATA_DIR", previous.data]] as const) {
          if (value === undefined) delete process.env[key]
          else process.env[key] = value
        }
        fs.rmSync(dir, { recursive: true, force: true })
      }))

      // Real ED test items; two "models" answering them differently, one generate stage each.
      const itemsDir = path.join(dir, "stages", "items-0")
      fs.mkdirSync(itemsDir, { recursive: true })
      const items = yield* empoInProcess(["data", "items", "--source", sharedData("empathetic_dialogues"), "--split", "test", "--limit", "12", "--out", path.join(itemsDir, "items.jsonl")], PluginsLive)
      assert.strictEqual(items.exit._tag, "Success")
      const itemRows = fs.readFileSync(path.join(itemsDir, "items.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prev: string; target: string })
      assert.strictEqual(itemRows.length, 12)
      const replies = [
        (prev: string) => `I am so sorry to hear that. ${prev.split(" ").slice(0, 4).join(" ")}?`,
        (prev: string) => `That sounds wonderful, tell me more about ${prev.split(" ").slice(-3).join(" ")}`
      ]
      const predictionFiles = replies.map((reply, i) => {
        const out = path.join(dir, "stages", `generate-${i}`)
        fs.mkdirSync(out, { recursive: true })
        fs.writeFileSync(path.join(out, "predictions.jsonl"), itemRows.map((row) => JSON.stringify({ ...row, response: reply(row.prev) })).join("\n") + "\n")
        return path.join(out, "predictions.jsonl")
      })

      // The store as the runner leaves it: items → generate → evaluate per run, the evaluate summaries scored for real.
      const db = path.join(dir, "empo.db")
      yield* Effect.gen(function* () {
        const store = yield* RunStore
        yield* store.upsertExperiment({ name: "gold", description: "two β", specFile: null, spec: { name: "gold" } })
        yield* store.registerStage({ id: "items-0" as StageId, kind: "items", inputs: { inputs: { split: "test", limit: 12 }, deps: {} }, outputDir: itemsDir })
        for (const [i, beta] of [0.1, 0.5].entries()) {
          const generate = `generate-${i}` as StageId
          const evaluate = `evaluate-${i}` as StageId
          yield* store.registerStage({ id: generate, kind: "generate", inputs: { inputs: { seed: 0 }, deps: { items: "items-0" } }, outputDir: path.dirname(predictionFiles[i]!) })
          yield* store.registerStage({ id: evaluate, kind: "evaluate", inputs: { inputs: { metrics: evaluateMetrics }, deps: { predictions: generate } }, outputDir: path.join(dir, "stages", evaluate) })
          const runId = `run${i}`.padEnd(12, "0") as RunId
          yield* store.registerRun({
            id: runId, experiment: "gold", label: `beta=${beta} seed=0`, seed: 0, position: i, config: {},
            params: { "stages.preference.params.beta": beta, seed: 0 },
            stages: [{ stageId: "items-0" as StageId, name: "items" }, { stageId: generate, name: "generate" }, { stageId: evaluate, name: "evaluate" }]
          })
          const scored = yield* empoInProcess(["eval", "--predictions", predictionFiles[i]!, "--json", "--no-cache", ...evalParams], PluginsLive)
          assert.strictEqual(scored.exit._tag, "Success")
          const summary = JSON.parse(scored.stdout) as Summary
          for (const id of ["items-0", generate, evaluate] as Array<StageId>) {
            yield* store.stageStarted(id, { executor: "local", host: "h", pid: 1, leaseMillis: 60_000 })
            yield* store.stageCompleted(id)
          }
          yield* store.setSummaryMetrics(evaluate, Object.fromEntries(Object.entries(summary.metrics).flatMap(([m, keys]) => Object.entries(keys).map(([k, v]) => [`${m}.${k}`, v]))))
          yield* store.setRunStatus(runId, "completed")
        }
      }).pipe(Effect.provide(RunStore.layer(db).pipe(Layer.provide(NodeContext.layer))))

      const compare = yield* empoInProcess(["compare", "gold", "--db", db, "--human-reference", "--format", "json"], PluginsLive)
      assert.strictEqual(compare.exit._tag, "Success")
      const table = JSON.parse(compare.stdout) as Table
      assert.strictEqual(table.rows.length, 2)
      // One items set → one reference, scored once for both runs.
      assert.strictEqual(table.references.length, 1)
      const [reference] = table.references
      assert.strictEqual(reference!.label, "human (gold)")
      assert.include(reference!.description, "12 items")

      const direct = yield* empoInProcess(["eval", "--predictions", predictionFiles[0]!, "--human", "--json", "--no-cache", ...evalParams], PluginsLive)
      assert.strictEqual(direct.exit._tag, "Success")
      const gold = JSON.parse(direct.stdout) as Summary
      let compared = 0
      for (const [metric, keys] of Object.entries(gold.metrics)) {
        for (const [key, value] of Object.entries(keys)) {
          const cell = reference!.metrics[`${metric}.${key}`]
          assert.isDefined(cell, `${metric}.${key}`)
          if (Number.isFinite(value)) assert.strictEqual(cell!.mean, value, `${metric}.${key}`)
          else assert.isNull(cell!.mean, `${metric}.${key}`)
          compared++
        }
      }
      assert.isAtLeast(compared, 30)
      // The gold turns are not the models' replies: the reference differs from every configuration.
      assert.notStrictEqual(reference!.metrics["length.tokens_mean"]!.mean, table.rows[0]!.metrics["length.tokens_mean"]!.mean)
      assert.notStrictEqual(reference!.metrics["length.tokens_mean"]!.mean, table.rows[1]!.metrics["length.tokens_mean"]!.mean)

      // Cached by content like `empo eval`: one file per metric in $EMPO_CACHE/metrics, which `eval --human` of the
      // same predictions file then reads instead of scoring again.
      const cacheDir = path.join(dir, "cache", "metrics")
      const cached = fs.readdirSync(cacheDir).sort()
      assert.deepStrictEqual(cached.map((f) => f.split("-")[0]), ["distinct", "length", "specificity", "vad"])
      const written = cached.map((f) => fs.statSync(path.join(cacheDir, f)).mtimeMs)
      const again = yield* empoInProcess(["eval", "--predictions", predictionFiles[0]!, "--human", "--json", ...evalParams], PluginsLive)
      assert.deepStrictEqual(JSON.parse(again.stdout), gold)
      assert.deepStrictEqual(fs.readdirSync(cacheDir).sort(), cached)
      assert.deepStrictEqual(cached.map((f) => fs.statSync(path.join(cacheDir, f)).mtimeMs), written, "read, not rewritten")

      // Headline first, in the default order (VAD |diff|, then NIDF), each with its manifest's direction.
      assert.isTrue(table.headline.length > 0)
      assert.deepStrictEqual(table.metrics.slice(0, table.headline.length), table.headline)
      assert.isTrue(table.headline.every((k) => k.startsWith("vad.") || k.startsWith("specificity.")))
      assert.isTrue(table.headline.indexOf("specificity.nidf_mean") > table.headline.indexOf("vad.diff_max_v_abs_mean"))
      assert.notInclude(table.headline, "vad.diff_max_v_signed_mean")
      assert.strictEqual(table.directions["vad.diff_max_v_abs_mean"], "lower")
      assert.strictEqual(table.directions["specificity.nidf_mean"], "higher")
      assert.strictEqual(table.directions["length.tokens_mean"], "none")

      const text = yield* empoInProcess(["compare", "gold", "--db", db, "--human-reference"], PluginsLive)
      assert.strictEqual(text.exit._tag, "Success")
      const lines = text.stdout.split("\n")
      assert.match(lines[0]!, /^metric\s+0\.1\s+0\.5\s+human \(gold\)$/)
      assert.match(lines[3]!, /^vad\.diff_max_a_abs_mean ↓ /)
      assert.isTrue(lines.some((l) => /^specificity\.nidf_mean ↑ /.test(l)))
      assert.isTrue(lines.some((l) => /^length\.tokens_mean {2,}/.test(l)), "no marker without a direction")
      assert.include(text.stdout, "human (gold): the gold listener turns of the same 12 items")

      // A custom headline order; and without the flag no reference is scored.
      const custom = yield* empoInProcess(["compare", "gold", "--db", db, "--headline", "length,distinct", "--format", "json"], PluginsLive)
      const customTable = JSON.parse(custom.stdout) as Table
      assert.deepStrictEqual(customTable.references, [])
      assert.isTrue(customTable.headline.every((k) => k.startsWith("distinct.")), "length has no direction: it does not lead")
      assert.strictEqual(customTable.metrics[0], "distinct.distinct_1")
    }).pipe(Effect.scoped), 120_000)
})
