/**
 * The batch script of one stage and the reading of Slurm's answers, as pure functions (tested without a cluster).
 *
 * The script holds only `#SBATCH` resource lines (validated: one line each), the non-secret environment as quoted
 * `export`s, and fixed shell text that takes every path as a quoted word. Secrets never appear in it: they reach the
 * job through the environment `sbatch` is started with (Slurm's default `--export=ALL`).
 */
import type { JobState } from "@empo/experiments/Executor"
import { quoteArg } from "@empo/experiments/remote/Transport"

/** The worker's exit code after it saved a checkpoint on SIGUSR1 (EX_TEMPFAIL): the job requeues itself. */
export const PREEMPTED_EXIT = 75

/** Resource options of a job, from the inventory entry (the experiment's `executor:` section may override them). */
export interface SbatchOptions {
  readonly partition?: string | undefined
  readonly gres?: string | undefined
  readonly time?: string | undefined
  readonly mem?: string | undefined
  readonly cpus?: number | undefined
  readonly account?: string | undefined
  readonly qos?: string | undefined
  /** More `#SBATCH` lines, verbatim (`--constraint=a100`). */
  readonly extra?: ReadonlyArray<string> | undefined
}

/**
 * The job's `--gres`: the inventory's verbatim when the stage asks no GPUs; else `gpu:N`, keeping a GPU type the
 * inventory names (`gres: gpu:a100` and 4 GPUs → `gpu:a100:4`). Any other gres string is kept as written.
 */
export const gresFor = (gres: string | undefined, gpus: number): string | undefined => {
  if (gpus <= 0) return gres
  const count = Math.ceil(gpus)
  if (gres === undefined) return `gpu:${count}`
  const typed = /^gpu(?::([^:,]+?))?(?::\d+)?$/.exec(gres)
  if (typed === null) return gres
  return typed[1] === undefined || /^\d+$/.test(typed[1]) ? `gpu:${count}` : `gpu:${typed[1]}:${count}`
}

/** `#SBATCH` lines of the options; a value with a line break is refused (it would smuggle a script line). */
export const directives = (options: SbatchOptions, gpus: number): { readonly lines: ReadonlyArray<string> } | { readonly error: string } => {
  const pairs: Array<[string, string | undefined]> = [
    ["partition", options.partition], ["gres", gresFor(options.gres, gpus)], ["time", options.time],
    ["mem", options.mem], ["cpus-per-task", options.cpus === undefined ? undefined : String(options.cpus)],
    ["account", options.account], ["qos", options.qos]
  ]
  const lines: Array<string> = []
  for (const [flag, value] of pairs) {
    if (value === undefined) continue
    if (/[\r\n\0]/.test(value)) return { error: `${flag}: ${JSON.stringify(value)} holds a line break` }
    lines.push(`#SBATCH --${flag}=${value}`)
  }
  for (const [i, line] of (options.extra ?? []).entries()) {
    if (/[\r\n\0]/.test(line)) return { error: `extra[${i}]: ${JSON.stringify(line)} holds a line break` }
    if (!line.startsWith("-")) return { error: `extra[${i}]: ${JSON.stringify(line)} is not an sbatch option (starts with '-')` }
    lines.push(`#SBATCH ${line}`)
  }
  return { lines }
}

export interface ScriptInput {
  readonly directives: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly python: string
  readonly jobScript: string
  readonly jobDir: string
}

/**
 * The batch script. `job.py supervise` runs the worker as the job's step (`srun`: the step is what Slurm signals,
 * accounts and kills; request on stdin, protocol into `events.ndjson`, which a requeued run appends to). Slurm's
 * `--signal=USR1@120` reaches the step before the time limit; a USR1 sent to the batch shell instead (`B:`,
 * `scancel --batch --signal=USR1`) is passed on to srun, which hands it to the step. The worker then saves a
 * checkpoint and exits {@link PREEMPTED_EXIT}, and the job requeues itself to resume from that checkpoint.
 */
