/**
 * Executor overhead, measured in one run against a baseline in the same run:
 *   tools/cluster/stack.sh up && npx tsx tools/bench/executors/bench.ts [--executor loopback-ssh] [--executors FILE] [--rounds 5]
 * 1. A trivial stage, submit → result: a protocol-speaking worker that answers at once, launched as a remote job
 *    (write request, record, launch detached, follow, collect) vs the same process spawned here directly.
 * 2. The quickstart's inputs (its datasets and the Python worker) uploaded twice into a fresh host work dir: the
 *    second upload must send ~nothing (content-addressed).
 */
import { NodeContext } from "@effect/platform-node"
import { sharedDataDir } from "@empo/core/testing/sharedData"
import { pythonRoot } from "@empo/bridge/WorkerLaunch"
import { datasetKind, executorKindsOf, inventoryPath, loadInventory, loadExperiment, Plugins } from "@empo/experiments"
import { openExecutor } from "@empo/experiments/remote/OpenExecutor"
import { remoteLayout, workerFiles } from "@empo/experiments/remote/RemoteStage"
import { execOk, filesOfDir, sendFiles } from "@empo/experiments/remote/Transport"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { PluginsLive } from "../../../apps/cli/src/plugins.ts"

const { values } = parseArgs({ options: { executor: { type: "string", default: "loopback-ssh" }, executors: { type: "string" }, rounds: { type: "string", default: "5" } } })
const rounds = Number(values.rounds)
const repo = path.resolve(import.meta.dirname, "../../..")
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const TRIVIAL = `import json, sys\nr = json.loads(sys.stdin.readline())\nprint(json.dumps({"_tag": "result", "id": r["id"], "value": None}), flush=True)\n`

const program = Effect.scoped(Effect.gen(function* () {
  const plugins = yield* Plugins
  const inventory = yield* loadInventory(inventoryPath(values.executors ?? path.join(repo, ".empo/cluster/executors.yaml"), process.env), executorKindsOf(plugins.executors))
  const opened = yield* openExecutor(plugins, inventory, values.executor, {})
  if (opened._tag === "Local") return yield* Effect.dieMessage(`${values.executor} is local: nothing to measure`)
  const executor = opened.setup.executor
  const host = executor.hosts[0]!
  const layout = remoteLayout(host)
  const { files, hash } = yield* workerFiles(pythonRoot)
  yield* sendFiles(host.transport, layout.cas, layout.worker(hash), files)
  const jobScript = `${layout.worker(hash)}/empo_worker/job.py`

  // 1. Trivial stage: baseline = the same worker process started here, request on stdin, until its result.
  const local: Array<number> = []
  const remote: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now()
    const direct = spawnSync(host.python, ["-u", "-c", TRIVIAL], { input: JSON.stringify({ id: 1, _tag: "noop", payload: {} }) + "\n", encoding: "utf8" })
    if (!direct.stdout.includes(`"result"`)) throw new Error(`baseline worker failed: ${direct.stderr}`)
    local.push(performance.now() - t0)

    const key = `bench-${Date.now()}-${round}`
    const jobDir = layout.job(key)
    const t1 = performance.now()
    yield* execOk(host.transport, ["sh", "-c", `mkdir -p -- "$1" && cat > "$1/request.ndjson"`, "sh", jobDir], { stdin: JSON.stringify({ id: 1, _tag: "noop", payload: {} }) + "\n" })
    const placement = yield* Effect.scoped(executor.reserve({ gpus: 1 }))
    const ref = yield* executor.launch(placement, { key, stageId: "bench" as never, jobDir, workerArgv: [host.python, "-u", "-c", TRIVIAL], jobScript, env: {}, secretEnv: {} })
    let answered = false
    yield* executor.follow(ref, 0, (line) => Effect.sync(() => { if (line.includes(`"result"`)) answered = true }))
    if (!answered) throw new Error("the remote trivial job gave no result")
    remote.push(performance.now() - t1)
  }
  const l = median(local), r = median(remote)
  console.log(`trivial stage, submit → result (median of ${rounds}): local process ${l.toFixed(0)} ms, ${executor.name} job ${r.toFixed(0)} ms, overhead ${(r - l).toFixed(0)} ms (${(r / l).toFixed(1)}×)`)

  // 2. The quickstart's inputs: its datasets (built here by the dataset stage) and the worker, into a fresh work dir.
  const plan = yield* loadExperiment(path.join(repo, "experiments/quickstart.yaml"))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-bench-exec-"))
  const inputs = [...files.map((f) => ({ ...f, relativePath: `worker/${f.relativePath}` }))]
  for (const stage of [...plan.stages.values()].filter((s) => s.kind === "dataset")) {
    const out = path.join(dir, stage.id)
    const decoded = yield* Schema.decodeUnknown(datasetKind.inputs)(stage.inputs)
    yield* datasetKind.execute({ stage, inputs: decoded, outputDir: out, checkpointDir: `${out}.checkpoints`, upstream: {}, metric: () => Effect.void, progress: () => Effect.void })
    inputs.push(...(yield* filesOfDir(out)).map((f) => ({ ...f, relativePath: `${stage.id}/${f.relativePath}` })))
  }
  const fresh = `${host.workDir}/bench-upload-${Date.now()}`
  const timed = (target: string) => Effect.gen(function* () {
    const t = performance.now()
    const report = yield* sendFiles(host.transport, `${fresh}/cas`, `${fresh}/${target}`, inputs)
    return { ...report, ms: performance.now() - t }
  })
  const first = yield* timed("first")
  const second = yield* timed("second")
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`
  console.log(`quickstart inputs (${first.files} files, ${kib(first.bytesTotal)}): first upload sent ${first.sent} files / ${kib(first.bytesSent)} in ${first.ms.toFixed(0)} ms; ` +
    `second sent ${second.sent} files / ${kib(second.bytesSent)} in ${second.ms.toFixed(0)} ms (${(second.bytesSent / Math.max(1, first.bytesSent) * 100).toFixed(1)}% of the bytes, ${(first.ms / second.ms).toFixed(1)}× faster)`)
  yield* execOk(host.transport, ["rm", "-rf", "--", fresh])
}))

// The app's own catalogue, so the quickstart's metrics and the executor kinds are the ones `empo run` knows.
const plugins = PluginsLive
await Effect.runPromise(program.pipe(
  Effect.provide(Layer.merge(NodeContext.layer, plugins)),
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()]]))),
  Effect.orDie
))
