/**
 * The one owner of the Python worker process. Everything else sees Effects and Streams: requests are
 * correlated by id, events arrive as a Stream or a callback, interruption cancels the request (cancel request →
 * SIGINT → SIGTERM → SIGKILL), and every way the process can fail is a typed error. How the process is started
 * is a {@link WorkerLaunch} value (local interpreter, wrapper, remote shell); the protocol is the same for all.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as NodePath from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { UserError } from "@empo/core/Errors"
import type { PythonModule } from "@empo/core/Worker"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { findPython, type PythonNotFound } from "./PythonInterpreter.ts"
import { decodeWorkerMessage, type WorkerEvent, type WorkerFailure, type WorkerResult } from "./Protocol.ts"
import { pythonRoot, WorkerLaunch } from "./WorkerLaunch.ts"

const SETUP_HINT = "run `npm run setup` to create the Python environment (.venv), or set EMPO_PYTHON"

/** torch, transformers or TRL (or the worker package itself) cannot be imported. Exit code 1. */
export class PythonStackMissing extends UserError<PythonStackMissing>()("PythonStackMissing", {
  detail: Schema.String
}, {
  exitCode: 1,
  message: (e) => `the Python training stack is not installed (${e.detail}); ${SETUP_HINT}`
}) {}

/** The worker process exited while requests were pending (or before it was ready). */
export class WorkerCrashed extends UserError<WorkerCrashed>()("WorkerCrashed", {
  processExitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  stderrTail: Schema.String
}, {
  exitCode: 1,
  message: (e) => {
    const how = e.signal === null ? `exit code ${e.processExitCode}` : `signal ${e.signal}`
    return `the Python worker died (${how})${e.stderrTail === "" ? "" : `; last stderr:\n${e.stderrTail}`}`
  }
}) {}

/** A request ran past its hard timeout and was cancelled. */
export class WorkerTimeout extends Schema.TaggedError<WorkerTimeout>()("WorkerTimeout", {
  method: Schema.String,
  timeout: Schema.String
}) {
  override get message(): string {
    return `${this.method} did not finish within ${this.timeout}`
  }
}

/** The worker reported the request as cancelled. */
export class WorkerCancelled extends Schema.TaggedError<WorkerCancelled>()("WorkerCancelled", {
  method: Schema.String
}) {
  override get message(): string {
    return `${this.method} was cancelled`
  }
}

/** The request raised inside Python; `input` means its payload or data is wrong (exit code 2). */
export class WorkerRequestFailed extends UserError<WorkerRequestFailed>()("WorkerRequestFailed", {
  method: Schema.String,
  kind: Schema.Literal("input", "failed"),
  pythonType: Schema.String,
  detail: Schema.String,
  traceback: Schema.String
}, {
  exitCode: (e) => e.kind === "input" ? 2 : 1,
  message: (e) => e.kind === "input" ? e.detail : `${e.method} failed: ${e.pythonType}: ${e.detail}`
}) {}

