/**
 * The one owner of the Python worker process. Everything else sees Effects and Streams: requests are
 * correlated by id, events arrive as a Stream, interruption cancels the request (cancel request → SIGINT →
 * SIGTERM → SIGKILL), and every way the process can fail is a typed error.
 */
import * as NodePath from "node:path"
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
import { PythonShell } from "python-shell"
import { PythonInterpreter, type PythonNotFound } from "./PythonInterpreter.ts"
import { decodeWorkerMessage, type WorkerEvent, type WorkerFailure, type WorkerResult } from "./Protocol.ts"

const SETUP_HINT = "run `npm run setup` to create the Python environment (.venv), or set EMPO_PYTHON"

/** torch, transformers or TRL (or the worker package itself) cannot be imported. Exit code 1. */
export class PythonStackMissing extends Schema.TaggedError<PythonStackMissing>()("PythonStackMissing", {
  detail: Schema.String
}) {
  get exitCode(): number {
    return 1
  }
  override get message(): string {
    return `the Python training stack is not installed (${this.detail}); ${SETUP_HINT}`
  }
}

/** The worker process exited while requests were pending (or before it was ready). */
export class WorkerCrashed extends Schema.TaggedError<WorkerCrashed>()("WorkerCrashed", {
  processExitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  stderrTail: Schema.String
}) {
  get exitCode(): number {
    return 1
  }
  override get message(): string {
    const how = this.signal === null ? `exit code ${this.processExitCode}` : `signal ${this.signal}`
    return `the Python worker died (${how})${this.stderrTail === "" ? "" : `; last stderr:\n${this.stderrTail}`}`
  }
}

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
export class WorkerRequestFailed extends Schema.TaggedError<WorkerRequestFailed>()("WorkerRequestFailed", {
  method: Schema.String,
  kind: Schema.Literal("input", "failed"),
  pythonType: Schema.String,
  detail: Schema.String,
  traceback: Schema.String
}) {
  get exitCode(): number {
    return this.kind === "input" ? 2 : 1
  }
  override get message(): string {
    return this.kind === "input" ? this.detail : `${this.method} failed: ${this.pythonType}: ${this.detail}`
  }
}

/** Every way a worker request can fail. */
export type BridgeError =
  | PythonStackMissing
  | WorkerCrashed
  | WorkerTimeout
  | WorkerCancelled
  | WorkerRequestFailed
  | PythonNotFound

/** How to start the worker and how patient to be with it. */
export interface WorkerOptions {
  /** Python file to run; the real worker by default (tests pass fixture scripts). */
  readonly script: string
  readonly cwd?: string
  readonly env?: Record<string, string>
  /** Time to wait for `ready` (imports are lazy, so this is short). */
  readonly readyTimeout: Duration.DurationInput
  /** After a cancel request, how long the run may take to stop before SIGINT; then each signal gets `signalGrace`. */
  readonly cancelGrace: Duration.DurationInput
  readonly signalGrace: Duration.DurationInput
  /** Copy the worker's stderr (TRL logs) to this process's stderr. */
  readonly forwardStderr: boolean
}

/** `<repo>/python`, where the worker package and its launcher live. */
export const pythonRoot = NodePath.resolve(import.meta.dirname, "../../../python")

const defaultOptions: WorkerOptions = {
  script: NodePath.join(pythonRoot, "worker.py"),
  readyTimeout: "60 seconds",
  cancelGrace: "15 seconds",
  signalGrace: "5 seconds",
  forwardStderr: false
}

/** Per-request options. */
export interface RequestOptions {
  /** Hard limit; the request is cancelled and fails with {@link WorkerTimeout} when it passes. */
  readonly timeout?: Duration.DurationInput
}

