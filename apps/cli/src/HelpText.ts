import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

/** Where help goes and what the environment says about colour (https://no-color.org). */
export interface HelpTerminal {
  /** `NO_COLOR`: any non-empty value turns colour off. */
  readonly noColor: string | undefined
  readonly term: string | undefined
  /** Whether stdout is a terminal; a pipe or file gets no escape codes. */
  readonly isTTY: boolean
}

export const currentTerminal = (): HelpTerminal => ({
  noColor: process.env["NO_COLOR"],
  term: process.env["TERM"],
  isTTY: process.stdout.isTTY === true
})

/** Colour only on a terminal that is not dumb and when NO_COLOR is unset or empty. */
export const wantsColour = (t: HelpTerminal): boolean =>
  t.isTTY && (t.noColor === undefined || t.noColor === "") && t.term !== "dumb"

// eslint-disable-next-line no-control-regex
const ansiEscape = /\u001b\[[0-9;]*m/g

export const stripAnsi = (text: string): string => text.replace(ansiEscape, "")

/** @effect/cli's description of every text option; it says nothing the `text` after the flag does not. */
const textBoilerplate = "A user-defined piece of text."

/**
 * Tidies @effect/cli's rendered help: no escape codes unless colour is wanted, no "A user-defined piece of
 * text." paragraphs, and the COMMANDS list without the padding that aligns every description after the
 * longest usage (hundreds of spaces): each description goes on its own line under its usage.
 */
export const tidyHelp = (rendered: string, colour: boolean): string => {
  const text = colour ? rendered : stripAnsi(rendered)
  const out: Array<string> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (stripAnsi(line).trim() === textBoilerplate) {
      // Drop the paragraph and the blank line after it.
      if (lines[i + 1] !== undefined && stripAnsi(lines[i + 1]!).trim() === "") i++
      continue
    }
    const listed = /^(\s+- \S.*?\S) {2,}(\S.*)$/.exec(line)
    if (listed !== null) {
      out.push(listed[1]!, `      ${listed[2]!.trimEnd()}`)
      continue
    }
    out.push(line.trimEnd())
  }
  return out.join("\n")
}

/** True when `empo` was asked for help (the library then renders it instead of running a command). */
export const asksForHelp = (args: ReadonlyArray<string>): boolean => {
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h")
}

/** Runs `effect` with `Console.log` and `Console.error` output passed through {@link tidyHelp}. */
export const withTidyHelp = <A, E, R>(effect: Effect.Effect<A, E, R>, terminal: HelpTerminal): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (base) => {
    const colour = wantsColour(terminal)
    const tidy = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? tidyHelp(a, colour) : a))
    const console: Console.Console = {
      ...base,
      log: (...args) => base.log(...tidy(args)),
      error: (...args) => base.error(...tidy(args))
    }
    return Effect.withConsole(effect, console)
  })
