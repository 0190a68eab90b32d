import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type JobRef, type RemoteExecutor } from "@empo/experiments/Executor"
import { loadInventory, type SshExecutorSpec } from "@empo/experiments/Inventory"
import { jobEnvironment, remoteLayout, workerFiles } from "@empo/experiments/remote/RemoteStage"
import { execOk, sendFiles } from "@empo/experiments/remote/Transport"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"
import { sshExecutor } from "../src/index.ts"
import { repoRoot, startStack, type LoopbackStack } from "./support.ts"

const TOKEN = "hf_planted_ssh_token_93b7"
// A protocol-speaking stand-in for the worker: events, then a result reporting what its environment held.
const FAKE_WORKER = `
import json, os, sys, time
request = json.loads(sys.stdin.readline())
p = request["payload"]
try:
    for step in range(p["steps"]):
        print(json.dumps({"_tag": "event", "id": 1, "event": {"step": step}}), flush=True)
        time.sleep(p["sleep"])
except KeyboardInterrupt:
    print(json.dumps({"_tag": "error", "id": 1, "kind": "cancelled", "type": "Cancelled", "message": "cancelled", "traceback": ""}), flush=True)
    sys.exit(130)
print(json.dumps({"_tag": "result", "id": 1, "value": {"token": len(os.environ.get("HF_TOKEN", "")), "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}}), flush=True)
`

let stack: LoopbackStack
let entry: SshExecutorSpec
beforeAll(async () => {
  stack = await startStack()
  const inventory = await Effect.runPromise(loadInventory(stack.inventory).pipe(Effect.provide(NodeContext.layer)))
  entry = inventory.executors.get("loopback-ssh") as SshExecutorSpec
})
afterAll(() => stack?.down())

const withExecutor = <A, E>(body: (executor: RemoteExecutor) => Effect.Effect<A, E, Scope.Scope>, config: SshExecutorSpec = entry) =>
  Effect.scoped(Effect.flatMap(sshExecutor.make("loopback-ssh", config, { inventoryDir: stack.dir, env: {} }), body))

/** Uploads job.py and writes a request; returns what launch needs. */
const prepareJob = (executor: RemoteExecutor, key: string, payload: unknown) => Effect.gen(function* () {
  const host = executor.hosts[0]!
  const { files, hash } = yield* workerFiles(path.join(repoRoot, "python"))
  yield* sendFiles(host.transport, remoteLayout(host).cas, remoteLayout(host).worker(hash), files)
  const jobDir = remoteLayout(host).job(key)
  yield* execOk(host.transport, ["sh", "-c", `mkdir -p -- "$1" && cat > "$1/request.ndjson"`, "sh", jobDir], { stdin: JSON.stringify({ id: 1, _tag: "train", payload }) + "\n" })
  return { jobDir, jobScript: `${remoteLayout(host).worker(hash)}/empo_worker/job.py`, workerArgv: [host.python, "-u", "-c", FAKE_WORKER] }
})

