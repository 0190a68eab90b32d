/** @jsxRuntime automatic */
/** @jsxImportSource react */
/**
 * TUI benchmark: `npx tsx tools/bench/tui/bench.tsx [--runs 1000 --metrics 20 --steps 500]`.
 * A synthetic store of runs × metric series × steps (written once to $TMPDIR/empo-bench-tui/, reused), then:
 *   1. time to first paint: runtime + store open → the Experiments screen drawn with real rows (target < 500 ms);
 *   2. applying a batch of new metric points to a loaded Run detail screen: reducer + Ink re-render (target < 50 ms),
 *      against a baseline that reloads the run's whole series instead (what a per-frame rescan costs);
 *   3. peak memory of this process (max RSS; target < 150 MB) — this process runs through tsx, which alone holds
 *      ~85 MB, so the target is checked on the shipped program:
 *   4. `shipped.ts`: the real `empo tui` from its bundle in a tmux terminal (first paint as the user sees it, peak
 *      RSS of that process), against the same program run from sources through tsx.
 * The store is generated in a child process so its memory does not count.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Plugins } from "@empo/experiments/Plugins"
import { type MetricPointRecord, type RunId, RunStore, type StageId } from "@empo/store"
import { makeTuiRuntime, TuiStore, tuiLayer } from "@empo/tui"
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { render } from "ink-testing-library"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { RunDetailView } from "../../../apps/tui/src/ui/components/RunDetailView.tsx"
import { App } from "../../../apps/tui/src/ui/App.tsx"
import { applyMetricPoints, initialRunMetrics } from "../../../apps/tui/src/ui/state/runMetrics.ts"

const { values: flags } = parseArgs({
  options: { runs: { type: "string", default: "1000" }, metrics: { type: "string", default: "20" }, steps: { type: "string", default: "500" }, generate: { type: "string" } }
})
const runs = Number(flags.runs)
const metrics = Number(flags.metrics)
const steps = Number(flags.steps)
const experiments = 5
const cacheDir = path.join(os.tmpdir(), "empo-bench-tui")
const dbPath = path.join(cacheDir, `store-${runs}x${metrics}x${steps}.db`)
const line = (label: string, value: string, target?: string) =>
  process.stdout.write(`${label.padEnd(62)} ${value.padStart(14)}${target === undefined ? "" : `   (target ${target})`}\n`)
// CPU time of this process as well as wall time: on a shared machine the wall clock mostly measures the neighbours.
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const p95 = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!
const metricKey = (m: number) => (m === 0 ? "loss" : m === 1 ? "rewards/accuracies" : m === 2 ? "rewards/margins" : `train/metric_${m}`)

/** Child process: schema through the store's migrations, bulk rows through one better-sqlite3 transaction. */
const generate = async (target: string) => {
  const tmp = `${target}.partial`
  fs.rmSync(tmp, { force: true })
  await Effect.runPromise(RunStore.pipe(Effect.asVoid, Effect.provide(RunStore.layer(tmp).pipe(Layer.provide(NodeContext.layer)))))
  const db = new Database(tmp)
  db.pragma("journal_mode = WAL")
  const now = Date.now()
  const insert = {
    experiment: db.prepare("INSERT INTO experiments (name, description, spec_file, spec_json, created_at, updated_at) VALUES (?, '', NULL, '{}', ?, ?)"),
    stage: db.prepare("INSERT INTO stages (id, kind, inputs_json, output_dir, status, attempts, created_at, started_at, finished_at) VALUES (?, ?, '{}', '/tmp', ?, 1, ?, ?, ?)"),
    run: db.prepare("INSERT INTO runs (id, experiment, label, seed, position, config_json, status, created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)"),
    runStage: db.prepare("INSERT INTO run_stages (run_id, stage_id, name, position) VALUES (?, ?, ?, ?)"),
    param: db.prepare("INSERT INTO params (run_id, key, value_json, value_num) VALUES (?, ?, ?, ?)"),
    point: db.prepare("INSERT INTO metric_points (stage_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)"),
    summary: db.prepare("INSERT INTO summary_metrics (stage_id, key, value) VALUES (?, ?, ?)")
  }
  db.transaction(() => {
    for (let e = 0; e < experiments; e++) {
      insert.experiment.run(`sweep-${e}`, now, now)
      insert.stage.run(`dataset-${e}`, "dataset", "completed", now, now, now)
    }
    for (let r = 0; r < runs; r++) {
      const e = r % experiments
      const id = `run${String(r).padStart(9, "0")}`
      const beta = [0.01, 0.05, 0.1, 0.25, 0.5][Math.floor(r / experiments) % 5]!
      const lr = [1e-6, 5e-7, 1e-7][Math.floor(r / 25) % 3]!
      const seed = Math.floor(r / 75) % 3
      const status = r % 97 === 0 ? "failed" : r % 50 === 1 ? "running" : "completed"
      insert.run.run(id, `sweep-${e}`, `beta=${beta} lr=${lr} seed=${seed}`, seed, Math.floor(r / experiments), status, now, now, status === "running" ? null : now)
      const train = `train-${id}`
      const evaluate = `evaluate-${id}`
      insert.stage.run(train, "train", status, now, now, status === "running" ? null : now)
      insert.stage.run(evaluate, "evaluate", status === "completed" ? "completed" : "pending", now, null, null)
      insert.runStage.run(id, `dataset-${e}`, "dataset", 0)
      insert.runStage.run(id, train, "preference", 1)
      insert.runStage.run(id, evaluate, "evaluate", 2)
      for (const [key, value] of [["stages.preference.params.beta", beta], ["stages.preference.params.learningRate", lr], ["seed", seed]] as const) {
        insert.param.run(id, key, JSON.stringify(value), value)
      }
      for (let step = 0; step < steps; step++) {
        for (let m = 0; m < metrics; m++) insert.point.run(train, metricKey(m), step, Math.exp(-step / 100) * (1 + m) + Math.sin(step + r) * 0.01, now + step)
      }
      if (status === "completed") {
        for (let k = 0; k < 6; k++) insert.summary.run(evaluate, `eval.metric_${k}`, 0.3 + 0.01 * k + 0.02 * beta + 0.001 * seed)
      }
    }
  })()
  db.close()
  fs.renameSync(tmp, target)
  fs.rmSync(`${tmp}-wal`, { force: true })
  fs.rmSync(`${tmp}-shm`, { force: true })
}

