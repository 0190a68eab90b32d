/**
 * Issue 14's faults, each with the real engine of tools/cluster/stack.sh and the built `empo`: a runner killed with
 * SIGKILL mid-training and rerun (Slurm, Ray; the ssh case is in executorSsh.test.ts), a Slurm job cancelled from
 * outside in a sweep, ssh connections dropped while a stage is followed, and a Slurm job requeued on SIGUSR1 that
 * resumes from its checkpoint. Small experiments throughout: CI runs these on two cores.
 */
import { startStack } from "@empo/core/testing/loopbackStack"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, beforeAll, describe, it } from "vitest"
import {
  ensureStack, inventory, type JobRow, killChildren, lossSteps, miniExperiment, query, sleep, spawnEmpo, type StageRow, waitFor
} from "./support/executorCli.ts"

afterEach(killChildren)
beforeAll(ensureStack)

const slurmConf = /SLURM_CONF: (.*)/.exec(fs.readFileSync(inventory, "utf8"))![1]!.trim()
const slurmWorkDir = /workDir: (.*\/slurm)\n/.exec(fs.readFileSync(inventory, "utf8"))![1]!.trim()
const slurm = (command: string, ...args: Array<string>) =>
  execFileSync(command, args, { env: { ...process.env, SLURM_CONF: slurmConf }, encoding: "utf8" })
const slurmState = (jobId: string) => /JobState=(\S+)/.exec(slurm("scontrol", "show", "job", "-o", jobId))?.[1]

const trainJobs = (db: string) => query<JobRow>(db, "SELECT j.* FROM stage_jobs j JOIN stages s ON s.id = j.stage_id WHERE s.kind = 'train' ORDER BY j.created_at")
const trainStages = (db: string) => query<StageRow>(db, "SELECT * FROM stages WHERE kind = 'train'")
const pointsOf = (db: string, stageId: string) =>
  query<{ n: number }>(db, "SELECT count(*) AS n FROM metric_points WHERE stage_id = ? AND key = 'loss'", stageId)[0]?.n ?? 0
/** The train job once it is launched (a real job id) and has streamed `points` loss points into the store. */
const launchedWith = (db: string, points: number) => () =>
  trainJobs(db).find((j) => j.state === "launched" && j.job_id !== j.job_key && pointsOf(db, j.stage_id) >= points)
const jobDirOf = (job: JobRow) => (JSON.parse(job.locator_json) as { jobDir: string }).jobDir
/** The worker's protocol events in a job's events.ndjson (a requeued job appends to it). */
const jobEvents = (job: JobRow) => {
  const file = path.join(jobDirOf(job), "events.ndjson")
  return (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "").split("\n").flatMap((line) => {
    try {
      const message = JSON.parse(line) as { _tag?: string; event?: { _tag: string; step?: number; resumedFromStep?: number } }
      return message._tag === "event" && message.event !== undefined ? [message.event] : []
    } catch {
      return []
    }
  })
}
/** Like {@link launchedWith}, counting the log events the worker wrote on the host: the store lags behind them. */
const launchedWithHostLogs = (db: string, logs: number) => () =>
  trainJobs(db).find((j) => j.state === "launched" && j.job_id !== j.job_key && jobEvents(j).filter((e) => e._tag === "log").length >= logs)
const noneRunning = (db: string) => {
  assert.deepStrictEqual(query(db, "SELECT id, status FROM stages WHERE status = 'running'"), [])
  assert.deepStrictEqual(query(db, "SELECT job_key, state FROM stage_jobs WHERE state IN ('submitted', 'launched')"), [])
}

