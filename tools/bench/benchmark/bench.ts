/**
 * The benchmark stage's own overhead over calling lm_eval directly, measured in one run:
 *   npx tsx tools/bench/benchmark/bench.ts [--rounds 3] [--limit 24]
 * The same tiny model (built once, seeded) is evaluated on the local task experiments/tasks/retention, alternating
 * rounds: lm_eval.simple_evaluate in one Python process (direct.py), and `empo benchmark` (Node, the worker, the
 * checks before loading, lm_eval). Both process times include Python's imports; the in-call times exclude them.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { pythonRoot, venvPython } from "@empo/bridge"

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" }, limit: { type: "string", default: "24" } } })
const rounds = Number(values.rounds), limit = values.limit
const python = process.env["EMPO_PYTHON"] ?? venvPython
const root = path.resolve(import.meta.dirname, "../../..")
const tasks = path.join(root, "experiments/tasks/retention")
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const env = { ...process.env, PYTHONPATH: pythonRoot, NO_COLOR: "1" }

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-bench-benchmark-"))
const model = path.join(dir, "tiny")
execFileSync(python, [path.join(import.meta.dirname, "direct.py"), "build", model], { env, stdio: "ignore" })

const direct: Array<{ call: number; process: number }> = [], stage: Array<{ call: number; process: number }> = []
for (let round = 0; round < rounds; round++) {
  const out = execFileSync(python, [path.join(import.meta.dirname, "direct.py"), "eval", model, tasks, limit], { env, stdio: ["ignore", "pipe", "ignore"] })
  direct.push(JSON.parse(out.toString().trim().split("\n").pop()!))
  const began = performance.now()
  const run = spawnSync(process.execPath, [path.join(root, "apps/cli/bin/empo.mjs"), "benchmark", "--model", model, "--tasks", "retention_mc",
    "--include-path", tasks, "--num-fewshot", "1", "--limit", limit, "--batch-size", "8", "--seed", "1234", "--dtype", "float32"],
  { env, cwd: root, encoding: "utf8" })
  const seconds = (performance.now() - began) / 1000
  if (run.status !== 0) throw new Error(`empo benchmark failed: ${run.stderr}`)
  // The worker's own time from the request to the results ("evaluated in X s"): checks and model load included.
  const inWorker = Number(/evaluated in ([0-9.]+)s/.exec(run.stderr)?.[1] ?? Number.NaN)
  stage.push({ call: inWorker, process: seconds })
  console.error(`round ${round + 1}/${rounds}: direct ${direct[round]!.call.toFixed(2)} s in simple_evaluate, ${direct[round]!.process.toFixed(2)} s process; empo benchmark ${inWorker.toFixed(2)} s in the worker, ${seconds.toFixed(2)} s process`)
}

const d = median(direct.map((r) => r.process)), s = median(stage.map((r) => r.process))
const call = median(direct.map((r) => r.call)), worker = median(stage.map((r) => r.call))
console.log(`tiny task (retention_mc, ${limit} docs, 1-shot, 2-layer 64-wide Llama, CPU): simple_evaluate ${call.toFixed(2)} s (median of ${rounds})`)
console.log(`in-call: simple_evaluate ${call.toFixed(2)} s   benchmark.run in the worker ${worker.toFixed(2)} s   overhead ${(worker - call).toFixed(2)} s (×${(worker / call).toFixed(2)})`)
console.log(`direct lm_eval process: ${d.toFixed(2)} s   empo benchmark: ${s.toFixed(2)} s   overhead ${(s - d).toFixed(2)} s (×${(s / d).toFixed(2)})`)
fs.rmSync(dir, { recursive: true, force: true })
