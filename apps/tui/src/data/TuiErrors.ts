import { causeText, UserError } from "@empo/core"
import * as Schema from "effect/Schema"

/** `empo tui` needs an interactive terminal (raw keyboard input). Exit code 2. */
export class NotATerminalError extends UserError<NotATerminalError>()("NotATerminalError", {
  stream: Schema.Literal("stdin", "stdout")
}, {
  exitCode: 2,
  message: (e) => `empo tui needs an interactive terminal, but ${e.stream} is not a TTY (use \`empo runs\` / \`empo compare\` in scripts)`
}) {}

/** The sweep runner could not be started or signalled. Exit code 1 (shown inline in the TUI). */
export class LaunchError extends UserError<LaunchError>()("LaunchError", {
  operation: Schema.String,
  cause: Schema.Defect
}, { exitCode: 1, message: (e) => `${e.operation}: ${causeText(e.cause)}` }) {}

/** A table export (CSV/LaTeX) could not be written. Exit code 1 (shown inline in the TUI). */
export class ExportError extends UserError<ExportError>()("ExportError", {
  path: Schema.String,
  cause: Schema.Defect
}, { exitCode: 1, message: (e) => `cannot write ${e.path}: ${causeText(e.cause)}` }) {}