/** A plugin module named in `EMPO_WORKER_PLUGINS` cannot be imported by the worker. Exit code 1. */
export class WorkerPluginMissing extends Schema.TaggedError<WorkerPluginMissing>()("WorkerPluginMissing", {
  method: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.method}: ${this.detail}`
  }
}

/** Every way a worker request can fail. */
export type BridgeError =
  | PythonStackMissing
  | WorkerPluginMissing
  | WorkerCrashed
  | WorkerTimeout
  | WorkerCancelled
  | WorkerRequestFailed
  | PythonNotFound

/** How to start the worker and how patient to be with it. */
export interface WorkerOptions {
  /** The command that starts the worker; the local interpreter running `script` when absent. */
  readonly launch?: WorkerLaunch
  /** Python file the local interpreter runs when there is no `launch`: the real worker by default (tests pass fixture scripts). */
  readonly script?: string
  /** Plugin modules the worker serves methods from: their folders go on `PYTHONPATH`, names into `EMPO_WORKER_PLUGINS`. */
  readonly plugins: ReadonlyArray<PythonModule>
  readonly env?: Record<string, string>
  /** Time to wait for `ready` (imports are lazy, so this is short). */
  readonly readyTimeout: Duration.DurationInput
  /** After a cancel request, how long the run may take to stop before SIGINT; then each signal gets `signalGrace`. */
  readonly cancelGrace: Duration.DurationInput
  readonly signalGrace: Duration.DurationInput
  /** Copy the worker's stderr (TRL logs) to this process's stderr. */
  readonly forwardStderr: boolean
}

const defaultOptions = {
  plugins: [],
  readyTimeout: "60 seconds",
  cancelGrace: "15 seconds",
  signalGrace: "5 seconds",
  forwardStderr: false
} satisfies Omit<WorkerOptions, "launch">

/** Per-request options. */
export interface RequestOptions {
  /** Hard limit; the request is cancelled and fails with {@link WorkerTimeout} when it passes. */
  readonly timeout?: Duration.DurationInput
  /** Receives each progress event of the request, in order, before the result is returned. */
  readonly onEvent?: (event: unknown) => Effect.Effect<void>
}

/** A running worker. */
export interface PythonWorkerShape {
  readonly pid: number
  /** One request: its events go to `options.onEvent` as they arrive, then its result value is returned. */
  readonly request: (method: string, payload: unknown, options?: RequestOptions) => Effect.Effect<unknown, BridgeError>
  /** Events of one request; the stream ends when the request completes, and interrupting it cancels the request. */
  readonly stream: (method: string, payload: unknown, options?: RequestOptions) => Stream.Stream<unknown, BridgeError>
  /** One request's result value (its events are dropped unless `options.onEvent` is given). */
  readonly call: (method: string, payload: unknown, options?: RequestOptions) => Effect.Effect<unknown, BridgeError>
  /** The last lines the worker wrote to stderr. */
  readonly stderrTail: Effect.Effect<string>
}

type Inbound = WorkerEvent | WorkerResult | WorkerFailure | { readonly _tag: "exit"; readonly error: WorkerCrashed }

interface ExitInfo {
  readonly code: number | null
  readonly signal: string | null
}

const STDERR_LINES = 40
const PLUGINS_VAR = "EMPO_WORKER_PLUGINS"

// Cancellation runs inside finalizers, which are uninterruptible: a timeout there must be able to abandon the wait.
const waitFor = <A, E>(wait: Effect.Effect<A, E>, limit: Duration.DurationInput) =>
  Effect.interruptible(wait).pipe(Effect.timeout(limit))

const joinPath = (parts: ReadonlyArray<string | undefined>) =>
  [...new Set(parts.filter((part): part is string => part !== undefined && part !== ""))].join(NodePath.delimiter)

/** The environment of the worker: this process's, the worker package and plugin folders on PYTHONPATH, the plugin names. */
const workerEnvironment = (options: WorkerOptions, launch: WorkerLaunch): Record<string, string | undefined> => {
  const folders = options.plugins.map((module) => typeof module.path === "string" ? module.path : fileURLToPath(module.path))
  const inheritedPlugins = (process.env[PLUGINS_VAR] ?? "").split(",").map((name) => name.trim())
  return {
    ...process.env,
    PYTHONPATH: joinPath([pythonRoot, ...folders, process.env["PYTHONPATH"]]),
    PYTHONUNBUFFERED: "1",
    ...(options.plugins.length === 0 ? {} : {
      [PLUGINS_VAR]: [...new Set([...inheritedPlugins, ...options.plugins.map((module) => module.name)])].filter((name) => name !== "").join(",")
    }),
    ...launch.env,
    ...options.env
  }
}

/**
 * Starts the worker with `overrides.launch` inside the current scope; the scope's close shuts it down
 * (shutdown → SIGTERM → SIGKILL). See {@link makeLocal} for the local interpreter.
 */
export const make = (overrides: Partial<WorkerOptions> & { readonly launch: WorkerLaunch }) =>
  Effect.gen(function*() {
    const options: WorkerOptions = { ...defaultOptions, ...overrides }
    const launch = overrides.launch
    const runtime = yield* Effect.runtime<never>()
    const stderrLines: Array<string> = []
    const inboxes = new Map<number, Queue.Queue<Inbound>>()
    const ready = yield* Deferred.make<number, BridgeError>()
    const exited = yield* Deferred.make<ExitInfo>()
    let nextId = 1
    let dead: WorkerCrashed | undefined

    const tail = () => stderrLines.join("\n")
    const crashOf = (info: ExitInfo) => new WorkerCrashed({ processExitCode: info.code, signal: info.signal, stderrTail: tail() })
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime)(effect)

    const onExit = (info: ExitInfo) => {
      if (dead !== undefined) return
      dead = crashOf(info)
      for (const inbox of inboxes.values()) Queue.unsafeOffer(inbox, { _tag: "exit", error: dead })
      Deferred.unsafeDone(exited, Effect.succeed(info))
      Deferred.unsafeDone(ready, Effect.fail(startupFailure(dead)))
    }

    /** Waits for `wait`; when it times out, sends each signal in turn, waiting `signalGrace` after each. */
    const escalate = (child: ChildProcess, signals: ReadonlyArray<NodeJS.Signals>, wait: Effect.Effect<unknown, unknown>): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (Option.isSome(yield* Effect.option(wait))) return
        for (const signal of signals) {
          if (dead !== undefined) return
          yield* Effect.logDebug(`python worker: sending ${signal}`)
          yield* Effect.sync(() => child.kill(signal))
          if (Option.isSome(yield* Effect.option(waitFor(Deferred.await(exited), options.signalGrace)))) return
        }
      })

    const shutdown = (child: ChildProcess): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (dead !== undefined) return
        yield* Effect.sync(() => child.stdin?.end(JSON.stringify({ id: 0, _tag: "shutdown" }) + "\n"))
        yield* escalate(child, ["SIGTERM", "SIGKILL"], waitFor(Deferred.await(exited), options.signalGrace))
      }).pipe(Effect.ignore)

    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(launch.executable, [...launch.args], {
          cwd: launch.cwd ?? pythonRoot,
          env: workerEnvironment(options, launch),
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      shutdown
    )

    // A write after the worker died (EPIPE) is reported by `close`, never thrown.
    child.stdin?.on("error", () => {})
    Readline.createInterface({ input: child.stdout! }).on("line", (line: string) => {
      if (line.trim() === "") return
      let message: unknown
      try {
        message = JSON.parse(line)
      } catch {
        // A line that is not JSON must never kill the bridge: it is logged and dropped.
        log(Effect.logWarning(`python worker wrote a non-protocol line to stdout: ${line.slice(0, 200)}`))
        return
      }
      const decoded = decodeWorkerMessage(message)
      if (Option.isNone(decoded)) {
        log(Effect.logWarning(`python worker sent an unknown message: ${line.slice(0, 200)}`))
        return
      }
      const msg = decoded.value
      switch (msg._tag) {
        case "ready":
          Deferred.unsafeDone(ready, Effect.succeed(msg.pid))
          return
        case "protocolError":
          log(Effect.logWarning(`python worker could not read a request: ${msg.message}`))
          return
        default: {
          const inbox = msg.id === null ? undefined : inboxes.get(msg.id)
          if (inbox !== undefined) Queue.unsafeOffer(inbox, msg)
        }
      }
    })
    Readline.createInterface({ input: child.stderr! }).on("line", (line: string) => {
      stderrLines.push(line)
      if (stderrLines.length > STDERR_LINES) stderrLines.shift()
      if (options.forwardStderr) process.stderr.write(line + "\n")
    })
    child.on("error", (error: Error) => {
      stderrLines.push(`cannot start ${WorkerLaunch.describe(launch)}: ${error.message}`)
      // A command that never started emits no `close`.
      if (child.pid === undefined) onExit({ code: null, signal: null })
    })
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => onExit({ code, signal }))

    const pid = yield* Deferred.await(ready).pipe(
      Effect.timeoutFail({
        duration: options.readyTimeout,
        onTimeout: () => new WorkerCrashed({ processExitCode: null, signal: null, stderrTail: `no ready message within ${Duration.format(options.readyTimeout)}\n${tail()}` })
      })
    )

    const send = (message: unknown) =>
      Effect.sync(() => {
        if (dead === undefined) child.stdin?.write(JSON.stringify(message) + "\n")
      })

    /** Cancel request, then SIGINT → SIGTERM → SIGKILL, each after its grace period. */
    const cancel = (id: number, inbox: Queue.Queue<Inbound>): Effect.Effect<void> =>
      Effect.gen(function*() {
        yield* send({ id: nextId++, _tag: "cancel", target: id })
        const ended = waitFor(Queue.take(inbox).pipe(Effect.repeat({ until: (msg) => msg._tag !== "event" })), options.cancelGrace)
        yield* escalate(child, ["SIGINT", "SIGTERM", "SIGKILL"], ended)
      })
    const stream = (method: string, payload: unknown, requestOptions: RequestOptions = {}): Stream.Stream<unknown, BridgeError> =>
      Stream.unwrapScoped(
        Effect.gen(function*() {
          if (dead !== undefined) return yield* dead
          const id = nextId++
          const inbox = yield* Queue.unbounded<Inbound>()
          let settled = false
          inboxes.set(id, inbox)
          yield* Effect.addFinalizer(() =>
            (settled || dead !== undefined ? Effect.void : cancel(id, inbox)).pipe(Effect.ensuring(Effect.sync(() => inboxes.delete(id))))
          )
          yield* send({ id, _tag: method, payload })
          const next = Queue.take(inbox).pipe(
            Effect.flatMap((msg): Effect.Effect<unknown, Option.Option<BridgeError>> => {
              switch (msg._tag) {
                case "event":
                  return Effect.succeed(msg.event)
                case "result":
                  settled = true
                  return Effect.fail(Option.none())
                case "error":
                  settled = true
                  return Effect.fail(Option.some(failureOf(method, msg)))
                case "exit":
                  settled = true
                  return Effect.fail(Option.some(msg.error))
              }
            })
          )
          const events = Stream.repeatEffectOption(next)
          if (requestOptions.timeout === undefined) return events
          const limit = requestOptions.timeout
          return events.pipe(
            Stream.interruptWhen(Effect.sleep(limit).pipe(Effect.zipRight(new WorkerTimeout({ method, timeout: Duration.format(limit) }))))
          )
        })
      )

    const request = (method: string, payload: unknown, requestOptions: RequestOptions = {}): Effect.Effect<unknown, BridgeError> =>
      Effect.gen(function*() {
        if (dead !== undefined) return yield* dead
        const id = nextId++
        const inbox = yield* Queue.unbounded<Inbound>()
        const onEvent = requestOptions.onEvent
        inboxes.set(id, inbox)
        yield* send({ id, _tag: method, payload })
        const result = Effect.gen(function*() {
          while (true) {
            const msg = yield* Queue.take(inbox)
            switch (msg._tag) {
              case "event":
                if (onEvent !== undefined) yield* onEvent(msg.event)
                continue
              case "result":
                return msg.value
              case "error":
                return yield* failureOf(method, msg)
              case "exit":
                return yield* msg.error
            }
          }
        })
        const limit = requestOptions.timeout
        const limited = limit === undefined ? result : result.pipe(
          Effect.timeoutFail({ duration: limit, onTimeout: () => new WorkerTimeout({ method, timeout: Duration.format(limit) }) }),
          Effect.tapErrorTag("WorkerTimeout", () => cancel(id, inbox))
        )
        return yield* limited.pipe(
          Effect.onInterrupt(() => cancel(id, inbox)),
          Effect.ensuring(Effect.sync(() => inboxes.delete(id)))
        )
      })

    return { pid, request, stream, call: request, stderrTail: Effect.sync(tail) } satisfies PythonWorkerShape
  })

/** How a bridge failure reads to callers that do not care about processes (core's TrainingError and WorkerError kinds). */
export const failureKindOf = (error: BridgeError): "input" | "failed" | "missing" | "crashed" | "timeout" | "cancelled" => {
  switch (error._tag) {
    case "PythonNotFound":
    case "PythonStackMissing":
    case "WorkerPluginMissing":
      return "missing"
    case "WorkerCrashed":
      return "crashed"
    case "WorkerTimeout":
      return "timeout"
    case "WorkerCancelled":
      return "cancelled"
    case "WorkerRequestFailed":
      return error.kind
  }
}

const MISSING_MODULE = /ModuleNotFoundError: No module named '([^']+)'/

const startupFailure = (crash: WorkerCrashed): BridgeError => {
  const missing = MISSING_MODULE.exec(crash.stderrTail)
  return missing === null ? crash : new PythonStackMissing({ detail: `No module named '${missing[1]}'` })
}

const failureOf = (method: string, failure: WorkerFailure): BridgeError => {
  switch (failure.kind) {
    case "missing":
      return failure.type === "PluginModuleMissing"
        ? new WorkerPluginMissing({ method, detail: failure.message })
        : new PythonStackMissing({ detail: failure.message })
    case "cancelled":
      return new WorkerCancelled({ method })
    default:
      return new WorkerRequestFailed({
        method,
        kind: failure.kind,
        pythonType: failure.type,
        detail: failure.message,
        traceback: failure.traceback
      })
  }
}

/**
 * Starts the worker with `options`: `options.launch`, else the local interpreter (`EMPO_PYTHON` or `.venv`)
 * running `options.script` (the real worker by default). `EMPO_WORKER_STDERR=true` forwards its stderr.
 */
export const makeLocal = (options: Partial<WorkerOptions> = {}) =>
  Effect.gen(function*() {
    const forwardStderr = options.forwardStderr ?? (yield* Config.boolean("EMPO_WORKER_STDERR").pipe(Config.withDefault(false), Effect.orDie))
    const launch = options.launch ?? WorkerLaunch.local((yield* findPython).executable, options.script)
    return yield* make({ ...options, forwardStderr, launch })
  })

/** The running Python worker. */
export class PythonWorker extends Context.Tag("@empo/bridge/PythonWorker")<PythonWorker, PythonWorkerShape>() {
  /** The real worker (`python/worker.py`) with the interpreter from `EMPO_PYTHON` or `.venv`. */
  static readonly layer: Layer.Layer<PythonWorker, BridgeError> = Layer.scoped(PythonWorker, makeLocal())

  /** A worker started with `options` (another launch, a fixture script, plugin modules). */
  static readonly layerWith = (options: Partial<WorkerOptions>): Layer.Layer<PythonWorker, BridgeError> =>
    Layer.scoped(PythonWorker, makeLocal(options))
}
