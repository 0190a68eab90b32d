import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { HumanStore } from "@empo/human"
import { type RunId, RunStore, type StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"

// Two runs of a β sweep with generated predictions and an automatic metric; a study rates both runs' outputs
// (`--condition NAME=run:<id>`), and `compare --human` shows the mean ratings beside the metric.
describe("empo compare --human STUDY", () => {
  it.live("joins a study's mean ratings to the runs it rated", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-human-compare-"))
      const db = path.join(dir, "empo.db")
      const runs = [{ id: "run-beta-01" as RunId, beta: 0.1, chars: 120 }, { id: "run-beta-05" as RunId, beta: 0.5, chars: 80 }]
      yield* Effect.gen(function* () {
        const store = yield* RunStore
        yield* store.upsertExperiment({ name: "sweep", description: "", specFile: null, spec: {} })
        for (const [k, run] of runs.entries()) {
          const file = path.join(dir, `${run.id}.jsonl`)
          fs.writeFileSync(file, [0, 1, 2, 3].map((i) => JSON.stringify({
            id: String(i), prompt: [{ role: "user", content: `story ${i}` }], response: `${run.id} says ${i}`, target: "gold", prev: `story ${i}`, emotion: "proud"
          })).join("\n"))
          const generate = `gen-${k}` as StageId
          const evaluate = `eval-${k}` as StageId
          yield* store.registerStage({ id: generate, kind: "generate", inputs: {}, outputDir: dir })
          yield* store.registerStage({ id: evaluate, kind: "evaluate", inputs: {}, outputDir: dir })
          yield* store.registerRun({ id: run.id, experiment: "sweep", label: `beta=${run.beta}`, seed: 0, position: k, config: { beta: run.beta }, params: { beta: run.beta },
            stages: [{ stageId: generate, name: "generate" }, { stageId: evaluate, name: "evaluate-length" }] })
          yield* store.recordArtifact({ stageId: generate, name: "predictions.jsonl", kind: "predictions", path: file, sha256: "0".repeat(64), size: 1 })
          yield* store.setSummaryMetrics(evaluate, { "length.chars_mean": run.chars })
        }
      }).pipe(Effect.provide(RunStore.layer(db).pipe(Layer.provide(NodeContext.layer))))

      const batch = yield* empoInProcess(["human", "batch", "--db", db, "--study", "hs", "--condition", "low=run:run-beta-01", "--condition", "high=run:run-beta-05",
        "--condition", "gold=gold", "--per-emotion", "4", "--items", "4", "--extra-emotions", "", "--raters-per-item", "1", "--items-per-rater", "4"], PluginsLive)
      assert.strictEqual(batch.exit._tag, "Success", batch.stdout)
      // Three raters take the three bundles; each gives Dim1 = 40 to run-beta-01's replies and 90 to run-beta-05's.
      yield* Effect.gen(function* () {
        const human = yield* HumanStore
        for (const who of ["r1", "r2", "r3"]) {
          const rater = yield* human.claimBundle(yield* human.enter("hs", { externalId: who, prolificStudy: null, prolificSession: null, token: null }))
          for (;;) {
            const item = yield* human.currentItem(rater)
            if (Option.isNone(item)) break
            const high = item.value.response.startsWith("run-beta-05")
            yield* human.submit(rater, { assignment: `${item.value.bundle}.${item.value.position}`, values: { Dim1: high ? 90 : 40, Dim2: 50, Dim3: 50, Dim4: 50, Dim5: 1 } })
          }
        }
      }).pipe(Effect.provide(HumanStore.layerNoDeps.pipe(Layer.provideMerge(RunStore.layer(db)), Layer.provide(NodeContext.layer))))

      const compare = yield* empoInProcess(["compare", "sweep", "--db", db, "--human", "hs", "--format", "json"], PluginsLive)
      assert.strictEqual(compare.exit._tag, "Success", compare.stdout)
      const table = JSON.parse(compare.stdout) as { metrics: ReadonlyArray<string>; rows: ReadonlyArray<{ runs: ReadonlyArray<string>; metrics: Record<string, { mean: number }> }> }
      assert.deepStrictEqual(table.metrics, ["human.Dim1", "human.Dim2", "human.Dim3", "human.Dim4", "human.Dim5", "length.chars_mean"])
      const row = (id: string) => table.rows.find((r) => r.runs.includes(id))!.metrics
      assert.strictEqual(row("run-beta-01")["human.Dim1"]!.mean, 40)
      assert.strictEqual(row("run-beta-05")["human.Dim1"]!.mean, 90)
      assert.strictEqual(row("run-beta-05")["length.chars_mean"]!.mean, 80)
      const text = yield* empoInProcess(["compare", "sweep", "--db", db, "--human", "hs"], PluginsLive)
      assert.include(text.stdout, "human.Dim1")
      const unknown = yield* empoInProcess(["compare", "sweep", "--db", db, "--human", "nope"], PluginsLive)
      assert.strictEqual(unknown.exit._tag, "Failure")
      fs.rmSync(dir, { recursive: true, force: true })
    }), 60_000)
})
