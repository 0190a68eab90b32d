/**
 * `empo run --executor loopback-ssh` end to end against the real loopback sshd of tools/cluster/stack.sh: the
 * quickstart itself, then a runner killed with SIGKILL mid-training and rerun (reattached, the stage runs once),
 * with shell text in the work dir and a sweep value, and a planted HF_TOKEN that must appear nowhere.
 */
import { NodeContext } from "@effect/platform-node"
import { sharedDataDir } from "@empo/core/testing/sharedData"
import { datasetKind, loadExperiment, StageFiles } from "@empo/experiments"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, beforeAll, describe, it } from "vitest"
import { PluginsLive } from "../src/plugins.ts"
import { cli, cliEnv, ensureStack, inventory, type JobRow, killChildren, miniExperiment, query, root, spawnEmpo, type StageRow } from "./support/executorCli.ts"

const TOKEN = "hf_planted_cli_token_4c2d9e"
const env = cliEnv({ HF_TOKEN: TOKEN })
afterEach(killChildren)

beforeAll(ensureStack)

const run = (args: ReadonlyArray<string>) => spawnEmpo(args, env)

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")
const filesUnder = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))

describe("empo executors", () => {
  it("ls and check name the loopback host and its Python stack; an unknown executor or bad inventory is exit code 2", async () => {
    const ls = await cli("executors", "ls", "--executors", inventory)
    assert.strictEqual(ls.status, 0, ls.stderr)
    assert.match(ls.stdout, /loopback-ssh\s+ssh\s+\w+@127\.0\.0\.1:\d+ \(0 GPUs, 2 slots\)/)
    const check = await cli("executors", "check", "loopback-ssh", "--executors", inventory, "--json")
    assert.strictEqual(check.status, 0, check.stderr)
    const [host] = (JSON.parse(check.stdout) as { hosts: Array<{ reachable: boolean; versions: Record<string, string | null>; freeDiskBytes: number }> }).hosts
    assert.isTrue(host!.reachable)
    assert.match(host!.versions["transformers"]!, /^\d+\./)
    assert.isAbove(host!.freeDiskBytes, 0)
    const unknown = await cli("run", "experiments/quickstart.yaml", "--executor", "nope", "--executors", inventory)
    assert.strictEqual(unknown.status, 2)
    assert.include(unknown.stderr, `no executor named "nope" in ${inventory}; known: loopback-ssh`)
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-inv-")), "executors.yaml")
    fs.writeFileSync(bad, "executors:\n  x: { kind: ssh, hosts: [] }\n")
    const refused = await cli("executors", "ls", "--executors", bad)
    assert.strictEqual(refused.status, 2)
    assert.match(refused.stderr, /executors\.yaml:2:\d+: executors\.x\.hosts/)
  }, 120_000)
})

// The issue's done-when: the quickstart itself on each of the stack's three executors. Hosts as each engine names
// them: the ssh login, Slurm on the local login node, the Ray head's address.
const loopbackExecutors = [
  { name: "loopback-ssh", host: /^\w+@127\.0\.0\.1:\d+$/ },
  { name: "loopback-slurm", host: /^slurm:/ },
  { name: "loopback-ray", host: /^ray:127\.0\.0\.1:\d+$/ }
] as const

describe.each(loopbackExecutors)("empo run --executor $name", ({ name, host }) => {
  it("runs the quickstart: every run completes, GPU stages on the executor with job ids, same stage ids and datasets as a local run, curves live", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `empo-${name}-quick-`))
    const db = path.join(dir, "empo.db")
    const quickstart = run(["run", "experiments/quickstart.yaml", "--executor", name, "--executors", inventory, "--db", db, "--concurrency", "2"])
    // While a training stage runs on the host, its loss points are already in the store.
    let liveCurve = false
    const poll = setInterval(() => {
      const rows = query<{ n: number }>(db, `SELECT count(*) AS n FROM metric_points m JOIN stages s ON s.id = m.stage_id
        WHERE s.kind = 'train' AND s.status = 'running' AND m.key = 'loss'`)
      if ((rows[0]?.n ?? 0) > 0) liveCurve = true
    }, 250)
    const code = await quickstart.exited
    clearInterval(poll)
    assert.strictEqual(code, 0, quickstart.report())
    assert.isTrue(liveCurve, "no loss point reached the store while a training stage was running")

    const runs = query<{ status: string }>(db, "SELECT status FROM runs")
    assert.deepStrictEqual(runs.map((r) => r.status), ["completed", "completed", "completed"])
    const stages = query<StageRow>(db, "SELECT id, kind, status, executor, job_id, attempts FROM stages")
    const jobs = query<JobRow>(db, "SELECT * FROM stage_jobs")
    for (const s of stages) {
      assert.strictEqual(s.status, "completed", s.id)
      if (["train", "generate", "tiny-model"].includes(s.kind)) {
        assert.strictEqual(s.executor, name, s.id)
        const job = jobs.find((j) => j.stage_id === s.id)!
        assert.match(job.host, host, s.id)
        assert.strictEqual(job.state, "collected", s.id)
        assert.strictEqual(s.job_id, job.job_id, s.id)
        assert.isNotEmpty(s.job_id, s.id)
      } else {
        assert.strictEqual(s.executor, "local", s.id)
      }
    }

    // Identity excludes the executor: a local rerun plans the same stage ids and finds every one of them done.
    const dry = JSON.parse((await cli("run", "experiments/quickstart.yaml", "--db", db, "--dry-run", "--json")).stdout) as { stages: Array<{ id: string; action: string }> }
    assert.deepStrictEqual(dry.stages.map((s) => s.id).sort(), stages.map((s) => s.id).sort())
    assert.isTrue(dry.stages.every((s) => s.action === "cached"))

    // The datasets are byte-identical to ones built here by the dataset stage alone.
    const plan = await Effect.runPromise(loadExperiment(path.join(root, "experiments/quickstart.yaml")).pipe(
      Effect.provide(Layer.merge(NodeContext.layer, PluginsLive)),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()]])))))
    for (const stage of [...plan.stages.values()].filter((s) => s.kind === "dataset")) {
      const out = path.join(dir, "local", stage.id)
      await Effect.runPromise(Effect.gen(function* () {
        const inputs = yield* Schema.decodeUnknown(datasetKind.inputs)(stage.inputs)
        yield* datasetKind.execute({ stage, inputs, outputDir: out, checkpointDir: `${out}.checkpoints`, upstream: {}, metric: () => Effect.void, progress: () => Effect.void })
      }).pipe(Effect.provide(Layer.merge(NodeContext.layer, PluginsLive)), Effect.orDie))
      const [stored] = query<{ sha256: string }>(db, "SELECT sha256 FROM artifacts WHERE stage_id = ? AND name = ?", stage.id, StageFiles.data)
      assert.strictEqual(stored?.sha256, sha256(path.join(out, StageFiles.data)), stage.id)
    }
  }, 1_500_000)
})

