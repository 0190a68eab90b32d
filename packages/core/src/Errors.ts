import type * as Cause from "effect/Cause"
import * as Schema from "effect/Schema"

/**
 * Exit-code convention shared by every command: 2 = the user's input is wrong (file, flag, spec),
 * 1 = anything else. An error class opts into 2 by defining `exitCode`.
 */
export interface UserFacingError {
  readonly exitCode: number
  readonly message: string
}

/**
 * A `Schema.TaggedError` class that carries its exit code and message, without the getter blocks every error
 * class used to repeat. `message` (and `exitCode`, when it depends on a field) read the error's fields:
 *
 * ```ts
 * export class StoreError extends UserError<StoreError>()("StoreError", { path: Schema.String, reason: Schema.String }, {
 *   exitCode: 1,
 *   message: (e) => `store ${e.path}: ${e.reason}`
 * }) {}
 * ```
 */
export const UserError = <Self = never>() =>
<Tag extends string, Fields extends Schema.Struct.Fields>(
  tag: Tag,
  fields: Fields,
  describe: {
    /** 2 when the user's input is at fault, else 1 (see {@link UserFacingError}). */
    readonly exitCode: number | ((error: Schema.Struct.Type<Fields>) => number)
    readonly message: (error: Schema.Struct.Type<Fields>) => string
  }
): UserErrorClass<Self, Tag, Fields> => {
  // TypeScript cannot extend a class whose instance type depends on `Fields`, so the getters are added to an
  // untyped base and the precise class type is restored on the way out.
  const Base = Schema.TaggedError<typeof tag>()(tag, fields) as unknown as new (props: unknown) => Cause.YieldableError
  const { exitCode, message } = describe
  class WithExitCode extends Base {
    get exitCode(): number {
      return typeof exitCode === "number" ? exitCode : exitCode(this as unknown as Schema.Struct.Type<Fields>)
    }
    override get message(): string {
      return message(this as unknown as Schema.Struct.Type<Fields>)
    }
  }
  return WithExitCode as unknown as UserErrorClass<Self, Tag, Fields>
}

/** The class {@link UserError} returns: a `Schema.TaggedError` class whose instances are {@link UserFacingError}s. */
export type UserErrorClass<Self, Tag extends string, Fields extends Schema.Struct.Fields> =
  & Schema.TaggedErrorClass<Self, Tag, { readonly _tag: Schema.tag<Tag> } & Fields>
  & (new(...args: ReadonlyArray<any>) => UserFacingError)

/** True for errors that carry their own exit code (see {@link UserFacingError}). */
export const isUserFacingError = (u: unknown): u is UserFacingError =>
  typeof u === "object" && u !== null && typeof (u as { exitCode?: unknown }).exitCode === "number" &&
  typeof (u as { message?: unknown }).message === "string"

/** The message of a foreign failure kept in a `cause: Schema.Defect` field. */
export const causeText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** Renders `file:line:col` when those are known. */
export const formatLocation = (loc: { readonly file?: string | undefined; readonly line?: number | undefined; readonly column?: number | undefined }): string =>
  [loc.file, loc.line, loc.line !== undefined ? loc.column : undefined].filter((x) => x !== undefined).join(":")

/**
 * Bad user input: a malformed file, an unknown value, a wrong flag. Names the file, line and field
 * so the researcher can fix it without a stack trace. Exit code 2.
 */
export class InputError extends UserError<InputError>()("InputError", {
  reason: Schema.String,
  file: Schema.optional(Schema.String),
  line: Schema.optional(Schema.Int),
  column: Schema.optional(Schema.Int),
  field: Schema.optional(Schema.String)
}, {
  exitCode: 2,
  message: (e) => {
    const where = formatLocation(e)
    const field = e.field === undefined ? "" : ` (field \`${e.field}\`)`
    return `${where === "" ? "" : `${where}: `}${e.reason}${field}`
  }
}) {}

/** A filesystem or other I/O failure that is not the user's input being wrong. Exit code 1. */
export class IoError extends UserError<IoError>()("IoError", {
  operation: Schema.String,
  path: Schema.String,
  cause: Schema.Defect
}, {
  exitCode: 1,
  message: (e) => `${e.operation} ${e.path}: ${causeText(e.cause)}`
}) {}

/** A row that could not be read, reported with its file and 1-based line. */
export class MalformedRow extends Schema.Class<MalformedRow>("MalformedRow")({
  file: Schema.String,
  line: Schema.Int,
  reason: Schema.String,
  field: Schema.optional(Schema.String)
}) {}
