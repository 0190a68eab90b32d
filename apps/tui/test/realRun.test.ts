import { sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterEach, describe, expect, it } from "vitest"
import { waitFor } from "./fixtures/testRuntime.ts"
import { cleanUpSessions, empoBin, startSession, tempDir } from "./fixtures/tmux.ts"

const run = promisify(execFile)
afterEach(cleanUpSessions)

// The quickstart in miniature: real ED data, a tiny model built from a config, real TRL SFT and DPO at two β,
// real generation and metrics — the store the TUI then reads is exactly what `empo run` writes.
const spec = (data: string) => `name: mini-real
seeds: [0]
data:
  source: ${data}/empathetic_dialogues
  split: valid
  grounder: plutchik-1
  negatives: 1
  mode: balanced
  limit: 48
model:
  kind: tiny
  layers: 1
  hidden: 32
  heads: 2
  vocab: 400
  maxPositions: 128
stages:
  sft:
    optimizer: sft
    preset: tiny-cpu
    params:
      maxSteps: 4
  preference:
    optimizer: dpo
    preset: tiny-cpu
    params:
      maxSteps: 4
  generate:
    split: test
    limit: 8
    batchSize: 8
    maxNewTokens: 8
    doSample: true
    temperature: 0.9
  evaluate:
    metrics: [length, distinct]
sweep:
  grid:
    stages.preference.params.beta: [0.1, 0.5]
`

describe("empo tui on a store filled by a small real run", () => {
  it("shows the real sweep, its training curves and the comparison", async () => {
    const dir = tempDir("empo-tui-real-")
    const db = path.join(dir, "empo.db")
    fs.writeFileSync(path.join(dir, "mini.yaml"), spec(sharedDataDir()))
    // Offline, the metrics' tokenizer reads Punkt's parameters from the shared data instead of downloading them.
    const env = { ...process.env, EMPO_PUNKT: sharedData("nltk", "punkt_english.json") }
    const { stdout, stderr } = await run(process.execPath, [empoBin, "run", "mini.yaml", "--db", db, "--concurrency", "2"], { cwd: dir, env, maxBuffer: 16 * 1024 * 1024 })
    expect(`${stdout}${stderr}`).toContain("mini-real: 2/2 runs completed")

    const { pane, keys } = startSession(dir, `node ${empoBin} tui --db ${db}`)
    expect(await waitFor(pane, (p) => p.includes("mini-real"), 90_000)).toMatch(/mini-real\s+2\s+2\s+0\s+0/)
    await keys("Enter")
    const sweep = await waitFor(pane, (p) => p.includes("2/2 runs"))
    expect(sweep).toMatch(/0\.1\s+0\s+completed\s+done/)
    expect(sweep).toMatch(/0\.5\s+0\s+completed\s+done/)
    await keys("Enter")
    // DPO logs its loss and reward margins every step: both are drawn as sparklines from the stored points.
    // (At 80 columns the series names are shortened: "preference rewards/ma…".)
    const detail = await waitFor(pane, (p) => p.includes("preference rewards/ma"), 30_000)
    expect(detail).toMatch(/preference loss\s+[▁▂▃▄▅▆▇█]{4}\s+\d\.\d+ @4/)
    expect(detail).toMatch(/preference rewards\/ma…\s+[▁▂▃▄▅▆▇█]{4}/)
    expect(detail).toContain("✔ preference")
    await keys("Escape")
    await waitFor(pane, (p) => p.includes("2/2 runs"))
    await keys("c")
    const compare = await waitFor(pane, (p) => p.includes("configuration"), 30_000)
    expect(compare).toMatch(/beta=0\.1/)
    expect(compare).toMatch(/beta=0\.5/)
    await keys("q")
    expect(await waitFor(pane, (p) => p.includes("EXIT="))).toContain("EXIT=0")
  }, 420_000)
})
