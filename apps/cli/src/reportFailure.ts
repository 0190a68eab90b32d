import { isUserFacingError } from "@empo/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

// @effect/cli's own test (`ValidationError.isValidationError`), without importing the module: `empo tui`'s fast start
// reports failures through here and loads no @effect/cli at all.
const isValidationError = (u: unknown): boolean => typeof u === "object" && u !== null && Symbol.for("@effect/cli/ValidationError") in u

/**
 * The only place errors become text and exit codes: 2 for the user's input (bad flags, files, specs),
 * 130 for Ctrl-C, 1 for everything else. No stack trace for expected failures.
 */
export const reportFailure = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Effect.sync(() => {
    if (Cause.isInterruptedOnly(cause)) {
      process.exitCode = 130
      return
    }
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      const error = failure.value
      if (isValidationError(error)) {
        // @effect/cli already printed the usage error and help.
        process.exitCode = 2
        return
      }
      if (isUserFacingError(error)) {
        process.stderr.write(`error: ${error.message}\n`)
        process.exitCode = error.exitCode
        return
      }
    }
    process.stderr.write(`${Cause.pretty(cause)}\n`)
    process.exitCode = 1
  })