if (flags.generate !== undefined) {
  await generate(flags.generate)
  process.exit(0)
}

fs.mkdirSync(cacheDir, { recursive: true })
if (!fs.existsSync(dbPath)) {
  process.stderr.write(`generating ${dbPath} (${runs} runs × ${metrics} metrics × ${steps} steps = ${(runs * metrics * steps).toLocaleString("en")} points; once)…\n`)
  const start = performance.now()
  execFileSync(process.execPath, [...process.execArgv, import.meta.filename, "--runs", String(runs), "--metrics", String(metrics), "--steps", String(steps), "--generate", dbPath], { stdio: "inherit" })
  process.stderr.write(`generated in ${((performance.now() - start) / 1000).toFixed(1)} s (${(fs.statSync(dbPath).size / 2 ** 20).toFixed(0)} MiB)\n`)
}

const waitFor = async (read: () => string | undefined, predicate: (text: string) => boolean): Promise<void> => {
  while (!predicate(read() ?? "")) await new Promise((resolve) => setTimeout(resolve, 1))
}

// The floor: Node + tsx compiling TypeScript on the fly + every module the TUI imports, before it does anything.
global.gc?.()
const rssAfterImports = process.memoryUsage().rss / 2 ** 20
let peakRss = rssAfterImports
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss / 2 ** 20)
}, 5)

// 1. First paint: everything the TUI does before the first useful frame.
const paintStart = performance.now()
const paintCpu = cpuMs()
const runtime = makeTuiRuntime(tuiLayer({
  dbPath, plugins: Plugins.layer({ optimizers: [], metrics: [] }), runnerCommand: ["true"],
  stateDir: path.join(cacheDir, "launches"), experimentsDir: cacheDir, exportDir: cacheDir
}))
const app = render(<App runtime={runtime} />)
await waitFor(app.lastFrame, (f) => f.includes("sweep-0"))
const firstPaint = performance.now() - paintStart
line("time to first paint (store open + Experiments screen drawn)", `${firstPaint.toFixed(0)} ms`, "< 500 ms")
line("  CPU time of this process until then", `${(cpuMs() - paintCpu).toFixed(0)} ms`)
app.stdin.write("\r")
const sweepStart = performance.now()
await waitFor(app.lastFrame, (f) => f.includes(`${runs / experiments}/${runs / experiments} runs`))
line(`Sweep screen of ${runs / experiments} runs drawn after enter`, `${(performance.now() - sweepStart).toFixed(0)} ms`)
app.unmount()

