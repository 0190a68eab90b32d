import * as Effect from "effect/Effect"
import { vi } from "vitest"
import { runEmpo } from "../../src/Cli.ts"

/** Runs `empo …` in this process against a plugin catalogue, with what it printed on stdout. */
export const empoInProcess = (args: ReadonlyArray<string>, catalogue: Parameters<typeof runEmpo>[1]) =>
  Effect.gen(function* () {
    const printed: Array<string> = []
    const log = vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) => void printed.push(parts.join(" ")))
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined)
    const exit = yield* Effect.exit(runEmpo(["node", "empo", ...args], catalogue)).pipe(
      Effect.ensuring(Effect.sync(() => {
        log.mockRestore()
        error.mockRestore()
      })))
    return { exit, stdout: printed.join("\n") }
  })
