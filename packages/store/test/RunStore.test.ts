import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import Database from "better-sqlite3"
import { RunStore, type RunId, type StageId } from "../src/index.ts"

const withStore = <A, E>(body: (file: string) => Effect.Effect<A, E, RunStore>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const file = `${dir}/nested/empo.db`
    return yield* body(file).pipe(Effect.provide(RunStore.layer(file)))
  }).pipe(Effect.provide(NodeContext.layer))

const local = (pid: number) => ({ executor: "local", host: "h", pid, leaseMillis: 30_000 })

const run = (id: string, seed: number, beta: number, stages: ReadonlyArray<string>) => ({
  id: id as RunId,
  experiment: "exp",
  label: `beta=${beta}`,
  seed,
  position: seed,
  config: { beta, seed },
  params: { "stages.preference.params.beta": beta, seed, "model.kind": "tiny" },
  stages: stages.map((s) => ({ stageId: s as StageId, name: s.split(":")[0]! }))
})

const seedStore = Effect.gen(function* () {
  const store = yield* RunStore
  yield* store.upsertExperiment({ name: "exp", description: "d", specFile: "exp.yaml", spec: { name: "exp" } })
  for (const id of ["dataset:1", "sft:1", "pref:a", "pref:b", "eval:a", "eval:b"]) {
    yield* store.registerStage({ id: id as StageId, kind: id.split(":")[0]!, inputs: { id }, outputDir: `/tmp/${id}` })
  }
  yield* store.registerRun(run("run-a", 0, 0.1, ["dataset:1", "sft:1", "pref:a", "eval:a"]))
  yield* store.registerRun(run("run-b", 1, 0.5, ["dataset:1", "sft:1", "pref:b", "eval:b"]))
  return store
})

