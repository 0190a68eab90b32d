/**
 * The Python worker as plugins see it: typed methods over a client that the bridge provides. A plugin whose
 * work happens in Python (a neural metric, a benchmark stage) declares a {@link PythonModule}; the worker
 * imports that module by name and serves the methods it registers. Nothing here knows how the worker is
 * started (locally, over SSH) — that is the bridge's business.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { UserError } from "./Errors.ts"

/** A Python module a plugin ships: imported by the worker by `name`, found in `path` (put on `PYTHONPATH`). */
export interface PythonModule {
  /** Importable module name, e.g. `empo_metric_toy`. It registers its methods in a `HANDLERS` dict. */
  readonly name: string
  /** The folder that contains the module (a `URL` from `new URL("../python", import.meta.url)` or a path). */
  readonly path: URL | string
}

/** Why a worker request failed, without the bridge's process details. `input` means the request was wrong (exit 2). */
export const WorkerFailureKind = Schema.Literal("input", "failed", "missing", "crashed", "timeout", "cancelled", "protocol")
export type WorkerFailureKind = typeof WorkerFailureKind.Type

/** A worker request failed. */
export class WorkerError extends UserError<WorkerError>()("WorkerError", {
  method: Schema.String,
  kind: WorkerFailureKind,
  reason: Schema.String,
  traceback: Schema.optional(Schema.String)
}, {
  exitCode: (e) => e.kind === "input" ? 2 : 1,
  message: (e) => `${e.method}: ${e.reason}`
}) {}

/** A running worker's request channel (untyped; plugins use {@link callMethod}). */
export interface WorkerClientShape {
  /**
   * Sends one request and waits for its result value, handing each progress event to `onEvent` as it arrives.
   * Interrupting the effect cancels the request in the worker.
   */
  readonly request: (
    method: string,
    payload: unknown,
    onEvent?: (event: unknown) => Effect.Effect<void>
  ) => Effect.Effect<unknown, WorkerError>
}

/** The Python worker, provided by the bridge (started lazily where a stage may not need it). */
export class WorkerClient extends Context.Tag("@empo/core/WorkerClient")<WorkerClient, WorkerClientShape>() {}

/** One method a Python module serves, with the Schemas of its request, result and progress events. */
export interface WorkerMethod<Req, ReqI, Res, ResI, Ev, EvI> {
  readonly name: string
  readonly request: Schema.Schema<Req, ReqI>
  readonly response: Schema.Schema<Res, ResI>
  readonly event: Schema.Schema<Ev, EvI>
}

/** Declares a typed worker method; `event` defaults to `Schema.Unknown` for methods without progress. */
export const defineWorkerMethod = <Req, ReqI, Res, ResI, Ev = unknown, EvI = unknown>(method: {
  readonly name: string
  readonly request: Schema.Schema<Req, ReqI>
  readonly response: Schema.Schema<Res, ResI>
  readonly event?: Schema.Schema<Ev, EvI>
}): WorkerMethod<Req, ReqI, Res, ResI, Ev, EvI> => ({
  ...method,
  event: (method.event ?? Schema.Unknown) as Schema.Schema<Ev, EvI>
})

const malformed = (method: string, what: string) => (error: ParseResult.ParseError) =>
  new WorkerError({ method, kind: "protocol", reason: `malformed ${what}: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })

/**
 * Calls a typed method: encodes the request, decodes each progress event for `onEvent` and the result.
 * A malformed event or result is a `protocol` failure naming the method.
 */
export const callMethod = <Req, ReqI, Res, ResI, Ev, EvI>(
  method: WorkerMethod<Req, ReqI, Res, ResI, Ev, EvI>,
  request: Req,
  onEvent: (event: Ev) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<Res, WorkerError, WorkerClient> =>
  Effect.gen(function* () {
    const client = yield* WorkerClient
    const payload = yield* Schema.encode(method.request)(request).pipe(Effect.mapError(malformed(method.name, "request")))
    const decodeEvent = Schema.decodeUnknown(method.event)
    const value = yield* client.request(method.name, payload, (event) =>
      decodeEvent(event).pipe(
        Effect.flatMap(onEvent),
        // A bad progress event is logged, not fatal: the result is what counts.
        Effect.catchAll((error) => Effect.logWarning(malformed(method.name, "event")(error).message))
      ))
    return yield* Schema.decodeUnknown(method.response)(value).pipe(Effect.mapError(malformed(method.name, "response")))
  })
