// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { StageId } from "@empo/store"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { eachTestWorld, renderApp } from "./fixtures/appWorld.tsx"
import { waitFor } from "./fixtures/testRuntime.ts"

const down = "\u001B[B"
const enter = "\r"
const escape = "\u001B"

describe("App on a real store", () => {
  const world = eachTestWorld()

  it("goes experiments → sweep → failed run's error → run detail → compare → CSV export", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    const experiments = await waitFor(frame, (f) => f.includes("dpo-beta"))
    // 6 runs: 4 completed, 1 running, 1 failed.
    expect(experiments).toMatch(/dpo-beta\s+6\s+4\s+1\s+1\s+0\s+0/)

    stdin.write(enter)
    const sweep = await waitFor(frame, (f) => f.includes("6/6 runs"))
    expect(sweep).toContain("beta")
    expect(sweep).toContain("preference 2/5")
    for (let i = 0; i < 4; i++) {
      stdin.write(down)
      await new Promise((r) => setTimeout(r, 80))
    }
    await waitFor(frame, (f) => f.includes("beta=0.5 seed=1: CUDA out of memory"))

    // Typed faster than frames: the filter must still get every character.
    stdin.write("/")
    stdin.write("failed")
    stdin.write(enter)
    await waitFor(frame, (f) => f.includes("1/6 runs") && f.includes("/failed"))
    stdin.write(enter)
    const detail = await waitFor(frame, (f) => f.includes("rewards/margins"))
    expect(detail).toContain("✔ sft")
    expect(detail).toContain("✖ preference")
    expect(detail).toContain("torch.OutOfMemoryError")

    stdin.write(escape)
    await waitFor(frame, (f) => f.includes("1/6 runs"))
    stdin.write(escape)
    await waitFor(frame, (f) => f.includes("6/6 runs"))
    stdin.write("c")
    const compare = await waitFor(frame, (f) => f.includes("configuration (seeds)"))
    expect(compare).toContain("beta=0.1 (3)")
    expect(compare).toContain("distinct-2")
    stdin.write("e")
    await waitFor(frame, (f) => f.includes("write CSV to: compare-dpo-beta.csv"))
    stdin.write(enter)
    await waitFor(frame, (f) => f.includes("wrote "))
    const csv = fs.readFileSync(path.join(world().dir, "exports", "compare-dpo-beta.csv"), "utf8")
    expect(csv.split("\n")[0]).toContain("distinct.distinct-2.mean")
    expect(fs.readdirSync(path.join(world().dir, "exports"))).toEqual(["compare-dpo-beta.csv"])
    unmount()
  })

  it("updates the run detail as another connection appends metric points", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    stdin.write(enter)
    await waitFor(frame, (f) => f.includes("6/6 runs"))
    for (let i = 0; i < 5; i++) {
      stdin.write(down)
      await new Promise((r) => setTimeout(r, 80))
    }
    stdin.write(enter)
    // The running run has 20 of 40 steps × 3 series.
    await waitFor(frame, (f) => f.includes("metrics (60 points)"))
    const running = world().seeded.runs.find((r) => r.id === world().seeded.runningRun)!
    await world().withStore((store) => store.appendMetricPoints([20, 21, 22].flatMap((step) => [
      { stageId: running.preference as StageId, key: "loss", step, value: 0.1, time: 0 },
      { stageId: running.preference as StageId, key: "rewards/margins", step, value: 9, time: 0 }
    ])))
    const updated = await waitFor(frame, (f) => f.includes("metrics (66 points)"))
    expect(updated).toMatch(/loss\s+\S+\s+0\.1 @22/)
    expect(updated).toMatch(/rewards\/margins\s+\S+\s+9 @22/)
    unmount()
  })

  it("shows the help overlay and the Launch tab", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    stdin.write("?")
    const help = await waitFor(frame, (f) => f.includes("Keys (esc or ? closes)"))
    expect(help).toContain("export LaTeX")
    stdin.write(escape)
    await waitFor(frame, (f) => !f.includes("Keys (esc"))
    stdin.write("\t")
    await waitFor(frame, (f) => f.includes("no *.yaml under experiments/"))
    unmount()
  })
})
