import { sharedDataDir } from "@empo/core/testing/sharedData"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { seedSweep, storeLayer } from "./fixtures/seedStore.ts"
import { fixturesDir, tsxBin, waitFor } from "./fixtures/testRuntime.ts"
import { cleanUpSessions, empoBin, startSession, tempDir } from "./fixtures/tmux.ts"

const seededStore = async (dir: string) => {
  const db = path.join(dir, "empo.db")
  await Effect.runPromise(RunStore.pipe(Effect.flatMap((store) => seedSweep(store)), Effect.provide(storeLayer(db))))
  return db
}

afterEach(cleanUpSessions)

describe("empo tui in a real terminal (tmux)", () => {
  it("navigates to a sweep, opens a run, opens compare and quits with status 0", async () => {
    const dir = tempDir("empo-tui-tmux-")
    const db = await seededStore(dir)
    const { pane, keys } = startSession(dir, `node ${empoBin} tui --db ${db}`)
    // Generous: without a current bundle the CLI compiles its TypeScript on start, on a slow, shared machine.
    expect(await waitFor(pane, (p) => p.includes("dpo-beta"), 90_000)).toMatch(/dpo-beta\s+6\s+4\s+1\s+1/)
    await keys("Enter")
    const sweep = await waitFor(pane, (p) => p.includes("6/6 runs"))
    expect(sweep).toMatch(/0\.5\s+1\s+failed\s+preference 2\/5/)
    await keys("j", "j", "j", "j")
    await waitFor(pane, (p) => p.includes("beta=0.5 seed=1: CUDA out of memory"))
    await keys("Enter")
    const detail = await waitFor(pane, (p) => p.includes("rewards/margins"))
    expect(detail).toContain("✖ preference")
    expect(detail).toMatch(/loss\s+[▁▂▃▄▅▆▇█]+/)
    await keys("Escape")
    await waitFor(pane, (p) => p.includes("6/6 runs"))
    await keys("c")
    const compare = await waitFor(pane, (p) => p.includes("configuration (seeds)"))
    expect(compare).toMatch(/beta=0\.1 \(3\)\s+0\.414±0\.0099/)
    await keys("q")
    const after = await waitFor(pane, (p) => p.includes("EXIT="))
    expect(after).toContain("EXIT=0")
  }, 180_000)

  it("validates specs inline, launches a sweep as a detached background runner and watches it finish", async () => {
    const dir = tempDir("empo-tui-launch-")
    fs.mkdirSync(path.join(dir, "experiments"))
    fs.writeFileSync(path.join(dir, "experiments", "small.yaml"), [
      "name: small-sweep",
      "seeds: [0, 1]",
      "data:",
      `  source: ${path.join(sharedDataDir(), "empathetic_dialogues")}`,
      "model:",
      "  kind: tiny",
      "stages:",
      "  preference:",
      "    optimizer: dpo",
      "  generate:",
      "    limit: 4",
      "  evaluate:",
      "    metrics: [length]",
      "sweep:",
      "  grid:",
      "    stages.preference.params.beta: [0.1, 0.5]",
      ""
    ].join("\n"))
    fs.writeFileSync(path.join(dir, "experiments", "broken.yaml"), "name: broken\ndata:\n  source: ./data\nmodel:\n  kind: tiny\nstages:\n  preference:\n    optimizer: dpo\n    params:\n      beta: high\n")
    const db = path.join(dir, "empo.db")
    const { pane, keys } = startSession(dir, `${tsxBin} ${path.join(fixturesDir, "tuiMain.ts")} ${db}`)
    await waitFor(pane, (p) => p.includes("No experiments in this store yet"), 90_000)
    await keys("Tab")
    await waitFor(pane, (p) => p.includes("experiments/small.yaml"))
    // broken.yaml sorts first: its problem is shown with the offending line.
    await keys("Enter")
    const invalid = await waitFor(pane, (p) => p.includes("problem(s)"))
    expect(invalid).toContain("10 │       beta: high")
    expect(invalid).toContain("stages.preference.params.beta")
    await keys("Escape", "j", "Enter")
    const preview = await waitFor(pane, (p) => p.includes("small-sweep: 4 runs"))
    expect(preview).toContain("0 cached")
    expect(preview).toMatch(/beta=0\.5 seed=1\s+\S+\s+0\/\d cached/)
    await keys("y")
    const started = await waitFor(pane, (p) => p.includes("runner started"), 30_000)
    const pid = Number(/pid (\d+)/.exec(started)![1])
    await keys("Enter")
    await waitFor(pane, (p) => p.includes("4/4 runs"), 60_000)
    const done = await waitFor(pane, (p) => (p.match(/completed/g) ?? []).length >= 4, 120_000)
    expect(done).toMatch(/1:beta\s+2:seed\s*3:status/)
    await keys("Enter")
    const detail = await waitFor(pane, (p) => p.includes("metrics (45 points)"), 30_000)
    expect(detail).toMatch(/rewards\/margins\s+[▁▂▃▄▅▆▇█]+\s+1\.4 @14/)
    await keys("Escape", "c")
    await waitFor(pane, (p) => p.includes("length_mean"), 30_000)
    await keys("q")
    expect(await waitFor(pane, (p) => p.includes("EXIT="))).toContain("EXIT=0")
    // The runner was detached: the launch record names it and its log is beside the store.
    expect(JSON.parse(fs.readFileSync(path.join(dir, "launches", "small-sweep.json"), "utf8"))).toMatchObject({ pid, experiment: "small-sweep" })
  }, 300_000)
})
