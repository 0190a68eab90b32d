/**
 * `kind: ssh` — stages on GPU hosts reached over SSH. Each host has GPU slots (`gpus: [0, 1]` → two stages at once,
 * each with its own `CUDA_VISIBLE_DEVICES`) or CPU `slots`; `--concurrency N` fills N slots across hosts. A stage
 * given more GPUs (`gpusPerStage`) takes them all on one host (`GpuSlots.ts`). A stage's
 * worker runs detached on the host under `python/empo_worker/job.py`, so it outlives the runner and a rerun follows it.
 */
import {
  defineExecutor,
  ExecutorError,
  type HostCheck,
  type JobRef,
  type JobState,
  type Placement,
  type RemoteExecutor,
  type RemoteHost,
  TransportError
} from "@empo/experiments/Executor"
import { SshExecutorSpec } from "@empo/experiments/Inventory"
import { execOk } from "@empo/experiments/remote/Transport"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { makeGpuSlots, type SlotHost } from "./GpuSlots.ts"
import { makeSshTransport, sshTargetOf, type SshTransport, targetName } from "./SshTransport.ts"

export { knownKeysFor } from "./KnownHosts.ts"
export { makeSshTransport, type SshTarget, type SshTransport, targetName } from "./SshTransport.ts"

const JobExit = Schema.Struct({
  _tag: Schema.Literal("jobExit"),
  state: Schema.Literal("exited", "unknown", "running"),
  code: Schema.optional(Schema.NullOr(Schema.Int)),
  signal: Schema.optional(Schema.NullOr(Schema.String)),
  reason: Schema.optional(Schema.String),
  lines: Schema.Int
})

const Status = Schema.Struct({
  state: Schema.Literal("exited", "unknown", "running"),
  code: Schema.optional(Schema.NullOr(Schema.Int)),
  signal: Schema.optional(Schema.NullOr(Schema.String)),
  reason: Schema.optional(Schema.String)
})

const stateOf = (s: typeof Status.Type): JobState =>
  s.state === "running" ? { _tag: "Running" }
  : s.state === "exited" ? { _tag: "Exited", code: s.code ?? null, signal: s.signal ?? null }
  : { _tag: "Unknown", reason: s.reason ?? "unknown job" }

// Reports what `empo executors check` shows; stdlib first, the training stack only if it imports.
const CHECK_SCRIPT = `
import json, importlib, shutil, subprocess, sys
out = {"python": sys.version.split()[0], "executable": sys.executable, "versions": {}, "gpus": []}
for name in ("torch", "transformers", "trl", "accelerate", "peft", "datasets"):
    try:
        out["versions"][name] = importlib.import_module(name).__version__
    except Exception:
        out["versions"][name] = None
try:
    import torch
    out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
except Exception:
    if shutil.which("nvidia-smi"):
        out["gpus"] = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.split("\\n")[:-1]
print(json.dumps(out))
`

/** How long a dropped connection is retried while following a job (then the stage fails typed; a rerun reattaches). */
const RECONNECT = Schedule.exponential(Duration.millis(250), 2).pipe(Schedule.intersect(Schedule.recurs(8)), Schedule.upTo(Duration.seconds(45)))

