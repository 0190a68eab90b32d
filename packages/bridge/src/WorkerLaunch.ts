/**
 * How the worker process is started, as a value: the bridge only needs a command whose stdin/stdout speak the
 * worker protocol, so a local interpreter, a wrapper (`sh -c`, `env`, `nice`) and a remote shell (`ssh host --`)
 * are all one {@link WorkerLaunch}. The protocol does not change with the transport.
 */
import * as NodePath from "node:path"

/** A command line that starts the worker. */
export interface WorkerLaunch {
  readonly executable: string
  readonly args: ReadonlyArray<string>
  /** Added to the environment the bridge builds (PYTHONPATH, EMPO_WORKER_PLUGINS); wins over it. */
  readonly env?: Readonly<Record<string, string>>
  /** Working directory of the spawned command (here, not on a remote host). */
  readonly cwd?: string
}

/** `<repo>/python`, where the worker package and its launcher live. */
export const pythonRoot = NodePath.resolve(import.meta.dirname, "../../../python")

/** The real worker's launcher script. */
export const workerScript = NodePath.join(pythonRoot, "worker.py")

export const WorkerLaunch = {
  /** `<python> -u <script>` in `<repo>/python`: today's local worker (`script` defaults to `python/worker.py`). */
  local: (python: string, script: string = workerScript): WorkerLaunch => ({
    executable: python,
    args: ["-u", script],
    cwd: NodePath.dirname(script)
  }),

  /**
   * `launch` run through a prefix command, e.g. `["ssh", "gpu1", "--"]`, `["nice", "-n", "10"]` or
   * `["env", "CUDA_VISIBLE_DEVICES=1"]`. The bridge's environment is set on the prefix process; a prefix
   * that does not pass it on (ssh) needs the variables forwarded by other means (`env K=V` after `--`).
   */
  through: (prefix: readonly [string, ...Array<string>], launch: WorkerLaunch): WorkerLaunch => ({
    ...launch,
    executable: prefix[0],
    args: [...prefix.slice(1), launch.executable, ...launch.args]
  }),

  /** The command line as one string, for messages. */
  describe: (launch: WorkerLaunch): string => [launch.executable, ...launch.args].join(" ")
} as const
