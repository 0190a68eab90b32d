/**
 * `kind: slurm` — each stage is one Slurm batch job. `sbatch` runs on a login node: this machine, or over SSH
 * (`login:`, through executor-ssh's transport). The job runs the unchanged worker under `job.py supervise`, so its
 * protocol lines land in `<jobDir>/events.ndjson` on the shared work dir and are followed from there. State comes
 * from `scontrol show job` (accounting may be absent); a job Slurm has forgotten (past `MinJobAge`) is read from
 * the job dir's `exit.json`. Jobs are submitted with `--requeue` and `--signal=USR1@120`; the worker runs as the job's `srun` step.
 */
import {
  defineExecutor,
  ExecutorError,
  type JobRef,
  type JobState,
  type Placement,
  type RemoteExecutor,
  type RemoteHost,
  type RemoteTransport
} from "@empo/experiments/Executor"
import { SlurmExecutorSpec } from "@empo/experiments/Inventory"
import { execOk, localTransport } from "@empo/experiments/remote/Transport"
import { makeSshTransport, sshTargetOf, targetName } from "@empo/executor-ssh/SshTransport"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { batchScript, directives, parseScontrol, stateOfRecord } from "./Sbatch.ts"

export * from "./Sbatch.ts"

// Submits with the secrets in sbatch's environment only (read from stdin): Slurm hands them to the job's
// environment; they never enter the script, argv, or a file of ours. Prints the job id; writes it beside the script.
const SUBMIT = `
import json, os, subprocess, sys
spec = json.loads(sys.stdin.read())
script, id_file = sys.argv[1], sys.argv[2]
env = {**os.environ, **spec["env"]}
done = subprocess.run(["sbatch", "--parsable", *spec["args"], script], env=env, capture_output=True, text=True)
sys.stderr.write(done.stderr)
if done.returncode != 0:
    sys.exit(done.returncode)
job_id = done.stdout.strip().split(";")[0]
with open(id_file + ".tmp", "w") as handle:
    handle.write(job_id)
os.replace(id_file + ".tmp", id_file)
print(job_id)
`

const POLL = Duration.millis(300)

// A busy slurmctld answers `scontrol` with "Socket timed out on send/recv operation" or "Unable to contact slurm
// controller" for a while; that is no news about the job, so the poll asks again (for up to about a minute)
// before the stage gives up on it.
const CONTROLLER_RETRY = Schedule.exponential(Duration.millis(500), 2).pipe(
  Schedule.union(Schedule.spaced(Duration.seconds(8))), Schedule.upTo(Duration.seconds(60)))

/** Job names Slurm shows in squeue: the job key, kept to characters no tool mangles. */
const jobName = (key: string) => `empo-${key.replace(/[^A-Za-z0-9_.-]/g, "_")}`.slice(0, 120)

