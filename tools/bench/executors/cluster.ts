/**
 * Overhead of a trivial stage (submit → result) on the Slurm and Ray executors, against the same worker request run
 * as a plain local process in the same run, and the cost of uploading the quickstart's inputs twice into each
 * executor's work dir (the second upload must send ~nothing):
 *   bash tools/cluster/stack.sh up
 *   npx tsx tools/bench/executors/cluster.ts [--executors .empo/cluster/executors.yaml] [--rounds 3]
 */
import { NodeContext } from "@effect/platform-node"
import { venvPython } from "@empo/bridge"
import type { ExecutorPlugin, RemoteExecutor, RemoteJobSpec } from "@empo/experiments/Executor"
import { loadInventory } from "@empo/experiments/Inventory"
import { filesOfDir, localTransport, sendFiles } from "@empo/experiments/remote/Transport"
import { rayExecutor } from "@empo/executor-ray"
import { slurmExecutor } from "@empo/executor-slurm"
import type { StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"

const { values } = parseArgs({ options: { executors: { type: "string", default: ".empo/cluster/executors.yaml" }, rounds: { type: "string", default: "3" } } })
const rounds = Number(values.rounds)
const repo = path.resolve(import.meta.dirname, "../../..")
const python = process.env["EMPO_PYTHON"] ?? venvPython
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const request = JSON.stringify({ id: 1, _tag: "throughput", payload: { count: 1 } }) + "\n"
const worker = [python, "-u", path.join(repo, "python/worker.py")]

const local = (): number => {
  const started = performance.now()
  const done = spawnSync(worker[0]!, worker.slice(1), { input: request, encoding: "utf8" })
  if (!done.stdout.includes('"_tag": "result"')) throw new Error(`local worker: ${done.stderr}`)
  return performance.now() - started
}

const trivial = (executor: RemoteExecutor, round: number) => Effect.gen(function* () {
  const key = `bench-${Date.now()}-${round}`
  const jobDir = path.join(executor.hosts[0]!.workDir, "jobs", key)
  fs.mkdirSync(jobDir, { recursive: true })
  fs.writeFileSync(path.join(jobDir, "request.ndjson"), request)
  const spec: RemoteJobSpec = { key, stageId: "bench" as StageId, jobDir, workerArgv: worker, jobScript: path.join(repo, "python/empo_worker/job.py"), env: { PYTHONPATH: path.join(repo, "python") }, secretEnv: {} }
  const started = performance.now()
  const ref = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (p) => executor.launch(p, spec)))
  let answered = false
  yield* executor.follow(ref, 0, (line) => Effect.sync(() => { if (line.includes('"_tag": "result"')) answered = true }))
  if (!answered) throw new Error(`${executor.name}: no result`)
  return performance.now() - started
})

const program = Effect.gen(function* () {
  const inventory = yield* loadInventory(path.resolve(values.executors!))
  const plugins: Record<string, ExecutorPlugin> = { slurm: slurmExecutor, ray: rayExecutor }
  const baseline = median(Array.from({ length: rounds }, local))
  console.log(`trivial stage (throughput, 1 event), median of ${rounds}:`)
  console.log(`  local worker process (baseline)      ${baseline.toFixed(0).padStart(6)} ms`)
  const inputs = yield* filesOfDir(path.join(repo, "python"))
  for (const [name, entry] of inventory.executors) {
    const plugin = plugins[entry.kind]
    if (plugin === undefined) continue
    yield* Effect.scoped(Effect.gen(function* () {
      const executor = yield* plugin.make(name, entry, { inventoryDir: path.dirname(inventory.file), env: {} })
      const times: Array<number> = []
      for (let i = 0; i < rounds; i++) times.push(yield* trivial(executor, i))
      const m = median(times)
      console.log(`  ${name.padEnd(36)} ${m.toFixed(0).padStart(6)} ms  (${(m / baseline).toFixed(1)}× baseline, +${(m - baseline).toFixed(0)} ms)`)
      // Uploads go through the executor's transport into its work dir, content-addressed (cas/<sha256>).
      const target = path.join(executor.hosts[0]!.workDir, "bench-upload", String(Date.now()))
      const cas = path.join(executor.hosts[0]!.workDir, "cas")
      for (const pass of ["first", "second"]) {
        const started = performance.now()
        const report = yield* sendFiles(localTransport(), cas, `${target}-${pass}`, inputs)
        console.log(`    upload of python/ (${inputs.length} files), ${pass}: ${(performance.now() - started).toFixed(0)} ms, ${JSON.stringify(report)}`)
      }
    }))
  }
})

Effect.runPromise(program.pipe(Effect.provide(NodeContext.layer))).catch((e) => { console.error(e); process.exit(1) })
