import * as Schema from "effect/Schema"

/** `empo tui` needs an interactive terminal (raw keyboard input). Exit code 2. */
export class NotATerminalError extends Schema.TaggedError<NotATerminalError>()("NotATerminalError", {
  stream: Schema.Literal("stdin", "stdout")
}) {
  get exitCode(): number {
    return 2
  }
  override get message(): string {
    return `empo tui needs an interactive terminal, but ${this.stream} is not a TTY (use \`empo runs\` / \`empo compare\` in scripts)`
  }
}

/** The sweep runner could not be started or signalled. Exit code 1 (shown inline in the TUI). */
export class LaunchError extends Schema.TaggedError<LaunchError>()("LaunchError", {
  operation: Schema.String,
  cause: Schema.Defect
}) {
  get exitCode(): number {
    return 1
  }
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `${this.operation}: ${detail}`
  }
}

/** A table export (CSV/LaTeX) could not be written. */
export class ExportError extends Schema.TaggedError<ExportError>()("ExportError", {
  path: Schema.String,
  cause: Schema.Defect
}) {
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `cannot write ${this.path}: ${detail}`
  }
}