export const batchScript = (input: ScriptInput): string => [
  "#!/bin/bash",
  ...input.directives,
  ...Object.entries(input.env).map(([key, value]) => `export ${key}=${quoteArg(value)}`),
  `cd -- ${quoteArg(input.jobDir)} || exit 1`,
  // A requeued run starts fresh: the exit record of the killed attempt would end the follower early.
  "rm -f exit.json",
  `srun --ntasks=1 --kill-on-bad-exit=1 ${quoteArg(input.python)} ${quoteArg(input.jobScript)} supervise ${quoteArg(input.jobDir)} &`,
  "child=$!",
  `trap 'kill -USR1 "$child" 2>/dev/null' USR1`,
  `trap 'kill -TERM "$child" 2>/dev/null' TERM`,
  // `wait` returns early when a trap runs; keep waiting until the step is gone.
  `while kill -0 "$child" 2>/dev/null; do wait "$child"; done`,
  `if grep -q '"code": ${PREEMPTED_EXIT}' exit.json 2>/dev/null; then scontrol requeue "$SLURM_JOB_ID"; exit 0; fi`,
  `code=$(sed -n 's/.*"code": \\([0-9]*\\).*/\\1/p' exit.json 2>/dev/null)`,
  `exit "\${code:-1}"`,
  ""
].join("\n")

/** `scontrol show job -o ID` as key/value pairs (values hold no spaces except in the last fields, which we skip). */
export const parseScontrol = (line: string): Record<string, string> => {
  const fields: Record<string, string> = {}
  for (const token of line.trim().split(/\s+/)) {
    const at = token.indexOf("=")
    if (at > 0) fields[token.slice(0, at)] = token.slice(at + 1)
  }
  return fields
}

const PENDING = new Set(["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "RESV_DEL_HOLD", "SPECIAL_EXIT"])
const RUNNING = new Set(["RUNNING", "COMPLETING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "STOPPED"])
const REASONS: Record<string, string> = {
  CANCELLED: "cancelled in Slurm (scancel)",
  TIMEOUT: "the job hit its Slurm time limit",
  NODE_FAIL: "its node failed",
  PREEMPTED: "the job was preempted",
  OUT_OF_MEMORY: "the job ran out of memory (Slurm's mem limit)",
  BOOT_FAIL: "its node failed to boot",
  DEADLINE: "the job missed its deadline",
  REVOKED: "the job was revoked",
  FAILED: "the job failed"
}

/** The contract's {@link JobState} of one `scontrol show job` record. `ExitCode=code:signal`. */
export const stateOfRecord = (fields: Record<string, string>): JobState => {
  const state = (fields["JobState"] ?? "").replace(/\+$/, "")
  if (PENDING.has(state)) return { _tag: "Pending" }
  if (RUNNING.has(state)) return { _tag: "Running" }
  const [codeText, signalText] = (fields["ExitCode"] ?? "").split(":")
  const code = Number(codeText)
  const signal = Number(signalText)
  const signalName = Number.isInteger(signal) && signal > 0 ? `SIG${signal === 9 ? "KILL" : signal === 15 ? "TERM" : signal}` : null
  if (state === "COMPLETED") return { _tag: "Exited", code: Number.isInteger(code) ? code : 0, signal: null }
  const reason = REASONS[state] ?? `Slurm job state ${state || "(none)"}`
  return {
    _tag: "Exited",
    // A cancelled job is reported as such even when the worker exited cleanly on the TERM.
    code: state === "CANCELLED" || signalName !== null ? null : Number.isInteger(code) ? code : null,
    signal: signalName ?? (state === "CANCELLED" ? "SIGTERM" : null),
    reason: fields["Reason"] !== undefined && fields["Reason"] !== "None" ? `${reason} (${fields["Reason"]})` : reason
  }
}
