/**
 * The worker's wire protocol (NDJSON, one message per line). Node sends
 * `{id, _tag: method, payload}`, `{id, _tag: "cancel", target}` and `{id, _tag: "shutdown"}`; the worker
 * answers with the messages below on its stdout, which carries nothing else.
 */
import * as Schema from "effect/Schema"

/** Protocol version the worker announces in `ready`. */
export const PROTOCOL_VERSION = 1

/** Sent once at start-up. */
export class Ready extends Schema.TaggedClass<Ready>()("ready", {
  protocol: Schema.Literal(PROTOCOL_VERSION),
  pid: Schema.Int
}) {}

/** A progress event of request `id` (decoded further by the caller's event Schema). */
export class WorkerEvent extends Schema.TaggedClass<WorkerEvent>()("event", {
  id: Schema.Int,
  event: Schema.Unknown
}) {}

/** Request `id` completed with `value`. */
export class WorkerResult extends Schema.TaggedClass<WorkerResult>()("result", {
  id: Schema.Int,
  value: Schema.Unknown
}) {}

/** How a request failed on the Python side. */
export const WorkerFailureKind = Schema.Literal("input", "missing", "cancelled", "failed")
export type WorkerFailureKind = typeof WorkerFailureKind.Type

/** Request `id` raised. */
export class WorkerFailure extends Schema.TaggedClass<WorkerFailure>()("error", {
  id: Schema.NullOr(Schema.Int),
  kind: WorkerFailureKind,
  type: Schema.String,
  message: Schema.String,
  traceback: Schema.String
}) {}

/** The worker could not read a request line. */
export class ProtocolError extends Schema.TaggedClass<ProtocolError>()("protocolError", {
  message: Schema.String,
  line: Schema.optional(Schema.String)
}) {}

/** Anything the worker may write on its stdout. */
export const WorkerMessage = Schema.Union(Ready, WorkerEvent, WorkerResult, WorkerFailure, ProtocolError)
export type WorkerMessage = typeof WorkerMessage.Type

/** Decodes one parsed stdout line. */
export const decodeWorkerMessage = Schema.decodeUnknownOption(WorkerMessage)
