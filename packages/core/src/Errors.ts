import * as Schema from "effect/Schema"

/**
 * Exit-code convention shared by every command: 2 = the user's input is wrong (file, flag, spec),
 * 1 = anything else. An error class opts into 2 by defining `exitCode`.
 */
export interface UserFacingError {
  readonly exitCode: number
  readonly message: string
}

/** True for errors that carry their own exit code (see {@link UserFacingError}). */
export const isUserFacingError = (u: unknown): u is UserFacingError =>
  typeof u === "object" && u !== null && typeof (u as { exitCode?: unknown }).exitCode === "number" &&
  typeof (u as { message?: unknown }).message === "string"

/** Renders `file:line:col` when those are known. */
export const formatLocation = (loc: { readonly file?: string | undefined; readonly line?: number | undefined; readonly column?: number | undefined }): string =>
  [loc.file, loc.line, loc.line !== undefined ? loc.column : undefined].filter((x) => x !== undefined).join(":")

/**
 * Bad user input: a malformed file, an unknown value, a wrong flag. Names the file, line and field
 * so the researcher can fix it without a stack trace. Exit code 2.
 */
export class InputError extends Schema.TaggedError<InputError>()("InputError", {
  reason: Schema.String,
  file: Schema.optional(Schema.String),
  line: Schema.optional(Schema.Int),
  column: Schema.optional(Schema.Int),
  field: Schema.optional(Schema.String)
}) {
  get exitCode(): number {
    return 2
  }
  override get message(): string {
    const where = formatLocation(this)
    const field = this.field === undefined ? "" : ` (field \`${this.field}\`)`
    return `${where === "" ? "" : `${where}: `}${this.reason}${field}`
  }
}

/** A filesystem or other I/O failure that is not the user's input being wrong. Exit code 1. */
export class IoError extends Schema.TaggedError<IoError>()("IoError", {
  operation: Schema.String,
  path: Schema.String,
  cause: Schema.Defect
}) {
  get exitCode(): number {
    return 1
  }
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `${this.operation} ${this.path}: ${detail}`
  }
}

/** A row that could not be read, reported with its file and 1-based line. */
export class MalformedRow extends Schema.Class<MalformedRow>("MalformedRow")({
  file: Schema.String,
  line: Schema.Int,
  reason: Schema.String,
  field: Schema.optional(Schema.String)
}) {}
