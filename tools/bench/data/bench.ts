/**
 * Data benchmark (issue 2): load both shared ED pair files and build the balanced DPO set with 3
 * negatives (plutchik-1) for all dialogues; in the same run, time a straightforward pandas version of
 * the same steps. Targets: ours < 300 ms on the 2-core dev machine, and ≥ 10× faster than pandas.
 *   npx tsx tools/bench/data/bench.ts            (EMPO_DATA_DIR overrides ../shared/data)
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { sharedData } from "@empo/core/testing/sharedData"
import { DatasetSources } from "@empo/data"
import { buildRows, Grounders, PLUTCHIK_1, serializeJsonl } from "@empo/grounding"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import * as os from "node:os"
import * as path from "node:path"

const RUNS = 11
const dir = sharedData("empathetic_dialogues")
const files = [path.join(dir, "val.csv"), path.join(dir, "test.csv")]

const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const once = Effect.gen(function*() {
  const c0 = cpuMs()
  const t0 = performance.now()
  const load = yield* DatasetSources.loadDataset(DatasetSources.LoadOptions.make({ source: dir, format: "ed-pairs" }))
  const t1 = performance.now()
  const built = buildRows(load.dialogues, { kind: "dpo", mode: "balanced", negatives: 3, seed: 0 }, Grounders.plutchik1)
  const t2 = performance.now()
  const cpu = cpuMs() - c0
  const jsonl = serializeJsonl(built.rows)
  const t3 = performance.now()
  return { loadMs: t1 - t0, buildMs: t2 - t1, totalMs: t2 - t0, cpuMs: cpu, serializeMs: t3 - t2, items: built.prompts, rows: built.rows.length, bytes: jsonl.length }
})

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const main = Effect.gen(function*() {
  const runs = []
  for (let i = 0; i < RUNS; i++) runs.push(yield* once)
  const cold = runs[0]!
  const warm = runs.slice(1)
  const python = process.env["EMPO_PYTHON"] ?? path.resolve(import.meta.dirname, "../../../.venv/bin/python")
  const pandas = JSON.parse(execFileSync(python, [path.join(import.meta.dirname, "pandas_baseline.py"), files.join(","), JSON.stringify(PLUTCHIK_1), "3"], { encoding: "utf8" })) as { items: number; rows: number; best_ms: number; median_ms: number; median_cpu_ms: number }
  const oursMedian = median(warm.map((r) => r.totalMs))
  const f = (x: number) => x.toFixed(1).padStart(8)
  console.log(`ED pair files: ${files.map((p) => path.basename(p)).join(" + ")} → ${cold.items} prompts, ${cold.rows} DPO rows (balanced, k=3, plutchik-1)`)
  const load = os.loadavg()[0]!
  console.log(`machine: ${os.cpus().length} cores, load average ${load.toFixed(2)} (wall times are inflated when other work shares the cores; CPU time is the steadier figure)`)
  console.log(`ours   cold: load ${f(cold.loadMs)} ms + build ${f(cold.buildMs)} ms = ${f(cold.totalMs)} ms wall, ${f(cold.cpuMs)} ms CPU   (JSONL serialisation, not timed against pandas: ${cold.serializeMs.toFixed(1)} ms, ${(cold.bytes / 1e6).toFixed(1)} MB)`)
  const oursCpu = median(warm.map((r) => r.cpuMs))
  console.log(`ours   warm median of ${warm.length}: load ${f(median(warm.map((r) => r.loadMs)))} ms + build ${f(median(warm.map((r) => r.buildMs)))} ms = ${f(oursMedian)} ms wall, ${f(oursCpu)} ms CPU`)
  const best = warm.reduce((a, b) => (b.totalMs < a.totalMs ? b : a))
  console.log(`ours   warm best of ${warm.length}: ${f(best.totalMs)} ms wall, ${f(best.cpuMs)} ms CPU (least disturbed by other processes)`)
  console.log(`pandas median of 3: ${f(pandas.median_ms)} ms wall, ${f(pandas.median_cpu_ms)} ms CPU (best wall ${pandas.best_ms.toFixed(1)} ms) → ${pandas.items} prompts, ${pandas.rows} rows`)
  console.log(`ratio pandas/ours (wall): cold ${(pandas.median_ms / cold.totalMs).toFixed(1)}×, warm ${(pandas.median_ms / oursMedian).toFixed(1)}×; (CPU): warm ${(pandas.median_cpu_ms / oursCpu).toFixed(1)}×`)
  console.log(`targets: ours < 300 ms — warm median ${oursMedian < 300 ? "PASS" : "FAIL"}, warm best ${best.totalMs < 300 ? "PASS" : "FAIL"}, CPU ${oursCpu < 300 ? "PASS" : "FAIL"}; ≥ 10× pandas (median wall) ${pandas.median_ms / oursMedian >= 10 ? "PASS" : "FAIL"}`)
})

Effect.runPromise(main.pipe(Effect.provide(NodeContext.layer)))