/** A running worker. */
export interface PythonWorkerShape {
  readonly pid: number
  /** Events of one request; the stream ends when the request completes, and interrupting it cancels the request. */
  readonly stream: (method: string, payload: unknown, options?: RequestOptions) => Stream.Stream<unknown, BridgeError>
  /** One request's result value (its events are dropped). */
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

// Cancellation runs inside finalizers, which are uninterruptible: a timeout there must be able to abandon the wait.
const waitFor = <A, E>(wait: Effect.Effect<A, E>, limit: Duration.DurationInput) =>
  Effect.interruptible(wait).pipe(Effect.timeout(limit))
const STRAY = Symbol("stray")

/** Starts the worker inside the current scope; the scope's close shuts it down (shutdown → SIGTERM → SIGKILL). */
export const make = (overrides: Partial<WorkerOptions> = {}) =>
  Effect.gen(function*() {
    const options = { ...defaultOptions, ...overrides }
    const python = yield* PythonInterpreter
    const runtime = yield* Effect.runtime<never>()
    const stderrLines: Array<string> = []
    const inboxes = new Map<number, Queue.Queue<Inbound>>()
    const ready = yield* Deferred.make<number, BridgeError>()
    const exited = yield* Deferred.make<ExitInfo>()
    let nextId = 1
    let dead: WorkerCrashed | undefined

    const tail = () => stderrLines.join("\n")
    const crashOf = (info: ExitInfo) => new WorkerCrashed({ processExitCode: info.code, signal: info.signal, stderrTail: tail() })

    const shutdown = (shell: PythonShell): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (shell.terminated) return
        yield* Effect.sync(() => shell.childProcess.stdin?.write(JSON.stringify({ id: 0, _tag: "shutdown" }) + "\n"))
        yield* Effect.ignore(Effect.sync(() => shell.childProcess.stdin?.end()))
        yield* escalate(shell, ["SIGTERM", "SIGKILL"], waitFor(Deferred.await(exited), options.signalGrace))
      }).pipe(Effect.ignore)

    /** Waits for `wait`; when it times out, sends each signal in turn, waiting `signalGrace` after each. */
    const escalate = (shell: PythonShell, signals: ReadonlyArray<NodeJS.Signals>, wait: Effect.Effect<unknown, unknown>): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (Option.isSome(yield* Effect.option(wait))) return
        for (const signal of signals) {
          if (shell.terminated) return
          yield* Effect.logDebug(`python worker: sending ${signal}`)
          yield* Effect.sync(() => shell.childProcess.kill(signal))
          if (Option.isSome(yield* Effect.option(waitFor(Deferred.await(exited), options.signalGrace)))) return
        }
      })

    const shell = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new PythonShell(options.script, {
          mode: "json",
          pythonPath: python.executable,
          pythonOptions: ["-u"],
          cwd: options.cwd ?? pythonRoot,
          env: {
            ...process.env,
            PYTHONPATH: [pythonRoot, process.env["PYTHONPATH"]].filter((p) => p !== undefined && p !== "").join(NodePath.delimiter),
            PYTHONUNBUFFERED: "1",
            ...options.env
          },
          // A line that is not JSON must never kill the bridge: it is logged and dropped.
          parser: (line: string) => {
            try {
              return JSON.parse(line)
            } catch {
              return { [STRAY]: line }
            }
          }
        })
      ),
      (shell) => shutdown(shell)
    )

    shell.on("message", (message: unknown) => {
      if (typeof message === "object" && message !== null && STRAY in message) {
        Runtime.runFork(runtime)(Effect.logWarning(`python worker wrote a non-protocol line to stdout: ${String((message as Record<symbol, unknown>)[STRAY]).slice(0, 200)}`))
        return
      }
      const decoded = decodeWorkerMessage(message)
      if (Option.isNone(decoded)) {
        Runtime.runFork(runtime)(Effect.logWarning(`python worker sent an unknown message: ${JSON.stringify(message).slice(0, 200)}`))
        return
      }
      const msg = decoded.value
      switch (msg._tag) {
        case "ready":
          Deferred.unsafeDone(ready, Effect.succeed(msg.pid))
          return
        case "protocolError":
          Runtime.runFork(runtime)(Effect.logWarning(`python worker could not read a request: ${msg.message}`))
          return
        default: {
          const inbox = msg.id === null ? undefined : inboxes.get(msg.id)
          if (inbox !== undefined) Queue.unsafeOffer(inbox, msg)
        }
      }
    })
    shell.on("stderr", (line: string) => {
      stderrLines.push(line)
      if (stderrLines.length > STDERR_LINES) stderrLines.shift()
      if (options.forwardStderr) process.stderr.write(line + "\n")
    })
    shell.on("pythonError", () => {})
    shell.on("error", (error: Error) => {
      stderrLines.push(`spawn error: ${error.message}`)
      Deferred.unsafeDone(exited, Effect.succeed({ code: null, signal: null }))
    })
    shell.on("close", () => {
      const info = { code: shell.exitCode ?? null, signal: shell.exitSignal ?? null }
      dead = crashOf(info)
      for (const inbox of inboxes.values()) Queue.unsafeOffer(inbox, { _tag: "exit", error: dead })
      Deferred.unsafeDone(exited, Effect.succeed(info))
      Deferred.unsafeDone(ready, Effect.fail(startupFailure(dead)))
    })

    const pid = yield* Deferred.await(ready).pipe(
      Effect.timeoutFail({
        duration: options.readyTimeout,
        onTimeout: () => new WorkerCrashed({ processExitCode: null, signal: null, stderrTail: `no ready message within ${Duration.format(options.readyTimeout)}\n${tail()}` })
      })
    )

    const send = (message: unknown) =>
      Effect.sync(() => {
        if (dead === undefined) shell.childProcess.stdin?.write(JSON.stringify(message) + "\n")
      })

    /** Cancel request, then SIGINT → SIGTERM → SIGKILL, each after its grace period. */
    const cancel = (id: number, inbox: Queue.Queue<Inbound>): Effect.Effect<void> =>
      Effect.gen(function*() {
        yield* send({ id: nextId++, _tag: "cancel", target: id })
        const ended = waitFor(Queue.take(inbox).pipe(Effect.repeat({ until: (msg) => msg._tag !== "event" })), options.cancelGrace)
        yield* escalate(shell, ["SIGINT", "SIGTERM", "SIGKILL"], ended)
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

    const call = (method: string, payload: unknown, requestOptions: RequestOptions = {}): Effect.Effect<unknown, BridgeError> =>
      Effect.gen(function*() {
        if (dead !== undefined) return yield* dead
        const id = nextId++
        const inbox = yield* Queue.unbounded<Inbound>()
        inboxes.set(id, inbox)
        yield* send({ id, _tag: method, payload })
        const result = Queue.take(inbox).pipe(
          Effect.repeat({ until: (msg) => msg._tag !== "event" }),
          Effect.flatMap((msg): Effect.Effect<unknown, BridgeError> =>
            msg._tag === "result" ? Effect.succeed(msg.value) : Effect.fail(msg._tag === "exit" ? msg.error : failureOf(method, msg as WorkerFailure))
          )
        )
        const limited = requestOptions.timeout === undefined ? result : result.pipe(
          Effect.timeoutFail({ duration: requestOptions.timeout, onTimeout: () => new WorkerTimeout({ method, timeout: Duration.format(requestOptions.timeout!) }) }),
          Effect.tapErrorTag("WorkerTimeout", () => cancel(id, inbox))
        )
        return yield* limited.pipe(
          Effect.onInterrupt(() => cancel(id, inbox)),
          Effect.ensuring(Effect.sync(() => inboxes.delete(id)))
        )
      })

    return { pid, stream, call, stderrTail: Effect.sync(tail) } satisfies PythonWorkerShape
  })

