import { UserError } from "@empo/core/Errors"
import * as Schema from "effect/Schema"

/** One problem in an experiment file, located in the YAML source. */
export class SpecIssue extends Schema.Class<SpecIssue>("SpecIssue")({
  line: Schema.Int,
  column: Schema.Int,
  /** Dotted field path (`stages.preference.params.beta`), empty for syntax errors. */
  field: Schema.String,
  message: Schema.String
}) {}

/**
 * An experiment file that cannot be used: bad YAML, wrong types, unknown plugins, bad sweep axes. Exit code 2.
 * Its message is every issue of the file, one located sentence a line: `file:line:col: field.path: what is wrong`.
 */
export class SpecError extends UserError<SpecError>()("SpecError", {
  file: Schema.String,
  issues: Schema.NonEmptyArray(SpecIssue)
}, {
  exitCode: 2,
  message: (e) =>
    e.issues
      .map((i) => `${e.file}:${i.line}:${i.column}: ${i.field === "" ? "" : `${i.field}: `}${i.message}`)
      .join("\n")
}) {}
