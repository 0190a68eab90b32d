// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { eachTestWorld, renderApp } from "./fixtures/appWorld.tsx"
import { waitFor } from "./fixtures/testRuntime.ts"

describe("the compare screen writes the experiment's report (issue 16)", () => {
  const world = eachTestWorld()

  it("`R` writes report.html, figures and tables under <export dir>/reports/<experiment>/", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    stdin.write("c")
    await waitFor(frame, (f) => f.includes("configuration (seeds)"))
    stdin.write("R")
    const dir = path.join(world().dir, "exports", "reports", "dpo-beta")
    await waitFor(frame, (f) => f.includes(`wrote ${path.join(dir, "report.html")}`), 30_000)
    expect(fs.readFileSync(path.join(dir, "report.html"), "utf8")).toContain("Experiment <code>dpo-beta</code>")
    expect(fs.readdirSync(path.join(dir, "figures")).filter((f) => f.endsWith(".png")).length).toBeGreaterThan(0)
    expect(fs.readFileSync(path.join(dir, "tables", "headline.tex"), "utf8")).toContain("\\toprule")
    unmount()
  }, 60_000)
})
