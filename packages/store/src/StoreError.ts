import { UserError } from "@empo/core/Errors"
import * as Schema from "effect/Schema"

/** The run store could not be opened, read or written (SQLite error, bad row). Exit code 1. */
export class StoreError extends UserError<StoreError>()("StoreError", {
  operation: Schema.String,
  cause: Schema.Defect
}, {
  exitCode: 1,
  message: (e) => {
    const detail = e.cause instanceof Error ? e.cause.message : String(e.cause)
    const inner = (e.cause as { cause?: unknown } | undefined)?.cause
    const root = inner instanceof Error ? `: ${inner.message}` : ""
    return `run store, ${e.operation}: ${detail}${root}`
  }
}) {}

/** A run id (or unique prefix) that the store does not know. Exit code 2. */
export class RunNotFoundError extends UserError<RunNotFoundError>()("RunNotFoundError", {
  runId: Schema.String,
  candidates: Schema.Array(Schema.String)
}, {
  exitCode: 2,
  message: (e) =>
    e.candidates.length > 1
      ? `run id prefix \`${e.runId}\` is ambiguous: ${e.candidates.join(", ")}`
      : `no run \`${e.runId}\` in the store (see \`empo runs ls\`)`
}) {}

/** An experiment name the store has no runs for. Exit code 2. */
export class ExperimentNotFoundError extends UserError<ExperimentNotFoundError>()("ExperimentNotFoundError", {
  name: Schema.String,
  known: Schema.Array(Schema.String)
}, {
  exitCode: 2,
  message: (e) => {
    const known = e.known.length === 0 ? "the store is empty" : `known: ${e.known.join(", ")}`
    return `no experiment \`${e.name}\` in the store (${known})`
  }
}) {}

/** The file at `path` exists but is not a run store (not SQLite, or SQLite without EmPO's tables). Exit code 2. */
export class NotARunStoreError extends UserError<NotARunStoreError>()("NotARunStoreError", {
  path: Schema.String,
  reason: Schema.Literal("not-sqlite", "foreign-schema"),
  detail: Schema.String
}, {
  exitCode: 2,
  message: (e) => {
    const why = e.reason === "not-sqlite" ? "not a SQLite database" : "a SQLite database without EmPO's tables"
    return `${e.path} is not an EmPO run store (${why}): ${e.detail}`
  }
}) {}

/** A reading command found no run store at `path` (reads never create one). Exit code 2. */
export class RunStoreMissingError extends UserError<RunStoreMissingError>()("RunStoreMissingError", {
  path: Schema.String
}, {
  exitCode: 2,
  message: (e) => `no run store at ${e.path} (nothing has run yet with this --db / EMPO_DB; see \`empo run\`)`
}) {}