describe("RunStore", () => {
  it.scoped("creates its folder, migrates, and registers content-addressed stages once", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      const again = yield* store.registerStage({ id: "sft:1" as StageId, kind: "sft", inputs: {}, outputDir: "/elsewhere" })
      assert.strictEqual(again.outputDir, "/tmp/sft:1")
      const stages = yield* store.stagesOf("exp")
      assert.strictEqual(stages.length, 8)
      assert.deepStrictEqual(stages.filter((s) => s.runId === "run-b").map((s) => s.name), ["dataset", "sft", "pref", "eval"])
      assert.strictEqual(yield* store.integrityCheck(), "ok")
    })))

  it.scoped("tracks a stage's attempts, failure tail and recovery once the lease has expired", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      const sft = "sft:1" as StageId
      yield* store.stageStarted(sft, local(42))
      yield* store.stageFailed(sft, { error: "exit 1", stderrTail: "Traceback …" })
      yield* store.stageStarted(sft, local(43))
      assert.deepStrictEqual(yield* store.recoverInterrupted("exp"), [], "a live lease is left alone")
      yield* TestClock.adjust("31 seconds")
      const recovered = yield* store.recoverInterrupted("exp")
      assert.deepStrictEqual(recovered, [sft])
      const stage = Option.getOrThrow(yield* store.getStage(sft))
      assert.strictEqual(stage.status, "interrupted")
      assert.strictEqual(stage.attempts, 2)
      assert.strictEqual(stage.pid, 43)
      assert.isNull(stage.leaseExpiresAt)
      yield* store.stageStarted(sft, local(44))
      yield* store.stageCompleted(sft)
      const done = Option.getOrThrow(yield* store.getStage(sft))
      assert.strictEqual(done.status, "completed")
      assert.strictEqual(done.error, null)
      const attempts = yield* store.attemptsOf(sft)
      assert.deepStrictEqual(attempts.map((a) => [a.attempt, a.pid, a.status, a.error]), [
        [1, 42, "failed", "exit 1"],
        [2, 43, "interrupted", "the runner stopped while this stage was running"],
        [3, 44, "completed", null]
      ])
      assert.deepStrictEqual(attempts.map((a) => [a.startedAt, a.finishedAt]), [[0, 0], [0, 31_000], [31_000, 31_000]])
    })))

  it.scoped("keeps a stage alive while its heartbeats renew the lease, and records who ran it", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      const pref = "pref:a" as StageId
      yield* store.stageStarted(pref, { executor: "slurm-gpu", host: "node-7", pid: null, leaseMillis: 10_000 })
      yield* store.recordJob(pref, "4242")
      for (let beat = 0; beat < 5; beat++) {
        yield* TestClock.adjust("8 seconds")
        assert.isTrue(yield* store.renewLease(pref, 10_000))
        assert.deepStrictEqual(yield* store.recoverInterrupted("exp"), [])
      }
      const running = Option.getOrThrow(yield* store.getStage(pref))
      assert.deepStrictEqual(
        [running.executor, running.host, running.pid, running.jobId, running.heartbeatAt, running.leaseExpiresAt],
        ["slurm-gpu", "node-7", null, "4242", 40_000, 50_000])
      yield* TestClock.adjust("10 seconds")
      assert.deepStrictEqual(yield* store.recoverInterrupted("exp"), [pref])
      assert.isFalse(yield* store.renewLease(pref, 10_000), "a heartbeat does not revive an interrupted stage")
      const [attempt] = yield* store.attemptsOf(pref)
      assert.deepStrictEqual([attempt!.executor, attempt!.host, attempt!.jobId, attempt!.status], ["slurm-gpu", "node-7", "4242", "interrupted"])
    })))

  it.scoped("tails metric points of a run by row id, across its shared stages", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      const points = (stage: string, n: number) =>
        Array.from({ length: n }, (_, step) => ({ stageId: stage as StageId, key: "loss", step, value: 1 / (step + 1), time: step }))
      yield* store.appendMetricPoints([...points("sft:1", 900), ...points("pref:a", 5), ...points("pref:b", 7)])
      const first = yield* store.metricPointsSince("run-a" as RunId, 0, 500)
      assert.strictEqual(first.length, 500)
      const rest = yield* store.metricPointsSince("run-a" as RunId, first.at(-1)!.id)
      assert.strictEqual(rest.length, 405)
      assert.isTrue(rest.every((p) => p.stageId !== "pref:b"))
      yield* store.appendMetricPoints(points("pref:a", 2))
      const tail = yield* store.metricPointsSince("run-a" as RunId, rest.at(-1)!.id)
      assert.deepStrictEqual(tail.map((p) => p.step), [0, 1])
    })))

  it.scoped("shows a run by prefix with params, summary, artifacts and lineage", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      const artifact = yield* store.recordArtifact({ stageId: "sft:1" as StageId, name: "checkpoint", kind: "model", path: "/x", sha256: "ab", size: 3 })
      yield* store.recordLineage("pref:a" as StageId, [artifact.id])
      yield* store.setSummaryMetrics("eval:a" as StageId, { "epitome.er": 0.5, nan: Number.NaN })
      const detail = yield* store.showRun("run-a")
      assert.strictEqual(detail.run.label, "beta=0.1")
      assert.deepStrictEqual(detail.params.map((p) => [p.key, p.value]), [["model.kind", "tiny"], ["seed", 0], ["stages.preference.params.beta", 0.1]])
      assert.deepStrictEqual(detail.summary.map((s) => [s.key, s.value]), [["epitome.er", 0.5]])
      assert.strictEqual(detail.artifacts[0]!.sha256, "ab")
      assert.deepStrictEqual(detail.consumed, [{ stageId: "pref:a" as StageId, artifactId: artifact.id }])
      const ambiguous = yield* Effect.flip(store.showRun("run-"))
      assert.strictEqual(ambiguous._tag, "RunNotFoundError")
      assert.include(ambiguous.message, "ambiguous")
      const missing = yield* Effect.flip(store.comparisonData("nope"))
      assert.include(missing.message, "known: exp")
    })))

  it.scoped("filters runs by experiment and status", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      yield* store.setRunStatus("run-b" as RunId, "failed")
      const failed = yield* store.listRuns({ status: ["failed"] })
      assert.deepStrictEqual(failed.map((r) => r.id), ["run-b"])
      assert.isNotNull(failed[0]!.finishedAt)
      assert.strictEqual((yield* store.listRuns({ experiment: "other" })).length, 0)
      assert.strictEqual((yield* store.listRuns()).length, 2)
    })))

  it.scoped("uses WAL so another process's connection reads while the writer holds a transaction", () =>
    withStore((file) => Effect.gen(function* () {
      const store = yield* seedStore
      const reader = new Database(file, { readonly: true })
      assert.strictEqual(reader.pragma("journal_mode", { simple: true }), "wal")
      yield* store.appendMetricPoints([{ stageId: "sft:1" as StageId, key: "loss", step: 0, value: 1, time: 0 }])
      const count = reader.prepare("SELECT count(*) AS n FROM metric_points").get() as { n: number }
      assert.strictEqual(count.n, 1)
      reader.close()
    })))

  it.scoped("a failing batch leaves no partial rows behind", () =>
    withStore(() => Effect.gen(function* () {
      const store = yield* seedStore
      const bad = [
        { stageId: "sft:1" as StageId, key: "loss", step: 0, value: 1, time: 0 },
        { stageId: "sft:1" as StageId, key: "loss", step: 1, value: null as unknown as number, time: 0 }
      ]
      const error = yield* Effect.flip(store.appendMetricPoints(bad))
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual((yield* store.metricPointsSince("run-a" as RunId, 0)).length, 0)
    })))
})


