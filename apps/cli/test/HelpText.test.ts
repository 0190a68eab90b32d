import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { vi } from "vitest"
import { runEmpo } from "../src/Cli.ts"
import { type HelpTerminal, tidyHelp, wantsColour } from "../src/HelpText.ts"
import { PluginsLive } from "../src/plugins.ts"

const pipe: HelpTerminal = { noColor: undefined, term: "xterm-256color", isTTY: false }
const tty: HelpTerminal = { ...pipe, isTTY: true }
const noColorTty: HelpTerminal = { ...tty, noColor: "1" }

/** What `empo <args> --help` prints for `terminal`. */
const help = (args: ReadonlyArray<string>, terminal: HelpTerminal) =>
  Effect.gen(function* () {
    const printed: Array<string> = []
    const log = vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) => void printed.push(parts.join(" ")))
    const exit = yield* Effect.exit(runEmpo(["node", "empo", ...args, "--help"], PluginsLive, terminal)).pipe(
      Effect.ensuring(Effect.sync(() => log.mockRestore())))
    assert.strictEqual(exit._tag, "Success")
    return printed.join("\n")
  })

const ESC = "\u001b["
const commands = [
  [], ["data", "inspect"], ["data", "build"], ["data", "items"], ["data", "download"], ["counts", "build"], ["eval"], ["run"],
  ["runs", "ls"], ["runs", "show"], ["compare"], ["report"], ["tui"], ["train"], ["generate"], ["model", "tiny"], ["model", "tiny-encoder"], ["epitome", "train"], ["benchmark"], ["doctor"]
]
/** Lines @effect/cli adds to every option, which say nothing about what it is for. */
const libraryLine = /^(This (setting|argument|option) .*|One of the following: .*|A true or false value\.|An integer\.|A floating point number\.|An existing (file|directory)\.|A user-defined piece of text\.|Defaults? .*)$/

describe("empo --help", () => {
  it("colour only on a terminal, never under NO_COLOR or TERM=dumb", () => {
    assert.isTrue(wantsColour(tty))
    assert.isFalse(wantsColour(pipe))
    assert.isFalse(wantsColour(noColorTty))
    assert.isTrue(wantsColour({ ...tty, noColor: "" }))
    assert.isFalse(wantsColour({ ...tty, term: "dumb" }))
  })

  it("tidyHelp drops padding after a command's usage and the text-type boilerplate", () => {
    const rendered = `${ESC}1mOPTIONS${ESC}0m\n\n--db text\n\n  A user-defined piece of text.\n\n  the store\n\n  - runs${" ".repeat(300)}\n  - runs ls${" ".repeat(80)}List runs\n`
    assert.strictEqual(tidyHelp(rendered, false), "OPTIONS\n\n--db text\n\n  the store\n\n  - runs\n  - runs ls\n      List runs\n")
  })

  it.effect("into a pipe and under NO_COLOR: no escape codes, no padded lines, no 'A user-defined piece of text.'", () =>
    Effect.gen(function* () {
      for (const terminal of [pipe, noColorTty]) {
        const text = yield* help([], terminal)
        assert.include(text, "COMMANDS")
        assert.notInclude(text, ESC)
        assert.notInclude(text, "A user-defined piece of text.")
        for (const line of text.split("\n")) {
          assert.notMatch(line, /\s$/, `trailing spaces: ${JSON.stringify(line.slice(0, 80))}`)
          assert.notMatch(line, /\S {3,}\S/, `padded: ${JSON.stringify(line.slice(0, 80))}`)
        }
      }
      assert.include(yield* help([], tty), ESC)
    }))

  it.effect("every option and argument of every command says what it is for", () =>
    Effect.gen(function* () {
      const undocumented: Array<string> = []
      for (const command of commands) {
        const text = yield* help(command, pipe)
        const blocks = text.split(/\n\s*\n/).map((b) => b.trim())
        const start = blocks.findIndex((b) => b === "ARGUMENTS" || b === "OPTIONS")
        if (start === -1) continue
        let current: string | undefined
        let described = true
        const close = () => void (current !== undefined && !described && undocumented.push(`${command.join(" ")} ${current}`))
        for (const block of blocks.slice(start)) {
          if (block === "COMMANDS") break
          if (block === "ARGUMENTS" || block === "OPTIONS") continue
          if (block.startsWith("--") || block.startsWith("<") || block.startsWith("-")) {
            close()
            current = block
            described = false
          } else if (!libraryLine.test(block)) described = true
        }
        close()
      }
      assert.deepStrictEqual(undocumented, [])
    }))
})