// 2. New metric points on a loaded Run detail screen.
const runId = "run000000002" as RunId
const loadStart = performance.now()
const [detail, history] = await runtime.runPromise(TuiStore.pipe(Effect.flatMap((store) =>
  Effect.all([store.runDetail(runId), store.metricPointsSince(runId, 0, 1_000_000)]))))
let state = applyMetricPoints(initialRunMetrics(runId), history)
const initialLoad = performance.now() - loadStart
line(`Run detail initial load (${history.length.toLocaleString("en")} points read + reduced)`, `${initialLoad.toFixed(0)} ms`)

// Max RSS of the TUI's own work so far (first paint, sweep, run detail load), before the benchmark's baseline
// rescans below allocate whole series 40 times (a synchronous spike the 5 ms sampler cannot see).
const maxRssTuiOnly = process.resourceUsage().maxRSS / 1024
const view = render(<RunDetailView detail={detail} metrics={state} logLines={[]} width={80} height={22} now={Date.now()} />)
const batchSize = 10 * metrics
let nextId = history[history.length - 1]!.id
let nextStep = steps
const batchTimes: Array<number> = []
const rescanTimes: Array<number> = []
const reduceTimes: Array<number> = []
const batchCpu: Array<number> = []
for (let i = 0; i < 40; i++) {
  const batch: Array<MetricPointRecord> = []
  for (let s = 0; s < 10; s++, nextStep++) {
    for (let m = 0; m < metrics; m++) {
      batch.push({ id: ++nextId, stageId: `train-${runId}` as StageId, key: metricKey(m), step: nextStep, value: 1000 + nextStep, time: 0 } as MetricPointRecord)
    }
  }
  const start = performance.now()
  const cpuStart = cpuMs()
  state = applyMetricPoints(state, batch)
  reduceTimes.push(performance.now() - start)
  view.rerender(<RunDetailView detail={detail} metrics={state} logLines={[]} width={80} height={22} now={Date.now()} />)
  await waitFor(view.lastFrame, (f) => f.includes(`@${nextStep - 1}`))
  batchTimes.push(performance.now() - start)
  batchCpu.push(cpuMs() - cpuStart)

  // Baseline: what re-reading the run's whole series on every frame would cost (query + reduce from scratch).
  const rescanStart = performance.now()
  const all = await runtime.runPromise(TuiStore.pipe(Effect.flatMap((store) => store.metricPointsSince(runId, 0, 1_000_000))))
  applyMetricPoints(initialRunMetrics(runId), all)
  rescanTimes.push(performance.now() - rescanStart)
}
view.unmount()
line(`apply a batch of ${batchSize} new points to Run detail (median of 40)`, `${median(batchTimes).toFixed(2)} ms`, "< 50 ms")
line("  p95", `${p95(batchTimes).toFixed(2)} ms`)
line("  CPU time per batch (median)", `${median(batchCpu).toFixed(2)} ms`)
line("  of which the pure reducer (median)", `${median(reduceTimes).toFixed(2)} ms`)
line("baseline: reload the run's whole series instead (median)", `${median(rescanTimes).toFixed(2)} ms`)
line("  incremental speed-up over the reload", `${(median(rescanTimes) / median(batchTimes)).toFixed(1)}×`)
line("machine load average (1 min) during the run", os.loadavg()[0]!.toFixed(1))

await runtime.dispose()
clearInterval(sampler)
const maxRss = process.resourceUsage().maxRSS / 1024
line("in-process, through tsx: RSS after loading modules (the floor)", `${rssAfterImports.toFixed(0)} MB`)
line("peak RSS while the TUI works (sampled every 5 ms)", `${peakRss.toFixed(0)} MB`)
line("  of which above the floor", `${(peakRss - rssAfterImports).toFixed(0)} MB`)
line("max RSS through first paint, sweep and run-detail load (the TUI's work)", `${maxRssTuiOnly.toFixed(0)} MB`)
line("max RSS of the whole benchmark (incl. the baseline's 40 full rescans)", `${maxRss.toFixed(0)} MB`)
line("heap used at the end", `${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`)
process.stdout.write("\n")
execFileSync(process.execPath, [...process.execArgv, path.join(import.meta.dirname, "shipped.ts"), dbPath], { stdio: "inherit" })