describe("empo run --executor loopback-ssh, faults and secrets", () => {
  it("reattaches after kill -9 of empo run mid-training (the stage runs once); shell text executes nothing; HF_TOKEN appears nowhere", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-ssh-kill-"))
    const db = path.join(dir, "empo.db")
    const pwned = path.join(os.tmpdir(), `empo-pwned-${process.pid}`)
    // The work dir and a sweep value carry command substitution, quotes, a separator and a newline.
    const workDir = path.join(dir, `remote $(touch ${pwned}-wd); 'q"\nx`)
    const base = fs.readFileSync(inventory, "utf8")
    const hostDir = /workDir: (.*)/.exec(base)![1]!
    fs.writeFileSync(path.join(dir, "executors.yaml"), base.replace(`workDir: ${hostDir}`, `workDir: ${JSON.stringify(workDir)}`))
    const experiment = miniExperiment(dir, "ssh-reattach", 60, {
      generate: true,
      extra: ["sweep:", "  grid:", "    stages.generate.systemPrompt:", `      - ${JSON.stringify(`$(touch ${pwned}-label); it's "q"\nnext`)}`]
    })
    const args = ["run", experiment, "--executor", "loopback-ssh", "--executors", path.join(dir, "executors.yaml"), "--db", db]

    const first = run(args)
    const deadline = Date.now() + 600_000
    const trainPoints = () => query<{ n: number }>(db, `SELECT count(*) AS n FROM metric_points m JOIN stages s ON s.id = m.stage_id WHERE s.kind = 'train'`)[0]?.n ?? 0
    while (trainPoints() < 3 && first.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    assert.isAtLeast(trainPoints(), 3, first.report())
    first.child.kill("SIGKILL")
    await first.exited
    const [job] = query<JobRow>(db, "SELECT j.* FROM stage_jobs j JOIN stages s ON s.id = j.stage_id WHERE s.kind = 'train'")
    assert.strictEqual(job!.state, "launched")
    // The job outlived its runner: it is still running on the host.
    const jobDir = (JSON.parse(job!.locator_json) as { jobDir: string }).jobDir
    assert.strictEqual(fs.readFileSync(path.join(jobDir, "request.ndjson"), "utf8").includes("train"), true)

    const second = run(args)
    assert.strictEqual(await second.exited, 0, second.report())
    assert.match(second.output(), new RegExp(`reattached to job ${job!.job_id} on`))
    const trainJobs = query<JobRow>(db, "SELECT j.* FROM stage_jobs j JOIN stages s ON s.id = j.stage_id WHERE s.kind = 'train'")
    assert.deepStrictEqual(trainJobs.map((j) => [j.job_key, j.state]), [[job!.job_key, "collected"]])
    const [train] = query<StageRow>(db, "SELECT id, kind, status, executor, job_id, attempts FROM stages WHERE kind = 'train'")
    assert.deepInclude(train, { status: "completed", executor: "loopback-ssh", job_id: job!.job_id, attempts: 2 })
    // It trained once: one `started` event in the job's protocol stream, and one loss point per step.
    const events = fs.readFileSync(path.join(jobDir, "events.ndjson"), "utf8").split("\n").filter((l) => l.includes(`"started"`))
    assert.strictEqual(events.length, 1)
    const steps = query<{ step: number }>(db, "SELECT step FROM metric_points WHERE stage_id = ? AND key = 'loss' ORDER BY step", train!.id).map((r) => r.step)
    assert.deepStrictEqual(steps, [...new Set(steps)])
    assert.isAtLeast(steps.length, 50)
    assert.deepStrictEqual(query<{ status: string }>(db, "SELECT status FROM runs").map((r) => r.status), ["completed"])

    // Shell text in names executed nothing; everything stayed under the work dir.
    for (const suffix of ["-wd", "-label"]) assert.isFalse(fs.existsSync(`${pwned}${suffix}`), suffix)
    assert.isTrue(fs.existsSync(path.join(workDir, "jobs", job!.job_key, "events.ndjson")))
    // The token reached the remote process's environment only: not the store, the logs, the remote work dir.
    const stackDir = path.join(root, ".empo/cluster")
    const haystacks = [db, `${db}-wal`, ...filesUnder(workDir), path.join(stackDir, "ssh/sshd.log")].filter((f) => fs.existsSync(f))
    for (const file of haystacks) assert.isFalse(fs.readFileSync(file).includes(TOKEN), file)
    assert.notInclude(first.output() + second.output(), TOKEN)
  }, 1_200_000)
})
