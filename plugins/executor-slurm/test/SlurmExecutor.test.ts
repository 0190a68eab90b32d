import { assert, describe, it } from "@effect/vitest"
import type { JobRef, RemoteExecutor, RemoteJobSpec } from "@empo/experiments/Executor"
import { SlurmExecutorSpec } from "@empo/experiments/Inventory"
import type { StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { batchScript, directives, gresFor, parseScontrol, slurmExecutor, stateOfRecord } from "../src/index.ts"

const repo = path.resolve(import.meta.dirname, "../../..")
const python = process.env["EMPO_PYTHON"] ?? path.join(repo, ".venv/bin/python")
const jobScript = path.join(repo, "python/empo_worker/job.py")
const haveSlurm = spawnSync("sh", ["-c", "command -v slurmctld && command -v slurmd && command -v munged"]).status === 0
// Ports of its own: the loopback stack (6817/6818) may run beside this test.
const base = fs.mkdtempSync("/tmp/empo-slurm-test-")
// munged refuses a socket below a folder that is not world-executable (mkdtemp makes 0700).
fs.chmodSync(base, 0o755)
const slurmEnv = { EMPO_SLURMCTLD_PORT: "6837", EMPO_SLURMD_PORT: "6838" }
const stack = (fn: string) => execFileSync("bash", ["-c", `. ${repo}/tools/cluster/slurm.sh && ${fn} "$1"`, "bash", base], { env: { ...process.env, ...slurmEnv }, encoding: "utf8" })
const conf = path.join(base, "slurm/slurm.conf")
const scontrol = (...args: Array<string>) => execFileSync("scontrol", args, { env: { ...process.env, SLURM_CONF: conf }, encoding: "utf8" })

beforeAll(() => { if (haveSlurm) stack("start_slurm") }, 60_000)
afterAll(() => { if (haveSlurm) stack("stop_slurm") }, 60_000)

const workDir = path.join(base, "work")
const config = (extra: Record<string, unknown> = {}) => Schema.decodeUnknownSync(SlurmExecutorSpec)({
  kind: "slurm", python, workDir, partition: "debug", time: "00:10:00", slurmEnv: { SLURM_CONF: conf }, ...extra
})

// A stand-in worker that prints protocol-shaped lines slowly: the executor only moves lines, whatever prints them.
const slowWorker = (lines: number, seconds: number) => [python, "-u", "-c",
  `import json, os, sys, time\nfor i in range(${lines}):\n    print(json.dumps({"_tag": "event", "id": 1, "event": {"step": i, "restart": os.environ.get("SLURM_RESTART_COUNT", "0")}}), flush=True)\n    time.sleep(${seconds})\nprint(json.dumps({"_tag": "result", "id": 1, "value": {"token": os.environ.get("HF_TOKEN")}}))`]

const jobSpec = (key: string, workerArgv: ReadonlyArray<string>, secretEnv: Record<string, string> = {}): RemoteJobSpec => {
  const jobDir = path.join(workDir, "jobs", key)
  fs.mkdirSync(jobDir, { recursive: true })
  fs.writeFileSync(path.join(jobDir, "request.ndjson"), JSON.stringify({ id: 1, _tag: "throughput", payload: { count: 25 } }) + "\n")
  return { key, stageId: "train-abc" as StageId, jobDir, workerArgv, jobScript, env: { PYTHONPATH: path.join(repo, "python"), EMPO_NOTE: "it's $(not run)" }, secretEnv }
}

const withExecutor = <A, E>(f: (executor: RemoteExecutor) => Effect.Effect<A, E>, extra?: Record<string, unknown>) =>
  Effect.scoped(Effect.gen(function* () {
    const executor = yield* slurmExecutor.make("loopback-slurm", config(extra), { inventoryDir: base, env: {} })
    return yield* f(executor)
  }))

const follow = (executor: RemoteExecutor, ref: JobRef, lines: Array<string>) =>
  executor.follow(ref, 0, (line) => Effect.sync(() => { lines.push(line) }))

describe("batch script", () => {
  it("quotes every value and refuses option values that would add script lines", () => {
    const ok = directives({ partition: "gpu", gres: undefined, cpus: 4, extra: ["--constraint=a100"] }, 2)
    assert.deepStrictEqual("lines" in ok && ok.lines, ["#SBATCH --partition=gpu", "#SBATCH --gres=gpu:2", "#SBATCH --cpus-per-task=4", "#SBATCH --constraint=a100"])
    const bad = directives({ partition: "gpu\nrm -rf /" }, 0)
    assert.match("error" in bad ? bad.error : "", /partition: .* holds a line break/)
    assert.match((directives({ extra: ["touch /tmp/x"] }, 0) as { error: string }).error, /not an sbatch option/)
    const script = batchScript({ directives: [], env: { A: "$(touch /tmp/empo-pwned)'\"" }, python: "/opt/py thon", jobScript: "/j/job.py", jobDir: "/w/a b;c" })
    assert.include(script, `export A='$(touch /tmp/empo-pwned)'\\''"'`)
    assert.include(script, `cd -- '/w/a b;c' || exit 1`)
  })

  it("asks gres for the stage's GPUs, keeping a GPU type the inventory names", () => {
    assert.strictEqual(gresFor(undefined, 0), undefined)
    assert.strictEqual(gresFor("gpu:a100:1", 0), "gpu:a100:1")
    assert.strictEqual(gresFor(undefined, 4), "gpu:4")
    assert.strictEqual(gresFor("gpu:1", 4), "gpu:4")
    assert.strictEqual(gresFor("gpu:a100", 4), "gpu:a100:4")
    assert.strictEqual(gresFor("gpu:a100:1", 2), "gpu:a100:2")
    // Anything else (several resources) is the administrator's business: kept as written.
    assert.strictEqual(gresFor("gpu:a100:1,shard:2", 4), "gpu:a100:1,shard:2")
    const lines = directives({ gres: "gpu:h100" }, 8)
    assert.deepStrictEqual("lines" in lines && lines.lines, ["#SBATCH --gres=gpu:h100:8"])
  })

  it("maps scontrol records to job states, exit codes and typed reasons", () => {
    const of = (line: string) => stateOfRecord(parseScontrol(line))
    assert.deepStrictEqual(of("JobId=3 JobState=PENDING Reason=Priority ExitCode=0:0"), { _tag: "Pending" })
    assert.deepStrictEqual(of("JobId=3 JobState=RUNNING Reason=None"), { _tag: "Running" })
    assert.deepStrictEqual(of("JobId=3 JobState=COMPLETED Reason=None ExitCode=0:0"), { _tag: "Exited", code: 0, signal: null })
    assert.deepStrictEqual(of("JobId=3 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0"), { _tag: "Exited", code: 3, signal: null, reason: "the job failed (NonZeroExitCode)" })
    assert.deepStrictEqual(of("JobId=3 JobState=CANCELLED Reason=None ExitCode=0:15"), { _tag: "Exited", code: null, signal: "SIGTERM", reason: "cancelled in Slurm (scancel)" })
    assert.match((of("JobId=3 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:1") as { reason: string }).reason, /time limit/)
  })
})

describe.skipIf(!haveSlurm)("executor-slurm on a real single-node Slurm", () => {
  it.live("runs the real worker as a batch job, streams its protocol lines and reports COMPLETED", () => withExecutor((executor) => Effect.gen(function* () {
    const spec = jobSpec("k-worker", [python, "-u", path.join(repo, "python/worker.py")])
    const ref = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (placement) => executor.launch(placement, spec)))
    assert.match(ref.jobId, /^\d+$/)
    // A second launch of one key is the first job.
    const again = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (placement) => executor.launch(placement, spec)))
    assert.strictEqual(again.jobId, ref.jobId)
    const lines: Array<string> = []
    const end = yield* follow(executor, ref, lines)
    assert.deepStrictEqual(end, { _tag: "Exited", code: 0, signal: null })
    const messages = lines.map((l) => JSON.parse(l) as { _tag: string; value?: { count: number } })
    assert.strictEqual(messages[0]!._tag, "ready")
    assert.strictEqual(messages.filter((m) => m._tag === "event").length, 25)
    assert.strictEqual(messages.at(-1)!.value!.count, 25)
    assert.include(scontrol("show", "job", "-o", ref.jobId), "JobName=empo-k-worker")
  })), 120_000)

  it.live("keeps secrets out of the job script and job dir, and passes them through the job's environment", () => withExecutor((executor) => Effect.gen(function* () {
    const token = `hf_planted_${Date.now()}`
    const spec = jobSpec("k-secret", slowWorker(2, 0.05), { HF_TOKEN: token })
    const ref = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (placement) => executor.launch(placement, spec)))
    const lines: Array<string> = []
    yield* follow(executor, ref, lines)
    assert.strictEqual((JSON.parse(lines.at(-1)!) as { value: { token: string } }).value.token, token)
    const script = fs.readFileSync(path.join(spec.jobDir, "job.sbatch"), "utf8")
    assert.include(script, "#SBATCH --partition=debug")
    assert.include(script, `export EMPO_NOTE='it'\\''s $(not run)'`)
    for (const file of fs.readdirSync(spec.jobDir).filter((f) => f !== "events.ndjson")) {
      assert.notInclude(fs.readFileSync(path.join(spec.jobDir, file), "utf8"), token, file)
    }
  })), 120_000)

  it.live("a job cancelled from outside (scancel) ends with a typed reason while another job goes on", () => withExecutor((executor) => Effect.gen(function* () {
    const launch = (spec: RemoteJobSpec) => Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (p) => executor.launch(p, spec)))
    const victim = yield* launch(jobSpec("k-victim", slowWorker(200, 0.1)))
    const other = yield* launch(jobSpec("k-other", slowWorker(10, 0.1)))
    const lines: Array<string> = []
    const followed = yield* Effect.fork(follow(executor, victim, lines))
    while (lines.length < 3) yield* Effect.sleep("100 millis")
    execFileSync("scancel", [victim.jobId], { env: { ...process.env, SLURM_CONF: conf } })
    const end = yield* followed.await.pipe(Effect.flatten)
    assert.deepStrictEqual(end, { _tag: "Exited", code: null, signal: "SIGTERM", reason: "cancelled in Slurm (scancel)" })
    const otherLines: Array<string> = []
    assert.deepStrictEqual(yield* follow(executor, other, otherLines), { _tag: "Exited", code: 0, signal: null })
    assert.strictEqual(otherLines.length, 11)
  })), 120_000)

  it.live("a requeued job runs again and its lines keep arriving to the same follower", () => withExecutor((executor) => Effect.gen(function* () {
    const ref = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (p) => executor.launch(p, jobSpec("k-requeue", slowWorker(30, 0.1)))))
    const lines: Array<string> = []
    const followed = yield* Effect.fork(follow(executor, ref, lines))
    while (lines.length < 3) yield* Effect.sleep("100 millis")
    scontrol("requeue", ref.jobId)
    // Slurm holds a requeued job back ~2 minutes (BeginTime); an administrator releases it at once.
    yield* Effect.sleep("1 second")
    scontrol("update", `JobId=${ref.jobId}`, "StartTime=now")
    const end = yield* followed.await.pipe(Effect.flatten)
    assert.deepStrictEqual(end, { _tag: "Exited", code: 0, signal: null })
    const restarts = lines.filter((l) => l.includes('"restart"')).map((l) => (JSON.parse(l) as { event: { restart: string } }).event.restart)
    assert.strictEqual(restarts[0], "0")
    assert.strictEqual(restarts.at(-1), "1")
    assert.strictEqual(restarts.filter((r) => r === "1").length, 30)
  })), 120_000)

  it.live("USR1 to the step (what --signal=USR1@120 sends) → the worker exits 75, the job requeues itself and runs again", () => withExecutor((executor) => Effect.gen(function* () {
    // Stands in for a training: on USR1 it stops at the end of a step (exit 75, as after saving a checkpoint); the
    // requeued run finishes. Slurm signals every process of the step, and job.py passes the signal on too: the
    // handler only sets a flag, as the worker's does.
    const preemptible = [python, "-u", "-c", [
      "import json, os, signal, sys, time",
      "restart = os.environ.get('SLURM_RESTART_COUNT', '0')",
      "stop = []",
      "signal.signal(signal.SIGUSR1, lambda *_: stop.append(1))",
      "for i in range(4 if restart != '0' else 600):",
      "    print(json.dumps({'_tag': 'event', 'id': 1, 'event': {'step': i, 'restart': restart}}), flush=True)",
      "    time.sleep(0.1)",
      "    if stop: sys.exit(75)",
      "print(json.dumps({'_tag': 'result', 'id': 1, 'value': {'restart': restart}}))"
    ].join("\n")]
    const ref = yield* Effect.scoped(Effect.flatMap(executor.reserve({}), (p) => executor.launch(p, jobSpec("k-usr1", preemptible))))
    const lines: Array<string> = []
    const followed = yield* Effect.fork(follow(executor, ref, lines))
    while (lines.length < 3) yield* Effect.sleep("100 millis")
    // Not `--batch`: the signal goes to the job's steps, as Slurm's time-limit warning does.
    execFileSync("scancel", ["--signal=USR1", ref.jobId], { env: { ...process.env, SLURM_CONF: conf } })
    while (!/JobState=(PENDING|REQUEUED)|Restarts=1/.test(scontrol("show", "job", "-o", ref.jobId))) yield* Effect.sleep("200 millis")
    yield* Effect.sleep("500 millis")
    scontrol("update", `JobId=${ref.jobId}`, "StartTime=now")
    const end = yield* followed.await.pipe(Effect.flatten)
    assert.deepStrictEqual(end, { _tag: "Exited", code: 0, signal: null })
    assert.deepStrictEqual(JSON.parse(lines.at(-1)!), { _tag: "result", id: 1, value: { restart: "1" } })
    assert.include(scontrol("show", "job", "-o", ref.jobId), "Restarts=1")
    const script = fs.readFileSync(path.join(workDir, "jobs/k-usr1/job.sbatch"), "utf8")
    assert.match(script, /^srun --ntasks=1 /m)
  })), 120_000)

  it.live("a controller that times out for a while (busy slurmctld) is asked again; the job is followed to its end", () => {
    // `scontrol show job` fails its first 3 calls as a busy controller does, then is the real scontrol.
    const bin = fs.mkdtempSync(path.join(base, "busy-bin-"))
    const calls = path.join(bin, "calls")
    const real = execFileSync("sh", ["-c", "command -v scontrol"], { encoding: "utf8" }).trim()
    fs.writeFileSync(path.join(bin, "scontrol"), [
      "#!/bin/sh",
      `echo x >> '${calls}'`,
      `if [ "$1" = show ] && [ "$(wc -l < '${calls}')" -le 3 ]; then`,
      "  echo 'slurm_load_jobs error: Socket timed out on send/recv operation' >&2; exit 1",
      "fi",
      `exec '${real}' "$@"`
    ].join("\n"), { mode: 0o755 })
    return withExecutor((executor) => Effect.gen(function* () {
      const ref = yield* Effect.scoped(Effect.flatMap(executor.reserve({}), (p) => executor.launch(p, jobSpec("k-busy", slowWorker(5, 0.05)))))
      const lines: Array<string> = []
      assert.deepStrictEqual(yield* follow(executor, ref, lines), { _tag: "Exited", code: 0, signal: null })
      assert.strictEqual(lines.length, 6)
      assert.isAbove(fs.readFileSync(calls, "utf8").split("\n").length, 4)
    }), { slurmEnv: { SLURM_CONF: conf, PATH: `${bin}:${process.env["PATH"]}` } })
  }, 120_000)

  it.live("a job outlives its follower: a new executor (a rerun after kill -9) follows the same job to its end", () => Effect.gen(function* () {
    const spec = jobSpec("k-reattach", slowWorker(20, 0.1))
    const first: Array<string> = []
    // The first runner: launches, reads a few lines, then its executor (and follower) is gone.
    const ref = yield* withExecutor((executor) => Effect.gen(function* () {
      const launched = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (p) => executor.launch(p, spec)))
      const followed = yield* Effect.fork(follow(executor, launched, first))
      while (first.length < 3) yield* Effect.sleep("100 millis")
      yield* followed.interruptAsFork(followed.id())
      return launched
    }))
    assert.include(scontrol("show", "job", "-o", ref.jobId), "JobState=RUNNING")
    const second: Array<string> = []
    const end = yield* withExecutor((executor) => Effect.gen(function* () {
      // Launching the same key again (a rerun that lost the job id) finds the first job.
      const again = yield* Effect.scoped(Effect.flatMap(executor.reserve({ gpus: 0 }), (p) => executor.launch(p, spec)))
      assert.strictEqual(again.jobId, ref.jobId)
      return yield* follow(executor, ref, second)
    }))
    assert.deepStrictEqual(end, { _tag: "Exited", code: 0, signal: null })
    assert.strictEqual(second.length, 21)
    assert.deepStrictEqual(second.slice(0, first.length), first.slice(0, first.length))
  }), 120_000)
})
