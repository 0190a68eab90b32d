/**
 * A training stage given several processes runs under `accelerate launch` on the executor's host: here the loopback
 * sshd of tools/cluster/stack.sh with `accelerate: { cpuProcesses: 2 }` (two DDP ranks on CPU, gloo; on a GPU host
 * `gpusPerStage: { train: N }` does the same with one rank per GPU). SFT and DPO both train with two ranks; rank 0
 * alone reports, so the store gets one curve.
 */
import { repoRoot, sharedDataDir } from "@empo/core/testing/sharedData"
import Database from "better-sqlite3"
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, beforeAll, describe, it } from "vitest"
import * as YAML from "yaml"
import { edExperimentYaml } from "./support/experimentYaml.ts"

const root = repoRoot()
const empo = path.join(root, "apps/cli/bin/empo.mjs")
const env = { ...process.env, NO_COLOR: "1", EMPO_DATA_DIR: sharedDataDir(), EMPO_PUNKT: path.join(sharedDataDir(), "nltk/punkt_english.json") }

beforeAll(() => {
  execFileSync("bash", [path.join(root, "tools/cluster/stack.sh"), "up"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] })
})

const cli = (...args: Array<string>) => new Promise<{ status: number | null; output: string }>((resolve) => {
  const child = execFile(process.execPath, [empo, ...args], { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 2 ** 20 }, (_error, stdout, stderr) =>
    resolve({ status: child.exitCode, output: stdout + stderr }))
})

const rows = <T>(db: string, sql: string, ...params: Array<unknown>): Array<T> => {
  const reader = new Database(db, { readonly: true, fileMustExist: true })
  try {
    return reader.prepare(sql).all(...params) as Array<T>
  } finally {
    reader.close()
  }
}

describe("empo run --executor with accelerate processes", () => {
  it("trains SFT and DPO with two DDP ranks on the host; one protocol stream, one curve, the run completes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-multi-"))
    const db = path.join(dir, "empo.db")
    const inventory = YAML.parse(fs.readFileSync(path.join(root, ".empo/cluster/executors.yaml"), "utf8")) as { executors: Record<string, Record<string, unknown>> }
    const ssh = { ...inventory.executors["loopback-ssh"]!, accelerate: { cpuProcesses: 2 } }
    const executors = path.join(dir, "executors.yaml")
    fs.writeFileSync(executors, YAML.stringify({ executors: { "multi-ssh": ssh } }))
    const experiment = path.join(dir, "ddp.yaml")
    fs.writeFileSync(experiment, edExperimentYaml({
      name: "ddp-ranks", limit: 48, stages: [
        "  sft: { optimizer: sft, preset: tiny-cpu, params: { maxSteps: 6 } }",
        "  preference: { optimizer: dpo, preset: tiny-cpu, params: { maxSteps: 4 } }",
        "  generate: { split: test, limit: 2, batchSize: 2, maxNewTokens: 4 }"
      ]
    }))

    const result = await cli("run", experiment, "--executor", "multi-ssh", "--executors", executors, "--db", db)
    assert.strictEqual(result.status, 0, result.output)
    assert.deepStrictEqual(rows<{ status: string }>(db, "SELECT status FROM runs").map((r) => r.status), ["completed"])
    assert.match(result.output, /accelerate launch: 2 CPU processes, ddp/)

    const trains = rows<{ id: string; locator_json: string; max_steps: number }>(db, `SELECT s.id, j.locator_json FROM stages s
      JOIN stage_jobs j ON j.stage_id = s.id WHERE s.kind = 'train' AND j.state = 'collected' ORDER BY s.started_at`)
    assert.strictEqual(trains.length, 2)
    for (const [train, maxSteps] of trains.map((t, i) => [t, [6, 4][i]!] as const)) {
      const jobDir = (JSON.parse(train.locator_json) as { jobDir: string }).jobDir
      // The generated accelerate config, and both ranks really ran (each records its pid).
      assert.strictEqual((JSON.parse(fs.readFileSync(path.join(jobDir, "accelerate.json"), "utf8")) as { num_processes: number }).num_processes, 2)
      assert.deepStrictEqual(fs.readdirSync(path.join(jobDir, "ranks")).sort(), ["0", "1"])
      const job = JSON.parse(fs.readFileSync(path.join(jobDir, "job.json"), "utf8")) as { argv: Array<string> }
      assert.includeMembers(job.argv, ["empo_worker.multi_gpu", "--processes", "2", "--cpu"])
      // Rank 0 alone speaks: one `started`, one log line per step.
      const events = fs.readFileSync(path.join(jobDir, "events.ndjson"), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { _tag: string; event?: { _tag: string; step?: number } })
      assert.strictEqual(events.filter((m) => m.event?._tag === "started").length, 1)
      assert.strictEqual(events.filter((m) => m._tag === "result").length, 1)
      const steps = rows<{ step: number }>(db, "SELECT step FROM metric_points WHERE stage_id = ? AND key = 'loss' ORDER BY step", train.id).map((r) => r.step)
      assert.deepStrictEqual(steps, Array.from({ length: maxSteps }, (_, i) => i + 1), train.id)
    }
  }, 900_000)

  it("a `kind: local` entry trains here with two ranks too (accelerate launch through the bridge)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-multi-local-"))
    const db = path.join(dir, "empo.db")
    const executors = path.join(dir, "executors.yaml")
    fs.writeFileSync(executors, YAML.stringify({ executors: { here: { kind: "local", accelerate: { cpuProcesses: 2 } } } }))
    const experiment = path.join(dir, "ddp-local.yaml")
    fs.writeFileSync(experiment, edExperimentYaml({
      name: "ddp-local", limit: 48, stages: [
        "  sft: { optimizer: sft, preset: tiny-cpu, params: { maxSteps: 8 } }",
        "  generate: { split: test, limit: 2, batchSize: 2, maxNewTokens: 4 }"
      ]
    }))
    // The ranks are processes of their own (`--rank-main`, not the launcher), in the launch folder: count them while it trains.
    const ranksSeen = new Set<number>()
    const launchDirs = new Set<string>()
    const poll = setInterval(() => {
      for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
          const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")
          const cwd = fs.readlinkSync(`/proc/${pid}/cwd`)
          if (cmdline.includes("--rank-main") && !cmdline.includes("accelerate.commands.launch") && cwd.startsWith(path.join(os.tmpdir(), "empo-accelerate-"))) {
            ranksSeen.add(Number(pid))
            launchDirs.add(cwd)
          }
        } catch {
          // gone meanwhile
        }
      }
    }, 100)
    const result = await cli("run", experiment, "--executor", "here", "--executors", executors, "--db", db)
    clearInterval(poll)
    assert.strictEqual(result.status, 0, result.output)
    assert.match(result.output, /accelerate launch: 2 CPU processes, ddp/)
    assert.strictEqual(ranksSeen.size, 2)
    const [train] = rows<{ id: string; executor: string }>(db, "SELECT id, executor FROM stages WHERE kind = 'train'")
    assert.strictEqual(train!.executor, "local")
    const steps = rows<{ step: number }>(db, "SELECT step FROM metric_points WHERE stage_id = ? AND key = 'loss' ORDER BY step", train!.id).map((r) => r.step)
    assert.deepStrictEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8])
    // The launch folder goes with the stage.
    assert.strictEqual(launchDirs.size, 1)
    assert.isFalse(fs.existsSync([...launchDirs][0]!))
  }, 900_000)
})