describe("executor-ssh against a real sshd", () => {
  it.live("runs argv on the host literally: shell text in arguments executes nothing", () => withExecutor((executor) => Effect.gen(function* () {
    const nasty = ["$(touch /tmp/empo-ssh-pwned)", "`touch /tmp/empo-ssh-bq`", "it's \"quoted\"", "a; touch /tmp/empo-ssh-semi", "two\nlines", "../../x", "$HOME"]
    const result = yield* execOk(executor.hosts[0]!.transport, ["printf", "%s\\0", ...nasty])
    assert.deepStrictEqual(result.stdout.split("\0").slice(0, -1), nasty)
    for (const f of ["/tmp/empo-ssh-pwned", "/tmp/empo-ssh-bq", "/tmp/empo-ssh-semi"]) assert.isFalse(fs.existsSync(f), f)
    const failed = yield* executor.hosts[0]!.transport.exec(["sh", "-c", "exit 7"])
    assert.strictEqual(failed.code, 7)
  })))

  it.live("refuses an unknown or changed host key with a clear message (exit code 2)", () => Effect.gen(function* () {
    const otherKeys = path.join(stack.dir, "other_known_hosts")
    const foreign = fs.readFileSync(path.join(stack.dir, "ssh/client_ed25519.pub"), "utf8").split(" ").slice(0, 2).join(" ")
    fs.writeFileSync(otherKeys, `[127.0.0.1]:${stack.port} ${foreign}\n`)
    const changed = { ...entry, hosts: [{ ...entry.hosts[0]!, knownHosts: otherKeys }] } as unknown as SshExecutorSpec
    const refused = yield* Effect.flip(withExecutor((executor) => executor.hosts[0]!.transport.exec(["true"]), changed))
    assert.strictEqual(refused._tag, "TransportError")
    assert.strictEqual((refused as { operation?: string }).operation, "host-key")
    assert.strictEqual((refused as { exitCode?: number }).exitCode, 2)
    assert.match(refused.message, /HOST KEY CHANGED: 127\.0\.0\.1 port \d+ presented SHA256:\S+, but .*other_known_hosts lists SHA256:\S+; refusing to connect/)
    fs.writeFileSync(otherKeys, "")
    const unknown = yield* Effect.flip(withExecutor((executor) => executor.hosts[0]!.transport.exec(["true"]), changed))
    assert.match(unknown.message, /is not in .*other_known_hosts .*ssh-keyscan -p \d+ 127\.0\.0\.1/)
  }))

  it.live("a job follows through a killed server-side session, every line exactly once; the token stays in the environment", () => withExecutor((executor) => Effect.gen(function* () {
    const key = `follow-${Date.now()}`
    const job = yield* prepareJob(executor, key, { steps: 40, sleep: 0.05 })
    const placement = yield* executor.reserve({ gpus: 1 })
    const { env, secretEnv } = jobEnvironment({ entry: { ...entry, env: {} }, env: { HF_TOKEN: TOKEN } }, { gpus: [1] })
    const ref = yield* executor.launch(placement, { key, stageId: "s" as never, jobDir: job.jobDir, workerArgv: job.workerArgv, jobScript: job.jobScript, env, secretEnv })
    const lines: Array<string> = []
    let killed = 0
    const ended = yield* executor.follow(ref, 0, (line) => Effect.sync(() => {
      lines.push(line)
      // Drop the connection mid-job: kill the sshd processes serving it (the job itself runs on, detached).
      if (lines.length === 10) for (const pid of stack.sessions()) { process.kill(pid, "SIGKILL"); killed++ }
    }))
    assert.isAbove(killed, 0)
    assert.deepStrictEqual(ended, { _tag: "Exited", code: 0, signal: null })
    const steps = lines.map((l) => JSON.parse(l) as { _tag: string; event?: { step: number }; value?: unknown })
    assert.deepStrictEqual(steps.filter((m) => m._tag === "event").map((m) => m.event!.step), Array.from({ length: 40 }, (_, i) => i))
    assert.deepStrictEqual(steps.at(-1), { _tag: "result", id: 1, value: { token: TOKEN.length, cuda: "1" } } as never)
    // The secret reached the worker's environment only: no file of the job, no sshd log line holds it.
    for (const file of fs.readdirSync(job.jobDir)) assert.notInclude(fs.readFileSync(path.join(job.jobDir, file), "utf8"), TOKEN, file)
    assert.notInclude(fs.readFileSync(path.join(stack.dir, "ssh/sshd.log"), "utf8"), TOKEN)
    assert.deepStrictEqual(yield* executor.state(ref), { _tag: "Exited", code: 0, signal: null })
  })), 90_000)

  it.live("cancel stops a running job (SIGINT: the worker reports cancelled)", () => withExecutor((executor) => Effect.gen(function* () {
    const key = `cancel-${Date.now()}`
    const job = yield* prepareJob(executor, key, { steps: 10_000, sleep: 0.05 })
    const placement = yield* executor.reserve({ gpus: 1 })
    const ref: JobRef = yield* executor.launch(placement, { key, stageId: "s" as never, jobDir: job.jobDir, workerArgv: job.workerArgv, jobScript: job.jobScript, env: {}, secretEnv: {} })
    const seen: Array<string> = []
    const follower = yield* Effect.fork(executor.follow(ref, 0, (line) => Effect.sync(() => seen.push(line))))
    while (seen.length < 3) yield* Effect.sleep("50 millis")
    yield* executor.cancel(ref)
    const ended = yield* Fiber.join(follower)
    assert.deepStrictEqual(ended, { _tag: "Exited", code: 130, signal: null })
    assert.strictEqual((JSON.parse(seen.at(-1)!) as { kind: string }).kind, "cancelled")
  })), 60_000)

  it.live("schedules stages onto GPU slots across hosts, one CUDA device each", () => Effect.gen(function* () {
    const host = entry.hosts[0]!
    const config = { ...entry, hosts: [{ ...host, gpus: [0, 1] }, { ...host, host: "localhost", gpus: 1 }] } as unknown as SshExecutorSpec
    yield* withExecutor((executor) => Effect.gen(function* () {
      assert.strictEqual(executor.capacity, 3)
      const taken = yield* Effect.all([executor.reserve({ gpus: 1 }), executor.reserve({ gpus: 1 }), executor.reserve({ gpus: 1 })])
      assert.deepStrictEqual(taken.map((p) => `${p.host.name}#${p.gpus.join(",")}`).sort(),
        [`${host.user}@127.0.0.1:${host.port}#0`, `${host.user}@127.0.0.1:${host.port}#1`, `${host.user}@localhost:${host.port}#0`])
      // A fourth stage waits for a slot.
      const fourth = yield* Effect.fork(Effect.scoped(executor.reserve({ gpus: 1 })))
      yield* Effect.sleep("100 millis")
      assert.isNull(yield* Fiber.poll(fourth).pipe(Effect.map((o) => (o._tag === "Some" ? "done" : null))))
      yield* Fiber.interrupt(fourth)
    }), config)
  }))

  it.live("check reports reachability, the remote Python stack and free disk", () => withExecutor((executor) => Effect.gen(function* () {
    const [report] = yield* executor.check
    assert.isTrue(report!.reachable)
    assert.match(report!.python!, /\(3\.\d+\.\d+\)/)
    assert.match(report!.versions!["torch"]!, /^\d+\.\d+/)
    assert.match(report!.versions!["trl"]!, /^\d+\.\d+/)
    assert.isAbove(report!.freeDiskBytes!, 0)
  })), 60_000)
})
