// A stage kind added from outside packages/experiments (tools/test/fixtures/stage-word-stats) plans, runs, caches
// and resumes through `empo run` with the catalogue extended by that one plugin: the runner, the planner and the
// CLI are not told about it.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { builtinStages, Plugins } from "@empo/experiments"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { wordStatsStage } from "../../../tools/test/fixtures/stage-word-stats/index.ts"
import { metricPlugins, optimizerPlugins } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { edExperimentYaml } from "./support/experimentYaml.ts"

const catalogue = Plugins.layer({ metrics: metricPlugins, optimizers: optimizerPlugins, stages: [...builtinStages, wordStatsStage] })

const setup = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-stage-plugin-"))
  const file = path.join(dir, "words.yaml")
  fs.writeFileSync(file, edExperimentYaml({
    name: "word-stats-toy",
    limit: 240,
    model: "{ kind: local, path: /models/not-needed }",
    stages: ["  wordStats: { chunk: 40, delayMillis: 150 }"]
  }))
  return { dir, file, db: path.join(dir, "empo.db"), work: path.join(dir, "stages") }
}

const inStore = <A, E>(db: string, body: (store: RunStore["Type"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(RunStore, body).pipe(Effect.scoped, Effect.provide(RunStore.layer(db)), Effect.provide(NodeContext.layer))

const stageOf = (db: string) =>
  inStore(db, (store) => Effect.map(store.stagesOf("word-stats-toy"), (stages) => stages.find((s) => s.kind === "word-stats")!))

const waitUntil = (check: () => boolean) =>
  Effect.gen(function* () {
    while (!check()) yield* Effect.sleep("50 millis")
  }).pipe(Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error("the stage never got that far") }))

describe("a stage plugin from outside the experiments package", () => {
  it.live("plans, runs, caches and resumes after an interruption through `empo run`", () =>
    Effect.gen(function* () {
      const { dir, file, db, work } = setup()
      const run = (...extra: Array<string>) => empoInProcess(["run", file, "--db", db, "--work-dir", work, ...extra], catalogue)

      // Planned from its own YAML section: a dataset node and its own node, nothing of the GPU pipeline.
      const dry = yield* run("--dry-run", "--json")
      assert.strictEqual(dry.exit._tag, "Success")
      const plan = JSON.parse(dry.stdout) as { stages: ReadonlyArray<{ id: string; kind: string; action: string; deps: Record<string, string> }> }
      assert.deepStrictEqual(plan.stages.map((s) => s.kind).sort(), ["dataset", "word-stats"])
      const node = plan.stages.find((s) => s.kind === "word-stats")!
      assert.match(node.id, /^word-stats-[0-9a-f]{16}$/)
      assert.deepStrictEqual(Object.keys(node.deps), ["data"])

      // Interrupted mid-stage (as by Ctrl-C) once two chunks are counted: its checkpoint stays.
      const progress = path.join(work, `${node.id}.checkpoints`, "progress.json")
      const first = yield* Effect.fork(run())
      yield* waitUntil(() => fs.existsSync(progress) && (JSON.parse(fs.readFileSync(progress, "utf8")) as { rows: number }).rows >= 80)
      yield* Fiber.interrupt(first)
      assert.strictEqual((yield* stageOf(db)).status, "interrupted")
      const saved = JSON.parse(fs.readFileSync(progress, "utf8")) as { rows: number }
      assert.isAtLeast(saved.rows, 80)
      assert.isBelow(saved.rows, 240)

      // The rerun resumes where the checkpoint says, completes, and removes the checkpoint folder.
      const second = yield* run("--json")
      assert.strictEqual(second.exit._tag, "Success")
      assert.strictEqual((yield* stageOf(db)).status, "completed")
      const runId = (JSON.parse(second.stdout) as { runs: ReadonlyArray<{ id: string }> }).runs[0]!.id
      const detail = yield* inStore(db, (store) => store.showRun(runId))
      const summary = Object.fromEntries(detail.summary.filter((s) => s.stageId === node.id).map((s) => [s.key, s.value]))
      assert.strictEqual(summary["word-stats.resumedFromRow"], saved.rows)
      assert.strictEqual(summary["word-stats.rows"], 240)
      assert.isFalse(fs.existsSync(path.dirname(progress)))
      const stats = JSON.parse(fs.readFileSync(path.join(work, node.id, "stats.json"), "utf8")) as { rows: number; words: number }
      assert.strictEqual(stats.rows, 240)
      assert.strictEqual(summary["word-stats.words"], stats.words)
      const artifacts = yield* inStore(db, (store) => store.artifactsOf(node.id as never))
      assert.deepStrictEqual(artifacts.map((a) => [a.name, a.kind]), [["stats.json", "stats"]])

      // A third run finds it completed: nothing executes.
      const third = yield* run("--json")
      const sweep = JSON.parse(third.stdout) as { executed: number; cached: number }
      assert.deepStrictEqual([sweep.executed, sweep.cached], [0, 2])
      fs.rmSync(dir, { recursive: true, force: true })
    }), 120_000)
})
