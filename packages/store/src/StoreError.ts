import * as Schema from "effect/Schema"

/** The run store could not be opened, read or written (SQLite error, bad row). Exit code 1. */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  cause: Schema.Defect
}) {
  get exitCode(): number {
    return 1
  }
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    const inner = (this.cause as { cause?: unknown } | undefined)?.cause
    const root = inner instanceof Error ? `: ${inner.message}` : ""
    return `run store, ${this.operation}: ${detail}${root}`
  }
}

/** A run id (or unique prefix) that the store does not know. Exit code 2. */
export class RunNotFoundError extends Schema.TaggedError<RunNotFoundError>()("RunNotFoundError", {
  runId: Schema.String,
  candidates: Schema.Array(Schema.String)
}) {
  get exitCode(): number {
    return 2
  }
  override get message(): string {
    return this.candidates.length > 1
      ? `run id prefix \`${this.runId}\` is ambiguous: ${this.candidates.join(", ")}`
      : `no run \`${this.runId}\` in the store (see \`empo runs ls\`)`
  }
}

/** An experiment name the store has no runs for. Exit code 2. */
export class ExperimentNotFoundError extends Schema.TaggedError<ExperimentNotFoundError>()("ExperimentNotFoundError", {
  name: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  get exitCode(): number {
    return 2
  }
  override get message(): string {
    const known = this.known.length === 0 ? "the store is empty" : `known: ${this.known.join(", ")}`
    return `no experiment \`${this.name}\` in the store (${known})`
  }
}

/** The file at `path` exists but is not a run store (not SQLite, or SQLite without EmPO's tables). Exit code 2. */
export class NotARunStoreError extends Schema.TaggedError<NotARunStoreError>()("NotARunStoreError", {
  path: Schema.String,
  reason: Schema.Literal("not-sqlite", "foreign-schema"),
  detail: Schema.String
}) {
  get exitCode(): number {
    return 2
  }
  override get message(): string {
    const why = this.reason === "not-sqlite" ? "not a SQLite database" : "a SQLite database without EmPO's tables"
    return `${this.path} is not an EmPO run store (${why}): ${this.detail}`
  }
}

/** A reading command found no run store at `path` (reads never create one). Exit code 2. */
export class RunStoreMissingError extends Schema.TaggedError<RunStoreMissingError>()("RunStoreMissingError", {
  path: Schema.String
}) {
  get exitCode(): number {
    return 2
  }
  override get message(): string {
    return `no run store at ${this.path} (nothing has run yet with this --db / EMPO_DB; see \`empo run\`)`
  }
}
