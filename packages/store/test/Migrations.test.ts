import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqliteMigrator from "@effect/sql-sqlite-node/SqliteMigrator"
import { shortHash } from "@empo/core/ContentHash"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import * as Str from "effect/String"
import { migrations } from "../src/internal/migrations.ts"
import { RunStore, runIdOf, type StageId } from "../src/index.ts"

const computation = (beta: number) => ({
  name: "exp", seed: 0,
  data: { source: "/data/ed", split: "valid", limit: 64 },
  model: { kind: "tiny", layers: 2 },
  stages: { preference: { optimizer: "dpo", params: { beta } } }
})
const withExecutor = (beta: number, timeout: number) => ({ ...computation(beta), executor: { kind: "local", stageTimeoutSeconds: timeout } })

interface LegacyRun {
  readonly config: ReturnType<typeof withExecutor>
  readonly status: string
  readonly createdAt: number
  readonly finishedAt: number
  readonly stages: ReadonlyArray<string>
}

/** A database as release 0.1 left it: only migration 0001, run ids hashed with the executor section. */
const writeLegacyStore = (file: string, runs: ReadonlyArray<LegacyRun>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO experiments (name, spec_json, created_at, updated_at) VALUES ('exp', '{}', 0, 0)`
    for (const id of ["dataset:1", "sft:1", "pref:a", "pref:b", "eval:a"]) {
      const running = id === "pref:b"
      yield* sql`INSERT INTO stages (id, kind, inputs_json, output_dir, status, attempts, created_at, started_at, finished_at, host, pid)
        VALUES (${id}, ${id.split(":")[0]!}, '{}', ${`/w/${id}`}, ${running ? "running" : "completed"}, 1, 0, 5, ${running ? null : 9}, 'vm', 4784)`
    }
    for (const [position, run] of runs.entries()) {
      const oldId = shortHash(run.config, 12)
      yield* sql`INSERT INTO runs (id, experiment, label, seed, position, config_json, status, created_at, started_at, finished_at)
        VALUES (${oldId}, 'exp', ${`beta=${run.config.stages.preference.params.beta}`}, 0, ${position}, ${JSON.stringify(run.config)},
          ${run.status}, ${run.createdAt}, ${run.createdAt + 1}, ${run.finishedAt})`
      for (const [i, stageId] of run.stages.entries()) {
        yield* sql`INSERT INTO run_stages (run_id, stage_id, name, position) VALUES (${oldId}, ${stageId}, ${stageId.split(":")[0]!}, ${i})`
      }
      const params = {
        seed: 0,
        "stages.preference.params.beta": run.config.stages.preference.params.beta,
        "executor.stageTimeoutSeconds": run.config.executor.stageTimeoutSeconds
      }
      for (const [key, value] of Object.entries(params)) {
        yield* sql`INSERT INTO params (run_id, key, value_json, value_num) VALUES (${oldId}, ${key}, ${JSON.stringify(value)}, ${value})`
      }
    }
  }).pipe(Effect.provide(SqliteMigrator.layer({ loader: SqliteMigrator.fromRecord({ "0001_init": migrations["0001_init"] }) }).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: file, transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel })))))

describe("migrations", () => {
  it("hashes what a run computes, never how it executes", () => {
    assert.strictEqual(runIdOf(withExecutor(0.1, 60)), runIdOf(withExecutor(0.1, 3600)))
    assert.strictEqual(runIdOf(withExecutor(0.1, 60)), shortHash(computation(0.1), 12))
    assert.notStrictEqual(runIdOf(withExecutor(0.1, 60)), runIdOf(withExecutor(0.5, 60)))
    assert.notStrictEqual(runIdOf(withExecutor(0.1, 60)), shortHash(withExecutor(0.1, 60), 12))
  })

  it.scoped("re-keys stored runs, merges those that differed only by executor, and keeps old ids reachable", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const file = `${yield* fs.makeTempDirectoryScoped()}/empo.db`
      const first = { config: withExecutor(0.1, 60), status: "completed", createdAt: 100, finishedAt: 150, stages: ["dataset:1", "sft:1", "pref:a"] }
      const second = { config: withExecutor(0.1, 3600), status: "failed", createdAt: 200, finishedAt: 250, stages: ["dataset:1", "sft:1", "pref:a", "eval:a"] }
      const other = { config: withExecutor(0.5, 60), status: "running", createdAt: 300, finishedAt: 0, stages: ["dataset:1", "sft:1", "pref:b"] }
      yield* Effect.scoped(writeLegacyStore(file, [first, second, other]))

      yield* Effect.gen(function* () {
        const store = yield* RunStore
        const merged = runIdOf(first.config)
        const runs = yield* store.listRuns({ experiment: "exp" })
        assert.deepStrictEqual(runs.map((r) => r.id), [merged, runIdOf(other.config)])
        assert.deepStrictEqual([runs[0]!.status, runs[0]!.createdAt, runs[0]!.finishedAt], ["failed", 100, 250])

        for (const oldId of [shortHash(first.config, 12), shortHash(second.config, 12), shortHash(second.config, 12).slice(0, 7)]) {
          const detail = yield* store.showRun(oldId)
          assert.strictEqual(detail.run.id, merged, `old id ${oldId}`)
        }
        const detail = yield* store.showRun(merged)
        assert.deepStrictEqual(detail.stages.map((s) => s.id), ["dataset:1", "sft:1", "pref:a", "eval:a"])
        assert.deepStrictEqual(detail.params.map((p) => p.key), ["seed", "stages.preference.params.beta"])
        assert.strictEqual((yield* store.showRun(shortHash(other.config, 12))).run.id, runIdOf(other.config))

        const attempts = yield* store.attemptsOf("sft:1" as StageId)
        assert.deepStrictEqual(attempts.map((a) => [a.attempt, a.executor, a.host, a.pid, a.status]), [[1, "local", "vm", 4784, "completed"]])
        assert.strictEqual(Option.getOrThrow(yield* store.getStage("sft:1" as StageId)).executor, "local")
        // A stage left running by release 0.1 has no lease: the next runner recovers it at once.
        assert.deepStrictEqual(yield* store.recoverInterrupted("exp"), ["pref:b" as StageId])
        assert.strictEqual((yield* store.attemptsOf("pref:b" as StageId))[0]!.status, "interrupted")
        assert.strictEqual(yield* store.integrityCheck(), "ok")
      }).pipe(Effect.provide(RunStore.layer(file)))
    }).pipe(Effect.provide(NodeContext.layer)))
})
