import { repoRoot } from "@empo/core/testing/sharedData"
import Database from "better-sqlite3"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, describe, it } from "vitest"

const script = path.join(import.meta.dirname, "fixtures/runSweepProcess.ts")
const fixture = path.join(repoRoot(), "experiments/_fixtures/sweep/experiment.yaml")
const children: Array<ChildProcess> = []
afterEach(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
})

const start = (dir: string) => {
  // node --import tsx (not the tsx binary, which forks a second process that SIGKILL would not reach).
  const child = spawn(process.execPath, ["--import", "tsx", script, fixture, path.join(dir, "empo.db"), path.join(dir, "stages"), path.join(dir, "calls.log")], {
    stdio: ["ignore", "ignore", "pipe"]
  })
  children.push(child)
  let stderr = ""
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, exited, stderr: () => stderr }
}

const completedStages = (db: string, status = "completed"): number => {
  if (!fs.existsSync(db)) return 0
  try {
    const reader = new Database(db, { readonly: true, fileMustExist: true })
    try {
      return (reader.prepare("SELECT count(*) AS n FROM stages WHERE status = ?").get(status) as { n: number }).n
    } finally {
      reader.close()
    }
  } catch {
    return 0
  }
}

describe("runner killed with SIGKILL mid-sweep", () => {
  it("resumes: the sweep completes, no completed stage runs twice, the store is intact, no half-written artifact", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-crash-"))
    const db = path.join(dir, "empo.db")
    const first = start(dir)
    const deadline = Date.now() + 60_000
    while (completedStages(db) < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.isAtLeast(completedStages(db), 6, first.stderr())
    first.child.kill("SIGKILL")
    await first.exited

    const reader = new Database(db, { readonly: true })
    const before = reader.prepare("SELECT id, status FROM stages").all() as Array<{ id: string; status: string }>
    reader.close()
    const completedBefore = new Set(before.filter((s) => s.status === "completed").map((s) => s.id))
    const interrupted = before.filter((s) => s.status === "running").map((s) => s.id)
    assert.isAbove(interrupted.length, 0, "the kill should land while a stage runs")
    assert.isBelow(completedBefore.size, before.length)

    const second = start(dir)
    assert.strictEqual(await second.exited, 0, second.stderr())

    const calls = fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n")
    const counts = new Map<string, number>()
    for (const id of calls) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const id of completedBefore) assert.strictEqual(counts.get(id), 1, `completed stage ${id} ran again`)
    // An interrupted stage restarts exactly once (its first attempt may have died before its executor logged).
    for (const id of interrupted) assert.oneOf(counts.get(id), [1, 2], `interrupted stage ${id}`)
    assert.strictEqual(new Set(calls).size, counts.size)

    const store = new Database(db, { readonly: true })
    assert.strictEqual((store.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check, "ok")
    const runs = store.prepare("SELECT status FROM runs").all() as Array<{ status: string }>
    assert.strictEqual(runs.length, 6)
    assert.isTrue(runs.every((r) => r.status === "completed"))
    const stages = store.prepare("SELECT id, status, attempts FROM stages").all() as Array<{ id: string; status: string; attempts: number }>
    assert.isTrue(stages.every((s) => s.status === "completed"))
    for (const id of interrupted) assert.strictEqual(stages.find((s) => s.id === id)!.attempts, 2, JSON.stringify({ id, stages, calls }))
    const artifacts = store.prepare("SELECT path, sha256, size FROM artifacts").all() as Array<{ path: string; sha256: string; size: number }>
    store.close()
    assert.strictEqual(artifacts.length, stages.length)
    for (const a of artifacts) {
      const bytes = fs.readFileSync(a.path)
      assert.strictEqual(createHash("sha256").update(bytes).digest("hex"), a.sha256)
      assert.include(bytes.toString(), "second half")
    }
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, "stages")).filter((d) => d.endsWith(".partial")), [])
    fs.rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it("SIGINT stops gracefully: the running stage is recorded as interrupted, its partial output removed, the rerun completes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-sigint-"))
    const db = path.join(dir, "empo.db")
    const first = start(dir)
    const deadline = Date.now() + 60_000
    // Interrupt while a stage works (not in the moment between two stages, when nothing is running to record).
    while ((completedStages(db) < 4 || completedStages(db, "running") === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    first.child.kill("SIGINT")
    // The fixture uses runMain's default teardown (exit 0 on interruption); the CLI maps it to 130.
    assert.oneOf(await first.exited, [0, 130], first.stderr())
    const reader = new Database(db, { readonly: true })
    const stages = reader.prepare("SELECT status FROM stages").all() as Array<{ status: string }>
    const runs = reader.prepare("SELECT status FROM runs").all() as Array<{ status: string }>
    reader.close()
    assert.isFalse(stages.some((s) => s.status === "running"))
    assert.isTrue(stages.some((s) => s.status === "interrupted"))
    assert.isTrue(runs.every((r) => r.status === "interrupted"))
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, "stages")).filter((d) => d.endsWith(".partial")), [])
    const second = start(dir)
    assert.strictEqual(await second.exited, 0, second.stderr())
    assert.strictEqual(completedStages(db), stages.length)
    fs.rmSync(dir, { recursive: true, force: true })
  }, 120_000)
})
