// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { eachTestWorld, renderApp } from "./fixtures/appWorld.tsx"
import { waitFor } from "./fixtures/testRuntime.ts"

const enter = "\r"
const escape = "\u001B"
const backspace = "\u007F"

describe("compare exports ask where to write (issue 11 item 9)", () => {
  const world = eachTestWorld()

  it("`L` proposes a file name that can be edited (or made absolute); esc writes nothing", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    stdin.write("c")
    await waitFor(frame, (f) => f.includes("configuration (seeds)"))

    stdin.write("L")
    await waitFor(frame, (f) => f.includes("write LaTeX to: compare-dpo-beta.tex"))
    stdin.write(escape)
    await waitFor(frame, (f) => !f.includes("write LaTeX to"))
    expect(fs.existsSync(path.join(world().dir, "exports"))).toBe(false)
    // esc closed the prompt, not the screen
    expect(frame()).toContain("configuration (seeds)")

    const target = path.join(world().dir, "paper", "table2.tex")
    stdin.write("L")
    await waitFor(frame, (f) => f.includes("write LaTeX to: compare-dpo-beta.tex"))
    for (let i = 0; i < "compare-dpo-beta.tex".length; i++) stdin.write(backspace)
    stdin.write(target)
    await waitFor(frame, (f) => f.includes(`write LaTeX to: ${target}`))
    stdin.write(enter)
    await waitFor(frame, (f) => f.includes(`wrote ${target}`))
    expect(fs.readFileSync(target, "utf8")).toContain("\\begin{tabular}")
    expect(fs.existsSync(path.join(world().dir, "exports"))).toBe(false)
    unmount()
  })
})
