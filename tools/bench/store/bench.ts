/**
 * Run-store and planner benchmark: `npx tsx tools/bench/store/bench.ts`.
 *   1. metric-point ingest (target ≥ 100,000 points/s) vs a one-INSERT-per-point baseline on the same client;
 *   2. `compare` over 1,000 runs × 20 metrics (target < 200 ms): store query + aggregation;
 *   3. per-item scores: 1,000 runs × 500 items × 10 keys through `recordItemScores` (target: seconds), and
 *      `itemScoresOf` of two keys across every run (what a paired test reads);
 *   4. a 10,000-run grid: the pure sweep expansion, and the full YAML → plan load (target < 1 s: every run
 *      validated, content-addressed stages hashed), timed on its first call, as `empo run` pays it.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as SqlClient from "@effect/sql/SqlClient"
import { compareExperiment, expandSweep, loadExperiment, Plugins, SweepSpec } from "@empo/experiments"
import { type RunId, RunStore, type StageId } from "@empo/store"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-bench-store-"))
const ms = (start: number) => performance.now() - start
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const line = (label: string, value: string, target?: string) =>
  process.stdout.write(`${label.padEnd(58)} ${value.padStart(16)}${target === undefined ? "" : `   (target ${target})`}\n`)

const ingest = Effect.gen(function* () {
  const store = yield* RunStore
  const sql = yield* SqlClient.SqlClient
  yield* store.upsertExperiment({ name: "bench", description: "", specFile: null, spec: {} })
  const stageId = "train-bench" as StageId
  yield* store.registerStage({ id: stageId, kind: "train", inputs: {}, outputDir: dir })
  const points = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => ({ stageId, key: `loss/${i % 8}`, step: offset + i, value: Math.random(), time: Date.now() }))

  const total = 200_000
  const batch = 2_000
  let start = performance.now()
  for (let offset = 0; offset < total; offset += batch) yield* store.appendMetricPoints(points(batch, offset))
  const batchedRate = total / (ms(start) / 1000)

  const naiveTotal = 5_000
  const naive = points(naiveTotal, total)
  start = performance.now()
  yield* sql.withTransaction(Effect.forEach(naive, (p) =>
    sql`INSERT INTO metric_points (stage_id, key, step, value, time) VALUES (${p.stageId}, ${p.key}, ${p.step}, ${p.value}, ${p.time})`, { discard: true }))
  const naiveRate = naiveTotal / (ms(start) / 1000)

  line("ingest: RunStore.appendMetricPoints, batches of 2,000", `${Math.round(batchedRate).toLocaleString("en")} pts/s`, "≥ 100,000 pts/s")
  line("ingest baseline: one INSERT per point, one transaction", `${Math.round(naiveRate).toLocaleString("en")} pts/s`)
  line("ingest speed-up over baseline", `${(batchedRate / naiveRate).toFixed(1)}×`)

  start = performance.now()
  const tail = yield* store.metricPointsSince("none" as RunId, 0)
  void tail
  line("tail query on a run with no points (index check)", `${ms(start).toFixed(2)} ms`)
})

const compare = Effect.gen(function* () {
  const store = yield* RunStore
  const sql = yield* SqlClient.SqlClient
  yield* store.upsertExperiment({ name: "cmp", description: "", specFile: null, spec: {} })
  const runs = 1_000
  const metrics = 20
  yield* sql.withTransaction(Effect.gen(function* () {
    for (let r = 0; r < runs; r++) {
      const id = `run-${r}` as RunId
      const stage = `evaluate-${r}` as StageId
      yield* store.registerStage({ id: stage, kind: "evaluate", inputs: {}, outputDir: dir })
      yield* store.registerRun({
        id, experiment: "cmp", label: `beta=${(r % 50) / 100} seed=${r % 20}`, seed: r % 20, position: r, config: {},
        params: { "stages.preference.params.beta": (r % 50) / 100, seed: r % 20, "model.kind": "tiny" },
        stages: [{ stageId: stage, name: "evaluate" }]
      })
      yield* store.setSummaryMetrics(stage, Object.fromEntries(Array.from({ length: metrics }, (_, m) => [`metric.m${m}`, Math.random()])))
    }
  }))
  const timings: Array<number> = []
  const split: Array<[number, number]> = []
  for (let i = 0; i < 5; i++) {
    const start = performance.now()
    const data = yield* store.comparisonData("cmp")
    const queried = performance.now()
    const table = compareExperiment("cmp", data, { baseline: "run-0" as RunId })
    split.push([queried - start, performance.now() - queried])
    if (!("rows" in table) || table.rows.length !== 50) throw new Error("unexpected comparison")
    timings.push(ms(start))
  }
  timings.sort((a, b) => a - b)
  line("compare: 1,000 runs × 20 metrics → 50 configs (median of 5)", `${timings[2]!.toFixed(1)} ms`, "< 200 ms")
  line("  of which the store query (median)", `${median(split.map((s) => s[0])).toFixed(1)} ms`)
  line("  of which the aggregation (median)", `${median(split.map((s) => s[1])).toFixed(1)} ms`)
})

const itemScores = Effect.gen(function* () {
  const store = yield* RunStore
  const sql = yield* SqlClient.SqlClient
  yield* store.upsertExperiment({ name: "items", description: "", specFile: null, spec: {} })
  const runs = 1_000
  const itemIds = Array.from({ length: 500 }, (_, i) => `hit:${i}_conv:${2 * i}`)
  const stageOf = (r: number) => `evaluate-${r.toString(16).padStart(16, "0")}` as StageId
  yield* sql.withTransaction(Effect.forEach(Array.from({ length: runs }, (_, r) => r), (r) => Effect.gen(function* () {
    yield* store.registerStage({ id: stageOf(r), kind: "evaluate", inputs: {}, outputDir: dir })
    yield* store.registerRun({ id: `run-${r}` as RunId, experiment: "items", label: "", seed: 0, position: r, config: {}, params: {}, stages: [{ stageId: stageOf(r), name: "evaluate" }] })
  }), { discard: true }))
  const scores = Array.from({ length: runs }, () => [{
    metric: "metric", itemIds, perItem: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`metric.k${k}`, itemIds.map(() => Math.random())]))
  }])
  let start = performance.now()
  for (let r = 0; r < runs; r++) yield* store.recordItemScores(stageOf(r), scores[r]!)
  line("item scores: 1,000 runs × 500 items × 10 keys, recordItemScores", `${(ms(start) / 1000).toFixed(1)} s`, "seconds")
  start = performance.now()
  const paired = yield* store.itemScoresOf("items", ["metric.k1", "metric.k2"])
  if (paired.length !== 2 * runs) throw new Error("unexpected item scores")
  line("item scores: itemScoresOf 2 keys × 1,000 runs", `${ms(start).toFixed(0)} ms`)
})

const expansion = Effect.gen(function* () {
  const grid = {
    "model.hidden": [32, 48, 64, 80, 96, 112, 128, 144, 160, 176],
    "model.layers": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "stages.generate.maxNewTokens": [16, 24, 32, 40, 48, 56, 64, 72, 80, 88],
    "data.limit": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
  }
  const sweep = Schema.decodeUnknownSync(SweepSpec)({ grid })
  let start = performance.now()
  const expanded = expandSweep(sweep)
  const pure = ms(start)
  if (!("assignments" in expanded) || expanded.assignments.length !== 10_000) throw new Error("unexpected expansion")
  line("expansion: 10,000-run grid, expandSweep (pure)", `${pure.toFixed(1)} ms`)

  const file = path.join(dir, "grid.yaml")
  // Planning checks that the data source exists (it reads nothing from it): an empty folder will do.
  const source = path.join(dir, "ed")
  fs.mkdirSync(source, { recursive: true })
  fs.writeFileSync(file, [
    "name: grid", "data:", `  source: ${source}`, "model:", "  kind: tiny", "stages:", "  generate:", "    limit: 8",
    "sweep:", "  grid:", ...Object.entries(grid).map(([k, v]) => `    ${k}: [${v.join(", ")}]`), ""
  ].join("\n"))
  start = performance.now()
  const plan = yield* loadExperiment(file)
  const full = ms(start)
  line(`expansion: YAML → plan (${plan.runs.length.toLocaleString("en")} runs, ${plan.stages.size.toLocaleString("en")} stages)`, `${full.toFixed(0)} ms`, "< 1 s")
})

const program = Effect.gen(function* () {
  // Figures scale with contention: the load average is printed so runs on a busy machine can be read as such.
  process.stdout.write(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}\n`)
  yield* ingest.pipe(Effect.provide(RunStore.layer(path.join(dir, "ingest.db"))))
  yield* compare.pipe(Effect.provide(RunStore.layer(path.join(dir, "compare.db"))))
  yield* itemScores.pipe(Effect.provide(RunStore.layer(path.join(dir, "items.db"))))
  yield* expansion.pipe(Effect.provide(Plugins.layer({ optimizers: [], metrics: [] })))
})

program.pipe(
  Effect.provide(NodeContext.layer),
  Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))),
  Effect.runPromise
).catch((error) => {
  process.stderr.write(`${error}\n`)
  process.exitCode = 1
})
