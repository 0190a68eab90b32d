import { describe, expect, it } from "vitest"
import { execFile, execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"

// Async, so the long child runs do not block vitest's worker RPC.
const run = async (cmd: string, args: ReadonlyArray<string>) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: "1", EMPO_TEST_RESULTS: "" }, maxBuffer: 16 << 20 })
    return { status: 0, output: stdout + stderr }
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string }
    return { status: error.code, output: error.stdout + error.stderr }
  }
}

const root = path.resolve(import.meta.dirname, "../../..")
const generator = path.join(root, "tools", "new-metric", "new-metric.mjs")
// Inside the checkout (git-ignored .empo/) so the generated plugin resolves @empo/* from the workspace.
const scratch = path.join(root, ".empo", `generator-test-${process.pid}`)

describe("new-metric generator", () => {
  it("generates a plugin that typechecks and passes its own tests and the contract suite", async () => {
    fs.rmSync(scratch, { recursive: true, force: true })
    const out = execFileSync("node", [generator, "question-rate", "--dir", scratch], { encoding: "utf8" })
    expect(out).toContain(`import { plugin as questionRate } from "@empo/metric-question-rate"`)
    const folder = path.join(scratch, "metric-question-rate")
    expect(fs.readdirSync(path.join(folder, "src")).sort()).toEqual(["index.ts", "questionRate.ts"])
    const tsc = await run("npx", ["tsc", "-p", path.join(folder, "tsconfig.json")])
    expect(tsc.status, tsc.output).toBe(0)
    const vitest = await run("npx", ["vitest", "run", "--root", folder])
    expect(vitest.status, vitest.output).toBe(0)
    expect(vitest.output).toMatch(/Tests\s+6 passed/)
    fs.rmSync(scratch, { recursive: true, force: true })
  }, 300_000)

  it("refuses bad names and existing folders (exit 2)", () => {
    expect(spawnSync("node", [generator, "Bad_Name", "--dir", scratch]).status).toBe(2)
    fs.mkdirSync(path.join(scratch, "metric-taken"), { recursive: true })
    const taken = spawnSync("node", [generator, "taken", "--dir", scratch], { encoding: "utf8" })
    expect(taken.status).toBe(2)
    expect(taken.stderr).toContain("already exists")
    fs.rmSync(scratch, { recursive: true, force: true })
  })
})
