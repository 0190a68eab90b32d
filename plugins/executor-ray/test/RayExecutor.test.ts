import { assert, describe, it } from "@effect/vitest"
import type { RemoteExecutor, RemoteJobSpec } from "@empo/experiments/Executor"
import { RayExecutorSpec } from "@empo/experiments/Inventory"
import type { StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { rayExecutor } from "../src/index.ts"

const repo = path.resolve(import.meta.dirname, "../../..")
const python = process.env["EMPO_PYTHON"] ?? path.join(repo, ".venv/bin/python")
const haveRay = spawnSync(python, ["-c", "import ray"]).status === 0
// Short: Ray's unix sockets live under it. A port of its own beside the loopback stack's 6390.
const base = fs.mkdtempSync("/tmp/empo-rayt-")
const port = "6392"
const stack = (fn: string) => execFileSync("bash", ["-c", `. ${repo}/tools/cluster/ray.sh && ${fn} "$1"`, "bash", base], { env: { ...process.env, EMPO_RAY_PORT: port, EMPO_PYTHON: python }, encoding: "utf8" })
beforeAll(() => { if (haveRay) stack("start_ray") }, 120_000)
afterAll(() => { if (haveRay) stack("stop_ray") }, 60_000)

const workDir = path.join(base, "work")
const jobSpec = (key: string, workerArgv: ReadonlyArray<string>, secretEnv: Record<string, string> = {}): RemoteJobSpec => {
  const jobDir = path.join(workDir, "jobs", key)
  fs.mkdirSync(jobDir, { recursive: true })
  fs.writeFileSync(path.join(jobDir, "request.ndjson"), JSON.stringify({ id: 1, _tag: "throughput", payload: { count: 15 } }) + "\n")
  return { key, stageId: "train-abc" as StageId, jobDir, workerArgv, jobScript: path.join(repo, "python/empo_worker/job.py"), env: { PYTHONPATH: path.join(repo, "python") }, secretEnv }
}
const withExecutor = <A, E>(f: (executor: RemoteExecutor) => Effect.Effect<A, E>) => Effect.scoped(Effect.gen(function* () {
  const config = Schema.decodeUnknownSync(RayExecutorSpec)({ kind: "ray", address: `127.0.0.1:${port}`, python, workDir })
  return yield* f(yield* rayExecutor.make("loopback-ray", config, { inventoryDir: base, env: {} }))
}))
const launch = (executor: RemoteExecutor, spec: RemoteJobSpec) => Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (p) => executor.launch(p, spec)))

describe.skipIf(!haveRay)("executor-ray on a real Ray head", () => {
  it.live("runs the real worker as a Ray task and follows its protocol to the end; HF_TOKEN only in the environment", () => withExecutor((executor) => Effect.gen(function* () {
    const token = `hf_planted_${Date.now()}`
    const spec = jobSpec("r-worker", [python, "-u", path.join(repo, "python/worker.py")], { HF_TOKEN: token })
    const ref = yield* launch(executor, spec)
    const lines: Array<string> = []
    const end = yield* executor.follow(ref, 0, (line) => Effect.sync(() => { lines.push(line) }))
    assert.deepStrictEqual(end, { _tag: "Exited", code: 0, signal: null })
    const messages = lines.map((l) => JSON.parse(l) as { _tag: string; value?: { count: number } })
    assert.strictEqual(messages[0]!._tag, "ready")
    assert.strictEqual(messages.filter((m) => m._tag === "event").length, 15)
    assert.strictEqual(messages.at(-1)!.value!.count, 15)
    assert.match(fs.readFileSync(path.join(spec.jobDir, "ray.task"), "utf8"), /^[0-9a-f]{16,}$/)
    for (const file of fs.readdirSync(spec.jobDir)) assert.notInclude(fs.readFileSync(path.join(spec.jobDir, file), "utf8"), token, file)
  })), 120_000)

  it.live("cancel stops the Ray task; the job ends cancelled (exit 130)", () => withExecutor((executor) => Effect.gen(function* () {
    const slow = [python, "-u", "-c", "import json, time\nfor i in range(600):\n    print(json.dumps({'_tag': 'event', 'id': 1, 'event': {'i': i}}), flush=True)\n    time.sleep(0.1)"]
    const ref = yield* launch(executor, jobSpec("r-cancel", slow))
    const lines: Array<string> = []
    const followed = yield* Effect.fork(executor.follow(ref, 0, (line) => Effect.sync(() => { lines.push(line) })))
    while (lines.length < 3) yield* Effect.sleep("100 millis")
    yield* executor.cancel(ref)
    const end = yield* followed.await.pipe(Effect.flatten)
    assert.deepStrictEqual(end, { _tag: "Exited", code: 130, signal: null, reason: "the Ray task was cancelled" })
    assert.isBelow(lines.length, 600)
  })), 120_000)
})
