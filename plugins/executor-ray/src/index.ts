/**
 * `kind: ray` — each stage is one Ray core task on an existing cluster (`ray.init(address=…)`), with or without
 * Ray's dashboard. A small driver (`python/empo_worker/ray_driver.py`) runs here, detached under `job.py` like an
 * SSH job (so it outlives `empo run` and a rerun follows it); it schedules the unchanged worker as a task with
 * `num_gpus` and prints the worker's protocol lines as the task yields them. Cancel interrupts the driver, which
 * cancels the task (`ray.cancel`). Where a cluster's dashboard is up, Ray Jobs (`ray job submit`) is the
 * alternative (README); this path needs only Ray core.
 */
import {
  defineExecutor,
  ExecutorError,
  type JobRef,
  type JobState,
  type Placement,
  type RemoteExecutor,
  type RemoteHost,
  TransportError
} from "@empo/experiments/Executor"
import { RayExecutorSpec } from "@empo/experiments/Inventory"
import { execOk, localTransport } from "@empo/experiments/remote/Transport"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const Status = Schema.Struct({
  state: Schema.Literal("exited", "unknown", "running"),
  code: Schema.optional(Schema.NullOr(Schema.Int)),
  signal: Schema.optional(Schema.NullOr(Schema.String)),
  reason: Schema.optional(Schema.String),
  lines: Schema.optional(Schema.Int)
})
type Status = typeof Status.Type

const stateOf = (s: Status): JobState =>
  s.state === "running" ? { _tag: "Running" }
  : s.state === "exited" ? { _tag: "Exited", code: s.code ?? null, signal: s.signal ?? null, ...(s.code === 130 ? { reason: "the Ray task was cancelled" } : {}) }
  : { _tag: "Unknown", reason: s.reason ?? "unknown job" }

/** The driver's argv: the worker argv after `--`, every value its own word. */
export const driverArgv = (python: string, driver: string, address: string, gpus: number, taskFile: string, worker: ReadonlyArray<string>) =>
  [python, "-u", driver, "--address", address, "--num-gpus", String(gpus), "--task-file", taskFile, "--", ...worker]

export const rayExecutor = defineExecutor({
  manifest: { id: "executor-ray", kind: "executor", version: "0.1.0", description: "stages as Ray core tasks (num_gpus) on an existing Ray cluster; the worker's protocol streams back through a driver" },
  executorKind: "ray",
  config: RayExecutorSpec,
  make: (name, config) => Effect.gen(function* () {
    if (config.workDir === undefined || !config.workDir.startsWith("/")) {
      return yield* new ExecutorError({ executor: name, reason: `workDir must be an absolute path the Ray nodes share, got ${JSON.stringify(config.workDir ?? "(none)")}` })
    }
    const transport = localTransport(`ray:${config.address}`)
    const host: RemoteHost = { name: `ray:${config.address}`, transport, workDir: config.workDir.replace(/\/+$/, ""), python: config.python }
    const free = yield* Effect.makeSemaphore(config.maxJobs)
    const jobDirOf = (ref: JobRef) => String(ref.locator["jobDir"])
    const jobScriptOf = (ref: JobRef) => String(ref.locator["jobScript"])

    // Ray places the task and its GPUs (`num_gpus`); the runner only bounds how many tasks it has submitted.
    const reserve: RemoteExecutor["reserve"] = (request) =>
      Effect.acquireRelease(Effect.interruptible(free.take(1)), () => free.release(1)).pipe(
        Effect.as({ host, gpus: [], gpuCount: request.gpus ?? 0 } satisfies Placement))

    const launch: RemoteExecutor["launch"] = (placement, spec) => Effect.gen(function* () {
      const driver = spec.jobScript.replace(/job\.py$/, "ray_driver.py")
      const argv = driverArgv(host.python, driver, config.address, placement.gpuCount, `${spec.jobDir}/ray.task`, spec.workerArgv)
      const result = yield* execOk(transport, [host.python, spec.jobScript, "launch", spec.jobDir], {
        // Secrets ride on stdin into the driver's environment, and from there in memory to the task.
        stdin: JSON.stringify({ argv, env: { ...spec.env, ...spec.secretEnv } })
      })
      const parsed = yield* Schema.decodeUnknown(Schema.parseJson(Schema.Struct({ pid: Schema.Int })))(result.stdout.trim()).pipe(
        Effect.mapError(() => new ExecutorError({ executor: name, reason: `job.py launch printed ${JSON.stringify(result.stdout.slice(0, 200))}` })))
      return { key: spec.key, host: host.name, jobId: String(parsed.pid), locator: { jobDir: spec.jobDir, jobScript: spec.jobScript, pid: parsed.pid, address: config.address } } satisfies JobRef
    })

    const decodeStatus = (text: string) => Schema.decodeUnknown(Schema.parseJson(Status))(text).pipe(
      Effect.mapError(() => new ExecutorError({ executor: name, reason: `job.py printed ${JSON.stringify(text.slice(0, 200))}` })))

    const follow: RemoteExecutor["follow"] = (ref, fromLine, onLine) => Effect.gen(function* () {
      let exit: string | undefined
      const result = yield* transport.exec([host.python, jobScriptOf(ref), "follow", jobDirOf(ref), String(fromLine)], {
        onLine: (line) => {
          if (line.startsWith(`{"_tag": "jobExit"`)) {
            exit = line
            return Effect.void
          }
          return onLine(line)
        }
      })
      if (exit === undefined) {
        return yield* new TransportError({ host: host.name, operation: "closed", reason: `following job ${ref.jobId} ended early (exit ${result.code ?? result.signal}): ${result.stderr.trim().slice(-300)}` })
      }
      return stateOf(yield* decodeStatus(exit))
    })

    const state: RemoteExecutor["state"] = (ref) =>
      execOk(transport, [host.python, jobScriptOf(ref), "status", jobDirOf(ref)]).pipe(Effect.flatMap((r) => decodeStatus(r.stdout.trim())), Effect.map(stateOf))

    // SIGINT to the driver: it cancels the Ray task and exits 130.
    const cancel: RemoteExecutor["cancel"] = (ref) =>
      execOk(transport, [host.python, jobScriptOf(ref), "cancel", jobDirOf(ref), "10"]).pipe(Effect.asVoid)

    const check: RemoteExecutor["check"] = execOk(transport, [host.python, "-c",
      "import json, os, sys\nhost = sys.argv[1].removeprefix('ray://').rsplit(':', 1)[0]\n"
      + "if host in ('127.0.0.1', 'localhost'): os.environ.setdefault('RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER', '0')\n"
      + "import ray\nray.init(address=sys.argv[1], logging_level='ERROR', **({'_node_ip_address': host} if host in ('127.0.0.1', 'localhost') else {}))\n"
      + "r = ray.cluster_resources()\nprint(json.dumps({'ray': ray.__version__, 'gpus': r.get('GPU', 0), 'cpus': r.get('CPU', 0), 'python': sys.version.split()[0]}))",
      config.address]).pipe(
      Effect.map((r) => {
        const info = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { ray: string; gpus: number; cpus: number; python: string }
        return [{ host: host.name, reachable: true, python: `${host.python} (${info.python})`, versions: { ray: info.ray }, gpus: Array.from({ length: info.gpus }, (_, i) => `GPU ${i}`) }]
      }),
      Effect.catchAll((e) => Effect.succeed([{ host: host.name, reachable: false, error: e.message }])))

    return { name, kind: "ray", capacity: config.maxJobs, hosts: [host], reserve, launch, follow, state, cancel, check } satisfies RemoteExecutor
  })
})