export const slurmExecutor = defineExecutor({
  manifest: { id: "executor-slurm", kind: "executor", version: "0.1.0", description: "stages as Slurm batch jobs (sbatch here or on a login node over SSH), requeued jobs resume from their checkpoint" },
  executorKind: "slurm",
  config: SlurmExecutorSpec,
  make: (name, config, context) => Effect.gen(function* () {
    let transport: RemoteTransport
    let hostName: string
    let python = config.python
    let workDir = config.workDir
    if (config.login !== undefined) {
      const login = config.login
      const ssh = yield* makeSshTransport(sshTargetOf(login, context.inventoryDir))
      yield* Effect.addFinalizer(() => ssh.disconnect)
      transport = ssh
      hostName = `slurm:${targetName(login)}`
      python = login.python
      workDir = login.workDir
    } else {
      transport = localTransport("slurm:local")
      hostName = "slurm:local"
    }
    if (workDir === undefined || !workDir.startsWith("/")) {
      return yield* new ExecutorError({ executor: name, reason: `workDir must be an absolute path on the cluster's shared file system, got ${JSON.stringify(workDir ?? "(none)")}` })
    }
    const host: RemoteHost = { name: hostName, transport, workDir: workDir.replace(/\/+$/, ""), python }
    // sbatch/squeue/scontrol/scancel see the entry's Slurm environment (SLURM_CONF …) through `env`, an argv word each.
    const slurm = (argv: ReadonlyArray<string>) => [
      "env", ...Object.entries(config.slurmEnv).map(([k, v]) => `${k}=${v}`), ...argv
    ]
    const free = yield* Effect.makeSemaphore(config.maxJobs)

    // Slurm places the job and its GPUs (`gres`); the runner only bounds how many jobs it has in the queue.
    const reserve: RemoteExecutor["reserve"] = (request) =>
      Effect.acquireRelease(Effect.interruptible(free.take(1)), () => free.release(1)).pipe(
        Effect.as({ host, gpus: [], gpuCount: request.gpus ?? 0 } satisfies Placement))

    const readJobId = (jobDir: string) =>
      transport.exec(["cat", "--", `${jobDir}/slurm.jobid`]).pipe(
        Effect.map((r) => (r.code === 0 && /^\d+(_\d+)?$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined)))

    const launch: RemoteExecutor["launch"] = (placement, spec) => Effect.gen(function* () {
      const refOf = (jobId: string): JobRef => ({ key: spec.key, host: host.name, jobId, locator: { jobDir: spec.jobDir, jobScript: spec.jobScript, slurmJobId: jobId } })
      const existing = yield* readJobId(spec.jobDir)
      if (existing !== undefined) return refOf(existing)
      const lines = directives(config, placement.gpuCount)
      if ("error" in lines) return yield* new ExecutorError({ executor: name, reason: `#SBATCH option ${lines.error}` })
      const script = batchScript({ directives: lines.lines, env: spec.env, python: host.python, jobScript: spec.jobScript, jobDir: spec.jobDir })
      yield* execOk(transport, ["sh", "-c", `cat > "$1/job.sbatch" && printf '%s' "$2" > "$1/job.json"`, "sh", spec.jobDir, JSON.stringify({ argv: spec.workerArgv })], { stdin: script })
      const submitted = yield* execOk(transport, [host.python, "-c", SUBMIT, `${spec.jobDir}/job.sbatch`, `${spec.jobDir}/slurm.jobid`], {
        stdin: JSON.stringify({
          env: { ...config.slurmEnv, ...spec.secretEnv },
          // Paths as argv words, never as `#SBATCH` text; requeue and the USR1 warning are always on.
          args: ["--job-name", jobName(spec.key), "--output", `${spec.jobDir}/slurm.out`, "--open-mode", "append",
            "--chdir", spec.jobDir, "--requeue", "--signal=USR1@120"]
        })
      }).pipe(Effect.mapError((e) => new ExecutorError({ executor: name, reason: `sbatch refused the job: ${e.reason}` })))
      return refOf(submitted.stdout.trim().split("\n").at(-1)!)
    })

    const exitRecord = (jobDir: string) =>
      transport.exec(["cat", "--", `${jobDir}/exit.json`]).pipe(Effect.map((r): JobState => {
        if (r.code !== 0) return { _tag: "Unknown", reason: "Slurm no longer knows the job and it left no exit record" }
        const info = JSON.parse(r.stdout) as { code: number | null; signal: string | null }
        return { _tag: "Exited", code: info.code, signal: info.signal }
      }))

    const state: RemoteExecutor["state"] = (ref) => Effect.gen(function* () {
      const shown = yield* transport.exec(slurm(["scontrol", "show", "job", "-o", ref.jobId]))
      if (shown.code !== 0 || !shown.stdout.includes("JobState=")) {
        if (/Invalid job id/i.test(shown.stderr + shown.stdout)) return yield* exitRecord(String(ref.locator["jobDir"]))
        return yield* new ExecutorError({ executor: name, reason: `scontrol show job ${ref.jobId}: ${(shown.stderr || shown.stdout).trim().slice(0, 300)}` })
      }
      return stateOfRecord(parseScontrol(shown.stdout.split("\n")[0]!))
    }).pipe(Effect.retry({ schedule: CONTROLLER_RETRY, while: (e) => e._tag === "ExecutorError" }))

    const follow: RemoteExecutor["follow"] = (ref, fromLine, onLine) => Effect.gen(function* () {
      const jobDir = String(ref.locator["jobDir"])
      const jobScript = String(ref.locator["jobScript"])
      let seen = 0
      // Streams what the worker wrote so far; returns when its supervisor is not running (ended, or not started yet).
      const drain = Effect.suspend(() => transport.exec([host.python, jobScript, "follow", jobDir, String(fromLine + seen)], {
        onLine: (line) => {
          if (line.startsWith(`{"_tag": "jobExit"`)) return Effect.void
          seen++
          return onLine(line)
        }
      }))
      while (true) {
        const now = yield* state(ref)
        if (now._tag === "Pending") { yield* Effect.sleep(POLL); continue }
        yield* drain
        if (now._tag === "Running") { yield* Effect.sleep(POLL); continue }
        return now
      }
    })

    const cancel: RemoteExecutor["cancel"] = (ref) =>
      execOk(transport, slurm(["scancel", ref.jobId])).pipe(Effect.asVoid)

    const check: RemoteExecutor["check"] = Effect.gen(function* () {
      const info = yield* execOk(transport, slurm(["sinfo", "-h", "-o", "%P %a %D %G"]))
      const py = yield* execOk(transport, [host.python, "-c", "import sys; print(sys.version.split()[0])"])
      return [{ host: host.name, reachable: true, python: `${host.python} (${py.stdout.trim()})`, gpus: info.stdout.trim().split("\n").filter((l) => / gpu/.test(l)) }]
    }).pipe(Effect.catchAll((e) => Effect.succeed([{ host: host.name, reachable: false, error: e.message }])))

    return { name, kind: "slurm", capacity: config.maxJobs, hosts: [host], reserve, launch, follow, state, cancel, check } satisfies RemoteExecutor
  })
})