const MISSING_MODULE = /ModuleNotFoundError: No module named '([^']+)'/

const startupFailure = (crash: WorkerCrashed): BridgeError => {
  const missing = MISSING_MODULE.exec(crash.stderrTail)
  return missing === null ? crash : new PythonStackMissing({ detail: `No module named '${missing[1]}'` })
}

const failureOf = (method: string, failure: WorkerFailure): BridgeError => {
  switch (failure.kind) {
    case "missing":
      return new PythonStackMissing({ detail: failure.message })
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

/** The running Python worker. */
export class PythonWorker extends Context.Tag("@empo/bridge/PythonWorker")<PythonWorker, PythonWorkerShape>() {
  /** The real worker (`python/worker.py`) with the interpreter from `EMPO_PYTHON` or `.venv`. */
  static readonly layer: Layer.Layer<PythonWorker, BridgeError> = Layer.scoped(
    PythonWorker,
    Effect.gen(function*() {
      const forwardStderr = yield* Config.boolean("EMPO_WORKER_STDERR").pipe(Config.withDefault(false), Effect.orDie)
      return yield* make({ forwardStderr })
    })
  ).pipe(Layer.provide(PythonInterpreter.layer))

  /** A worker running `script` (test fixtures), with options. */
  static readonly layerWith = (options: Partial<WorkerOptions>): Layer.Layer<PythonWorker, BridgeError> =>
    Layer.scoped(PythonWorker, make(options)).pipe(Layer.provide(PythonInterpreter.layer))
}