export const sshExecutor = defineExecutor({
  manifest: { id: "executor-ssh", kind: "executor", version: "0.1.0", description: "stages on GPU hosts over SSH (ssh2), detached jobs that survive the runner" },
  executorKind: "ssh",
  config: SshExecutorSpec,
  make: (name, config, context) => Effect.gen(function* () {
    const transports: Array<SshTransport> = []
    const hosts: Array<RemoteHost> = []
    const slotHosts: Array<SlotHost<RemoteHost>> = []
    for (const spec of config.hosts) {
      const transport = yield* makeSshTransport(sshTargetOf(spec, context.inventoryDir))
      if (!spec.workDir.startsWith("/")) {
        return yield* new ExecutorError({ executor: name, reason: `hosts[${hosts.length}].workDir must be an absolute path on ${spec.host}, got ${JSON.stringify(spec.workDir)}` })
      }
      const host: RemoteHost = { name: targetName(spec), transport, workDir: spec.workDir.replace(/\/+$/, ""), python: spec.python }
      transports.push(transport)
      hosts.push(host)
      const gpus = typeof spec.gpus === "number" ? Array.from({ length: spec.gpus }, (_, i) => i) : spec.gpus
      slotHosts.push({ name: host.name, host, gpus, cpuSlots: spec.slots })
    }
    yield* Effect.addFinalizer(() => Effect.forEach(transports, (t) => t.disconnect, { discard: true }))
    const slots = yield* makeGpuSlots(slotHosts)

    const hostOf = (ref: { readonly host: string }) => {
      const host = hosts.find((h) => h.name === ref.host)
      return host === undefined
        ? Effect.fail(new ExecutorError({ executor: name, reason: `host ${ref.host} is no longer in the inventory; add it back to follow its job` }))
        : Effect.succeed(host)
    }
    const jobDirOf = (ref: JobRef) => String(ref.locator["jobDir"])
    const jobScriptOf = (ref: JobRef) => String(ref.locator["jobScript"])

    const reserve: RemoteExecutor["reserve"] = (request) => Effect.gen(function* () {
      if (request.host !== undefined) yield* hostOf({ host: request.host })
      const granted = yield* slots.reserve(request).pipe(Effect.mapError((e) => new ExecutorError({ executor: name, reason: e.reason })))
      return { host: granted.host, gpus: granted.gpus, gpuCount: granted.gpus.length } satisfies Placement
    })

    const launch: RemoteExecutor["launch"] = (placement, spec) => Effect.gen(function* () {
      const result = yield* execOk(placement.host.transport, [placement.host.python, spec.jobScript, "launch", spec.jobDir], {
        // The environment (secrets included) travels on stdin into the job's process environment only.
        stdin: JSON.stringify({ argv: spec.workerArgv, env: { ...spec.env, ...spec.secretEnv } })
      })
      const parsed = yield* Schema.decodeUnknown(Schema.parseJson(Schema.Struct({ pid: Schema.Int })))(result.stdout.trim()).pipe(
        Effect.mapError(() => new ExecutorError({ executor: name, reason: `job.py launch printed ${JSON.stringify(result.stdout.slice(0, 200))}` })))
      return { key: spec.key, host: placement.host.name, jobId: String(parsed.pid), locator: { jobDir: spec.jobDir, jobScript: spec.jobScript, pid: parsed.pid } } satisfies JobRef
    })

    const follow: RemoteExecutor["follow"] = (ref, fromLine, onLine) => Effect.gen(function* () {
      const host = yield* hostOf(ref)
      let seen = 0
      let exit: typeof JobExit.Type | undefined
      const once = Effect.gen(function* () {
        const result = yield* host.transport.exec([host.python, jobScriptOf(ref), "follow", jobDirOf(ref), String(fromLine + seen)], {
          onLine: (line) => {
            if (line.startsWith(`{"_tag": "jobExit"`)) {
              exit = Schema.decodeUnknownOption(Schema.parseJson(JobExit))(line).pipe((o) => o._tag === "Some" ? o.value : undefined)
              return Effect.void
            }
            seen++
            return onLine(line)
          }
        })
        if (exit === undefined) {
          return yield* new TransportError({ host: host.name, operation: "closed", reason: `following job ${ref.jobId} ended early (exit ${result.code ?? result.signal}): ${result.stderr.trim().slice(-300)}` })
        }
      })
      yield* once.pipe(Effect.retry({ schedule: RECONNECT, while: (e) => e._tag === "TransportError" && e.operation !== "host-key" && e.operation !== "auth" }))
      return stateOf(exit!)
    })

    const state: RemoteExecutor["state"] = (ref) => Effect.gen(function* () {
      const host = yield* hostOf(ref)
      const result = yield* execOk(host.transport, [host.python, jobScriptOf(ref), "status", jobDirOf(ref)])
      return stateOf(yield* Schema.decodeUnknown(Schema.parseJson(Status))(result.stdout.trim()).pipe(
        Effect.mapError(() => new ExecutorError({ executor: name, reason: `job.py status printed ${JSON.stringify(result.stdout.slice(0, 200))}` }))))
    })

    const cancel: RemoteExecutor["cancel"] = (ref) => Effect.gen(function* () {
      const host = yield* hostOf(ref)
      yield* execOk(host.transport, [host.python, jobScriptOf(ref), "cancel", jobDirOf(ref), "10"])
    })

    const checkHost = (host: RemoteHost): Effect.Effect<HostCheck> => Effect.gen(function* () {
      const probe = yield* execOk(host.transport, [host.python, "-c", CHECK_SCRIPT])
      const info = JSON.parse(probe.stdout.trim().split("\n").at(-1)!) as { python: string; versions: Record<string, string | null>; gpus: Array<string> }
      // The work dir may not exist yet: report the disk of its nearest existing folder.
      const disk = yield* host.transport.exec(["sh", "-c", `d="$1"; while [ ! -d "$d" ]; do d="$(dirname -- "$d")"; done; df -Pk -- "$d" | tail -n 1`, "sh", host.workDir])
      const freeKb = Number(disk.stdout.trim().split(/\s+/)[3])
      return {
        host: host.name, reachable: true, python: `${host.python} (${info.python})`, versions: info.versions, gpus: info.gpus,
        ...(Number.isFinite(freeKb) ? { freeDiskBytes: freeKb * 1024 } : {})
      } satisfies HostCheck
    }).pipe(Effect.catchAll((e) => Effect.succeed({ host: host.name, reachable: false, error: e.message } satisfies HostCheck)))

    return {
      name, kind: "ssh", capacity: slots.capacity, hosts, reserve, launch, follow, state, cancel,
      check: Effect.forEach(hosts, checkHost, { concurrency: "unbounded" })
    } satisfies RemoteExecutor
  })
})