describe.each(["loopback-slurm", "loopback-ray"])("empo run --executor %s, kill -9 of the runner", (name) => {
  it("reattaches after kill -9 of empo run mid-training: the stage runs once", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `empo-${name}-kill-`))
    const db = path.join(dir, "empo.db")
    const maxSteps = 40
    const args = ["run", miniExperiment(dir, "reattach", maxSteps, { generate: true }), "--executor", name, "--executors", inventory, "--db", db]

    const first = spawnEmpo(args)
    const job = await waitFor(launchedWith(db, 3), first.child)
    assert.isDefined(job, first.report())
    first.child.kill("SIGKILL")
    await first.exited
    assert.strictEqual(trainJobs(db)[0]!.state, "launched")

    const second = spawnEmpo(args)
    assert.strictEqual(await second.exited, 0, second.report())
    assert.match(second.output(), new RegExp(`reattached to job ${job!.job_id} on`))
    assert.deepStrictEqual(trainJobs(db).map((j) => [j.job_key, j.state]), [[job!.job_key, "collected"]])
    const [train] = trainStages(db)
    assert.deepInclude(train, { status: "completed", executor: name, job_id: job!.job_id, attempts: 2 })
    // It trained once: one `started` event in the job's protocol stream, and one loss point per step.
    assert.strictEqual(jobEvents(job!).filter((e) => e._tag === "started").length, 1)
    const steps = lossSteps(db, train!.id)
    assert.deepStrictEqual(steps, [...new Set(steps)])
    assert.strictEqual(steps.at(-1), maxSteps)
    assert.deepStrictEqual(query<{ status: string }>(db, "SELECT status FROM runs").map((r) => r.status), ["completed"])
    noneRunning(db)
  }, 900_000)
})

describe("empo run --executor loopback-slurm, a job cancelled from outside", () => {
  it("scancel of one run's train job fails that stage with Slurm's reason; the other run completes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-slurm-scancel-"))
    const db = path.join(dir, "empo.db")
    const experiment = miniExperiment(dir, "scancel", 40, { generate: false, extra: ["sweep:", "  grid:", "    stages.sft.params.learningRate: [0.001, 0.002]"] })
    const runner = spawnEmpo(["run", experiment, "--executor", "loopback-slurm", "--executors", inventory, "--db", db, "--concurrency", "2"])
    // A few steps in on the host (the store lags behind it): the job is mid-training when it is cancelled.
    const victim = await waitFor(launchedWithHostLogs(db, 3), runner.child)
    assert.isDefined(victim, runner.report())
    slurm("scancel", victim!.job_id)

    assert.notStrictEqual(await runner.exited, 0, runner.report())
    const runOf = (stageId: string) => query<{ run_id: string }>(db, "SELECT run_id FROM run_stages WHERE stage_id = ?", stageId).map((r) => r.run_id)
    const runs = query<{ id: string; status: string }>(db, "SELECT id, status FROM runs ORDER BY position")
    assert.strictEqual(runs.length, 2)
    for (const run of runs) assert.strictEqual(run.status, runOf(victim!.stage_id).includes(run.id) ? "failed" : "completed", run.id)
    const failed = query<StageRow>(db, "SELECT * FROM stages WHERE id = ?", victim!.stage_id)[0]!
    assert.strictEqual(failed.status, "failed")
    assert.include(failed.error ?? "", "cancelled in Slurm (scancel)")
    assert.strictEqual(query<JobRow>(db, "SELECT * FROM stage_jobs WHERE job_key = ?", victim!.job_key)[0]!.state, "failed")
    // The other run's train stage ran to its end on its own job.
    const other = trainStages(db).find((s) => s.id !== victim!.stage_id)!
    assert.strictEqual(other.status, "completed")
    noneRunning(db)
    // A failed stage keeps its checkpoints on the host for a rerun; this one's seed is never used again.
    fs.rmSync(path.join(slurmWorkDir, "checkpoints", victim!.stage_id), { recursive: true, force: true })
  }, 900_000)
})

describe("empo run --executor loopback-ssh, connections dropped", () => {
  it("follows the train stage again after its ssh sessions are killed twice: no loss point lost or duplicated", async () => {
    // A private sshd: killing every session of the shared one would cut other tests' connections.
    const stack = await startStack()
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-ssh-drop-"))
      const db = path.join(dir, "empo.db")
      const maxSteps = 40
      const runner = spawnEmpo(["run", miniExperiment(dir, "drop", maxSteps, { generate: false }), "--executor", "loopback-ssh", "--executors", stack.inventory, "--db", db])
      const dropped = new Set<number>()
      const killedAt: Array<number> = []
      let trainId = ""
      for (let drop = 0; drop < 2; drop++) {
        // After the first drop: a new connection, then new lines on it (the runner follows the stage anew). Lines
        // still in flight from the old one could pass for progress, so the points count from the new connection.
        const reconnected = await waitFor(() => stack.sessions().some((pid) => !dropped.has(pid)) || undefined, runner.child)
        assert.isTrue(reconnected, runner.report())
        const before = drop === 0 ? 0 : pointsOf(db, trainId)
        const job = await waitFor(launchedWith(db, before + 3), runner.child)
        assert.isDefined(job, runner.report())
        for (const pid of stack.sessions().filter((pid) => !dropped.has(pid))) {
          stack.drop(pid)
          dropped.add(pid)
        }
        trainId = job!.stage_id
        killedAt.push(pointsOf(db, trainId))
      }
      assert.strictEqual(await runner.exited, 0, runner.report())
      // Both drops came while the job was followed (`launched`); the first mid-training. The host runs ahead of the
      // store, so the second may find every loss point in already: a wrong resume line still replays or skips lines.
      assert.isBelow(killedAt[0]!, maxSteps, "the training ended before the first drop")
      const [train] = trainStages(db)
      assert.strictEqual(train!.status, "completed")
      assert.deepStrictEqual(lossSteps(db, train!.id), Array.from({ length: maxSteps }, (_, i) => i + 1))
      assert.deepStrictEqual(query<{ status: string }>(db, "SELECT status FROM runs").map((r) => r.status), ["completed"])
      assert.deepStrictEqual(query<JobRow>(db, "SELECT * FROM stage_jobs").map((j) => j.state).filter((s) => s !== "collected"), [])
      noneRunning(db)
    } finally {
      stack.down()
    }
  }, 900_000)
})

describe("empo run --executor loopback-slurm, a requeued job", () => {
  it("resumes from the checkpoint it saved on SIGUSR1: the step count continues, in one job", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-slurm-requeue-"))
    const db = path.join(dir, "empo.db")
    const maxSteps = 40
    const runner = spawnEmpo(["run", miniExperiment(dir, "requeue", maxSteps, { generate: false }), "--executor", "loopback-slurm", "--executors", inventory, "--db", db])
    const job = await waitFor(launchedWithHostLogs(db, 5), runner.child)
    assert.isDefined(job, runner.report())
    // As Slurm's time-limit warning does: USR1 to the batch shell, which passes it to the worker.
    slurm("scancel", "--signal=USR1", "--batch", job!.job_id)
    // The job requeues itself; Slurm holds it back (BeginTime ~2 min) and an administrator releases it at once.
    const held = await waitFor(() => slurmState(job!.job_id) === "PENDING" ? true : undefined, runner.child, 120_000)
    assert.isTrue(held, `job ${job!.job_id}: ${slurm("scontrol", "show", "job", "-o", job!.job_id)}\n${runner.report()}`)
    // Not within the second of the requeue: slurmd still refuses the job's credential then ("Job credential revoked",
    // the job fails), which is what Slurm's hold-back avoids.
    await sleep(2_000)
    slurm("scontrol", "update", `JobId=${job!.job_id}`, "StartTime=now")

    assert.strictEqual(await runner.exited, 0, runner.report())
    const events = jobEvents(job!)
    const started = events.filter((e) => e._tag === "started")
    assert.strictEqual(started.length, 2, JSON.stringify(started))
    const checkpoint = events.slice(0, events.indexOf(started[1]!)).filter((e) => e._tag === "checkpoint").at(-1)
    assert.isUndefined(started[0]!.resumedFromStep, "the first start resumed from something")
    assert.isAbove(started[1]!.resumedFromStep ?? 0, 0)
    assert.strictEqual(started[1]!.resumedFromStep, checkpoint?.step)
    const [train] = trainStages(db)
    const steps = lossSteps(db, train!.id)
    assert.deepStrictEqual(steps, [...new Set(steps)])
    assert.strictEqual(steps.at(-1), maxSteps)
    assert.deepStrictEqual(trainJobs(db).map((j) => [j.job_id, j.state]), [[job!.job_id, "collected"]])
    assert.deepInclude(train, { status: "completed", job_id: job!.job_id })
    noneRunning(db)
  }, 900_000)
})
