import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { type RunId, RunStore, type StageId } from "../src/index.ts"

const withStore = <A, E>(body: Effect.Effect<A, E, RunStore | SqlClient.SqlClient>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const file = `${yield* fs.makeTempDirectoryScoped()}/empo.db`
    return yield* body.pipe(Effect.provide(RunStore.layer(file)))
  }).pipe(Effect.provide(NodeContext.layer))

const seed = Effect.gen(function* () {
  const store = yield* RunStore
  yield* store.upsertExperiment({ name: "exp", description: "", specFile: null, spec: {} })
  for (const id of ["gen:a", "eval:a", "eval:b"]) yield* store.registerStage({ id: id as StageId, kind: "evaluate", inputs: {}, outputDir: "/w" })
  // run-c reuses run-a's evaluation (same generated predictions): one stage's scores serve both runs.
  for (const [position, [id, evaluation]] of [["run-b", "eval:b"], ["run-a", "eval:a"], ["run-c", "eval:a"]].entries()) {
    yield* store.registerRun({
      id: id as RunId, experiment: "exp", label: id, seed: 0, position, config: { id }, params: {},
      stages: [{ stageId: "gen:a" as StageId, name: "generate" }, { stageId: evaluation as StageId, name: "evaluate" }]
    })
  }
  return store
})

describe("per-item scores", () => {
  it.scoped("stores per-item values by stage and reads them back per run in item order, NaN included", () =>
    withStore(Effect.gen(function* () {
      const store = yield* seed
      yield* store.recordItemScores("eval:a" as StageId, [
        { metric: "vad", itemIds: ["i1", "i2", "i3"], perItem: { "vad.valence": [0.5, Number.NaN, -0.25], "vad.arousal": [1, 2, 3] } },
        { metric: "length", itemIds: ["i1", "i2", "i3"], perItem: { "length.tokens": [7, 8, 9] } }
      ])
      yield* store.recordItemScores("eval:b" as StageId, [
        { metric: "vad", itemIds: ["i1", "i2", "i3"], perItem: { "vad.valence": [0.1, 0.2, 0.3] } }
      ])
      const valence = yield* store.itemScoresOf("exp", ["vad.valence"])
      assert.deepStrictEqual(valence.map((s) => [s.runId, s.stageId, s.metric, s.key]), [
        ["run-b", "eval:b", "vad", "vad.valence"], ["run-a", "eval:a", "vad", "vad.valence"], ["run-c", "eval:a", "vad", "vad.valence"]
      ])
      assert.deepStrictEqual(valence[1]!.itemIds, ["i1", "i2", "i3"])
      assert.deepStrictEqual(valence[1]!.values, [0.5, Number.NaN, -0.25])
      const all = yield* store.itemScoresOf("exp")
      assert.deepStrictEqual(all.filter((s) => s.runId === "run-a").map((s) => s.key), ["length.tokens", "vad.arousal", "vad.valence"])
      assert.deepStrictEqual(yield* store.itemScoresOf("exp", []), [])
    })))

  it.scoped("replaces a stage's previous scores, and refuses misaligned series without touching them", () =>
    withStore(Effect.gen(function* () {
      const store = yield* seed
      yield* store.recordItemScores("eval:a" as StageId, [{ metric: "vad", itemIds: ["i1", "i2"], perItem: { "vad.valence": [1, 2], "vad.arousal": [3, 4] } }])
      yield* store.recordItemScores("eval:a" as StageId, [{ metric: "vad", itemIds: ["i9"], perItem: { "vad.valence": [5] } }])
      const replaced = (yield* store.itemScoresOf("exp")).filter((s) => s.runId === "run-a")
      assert.deepStrictEqual(replaced.map((s) => [s.key, s.itemIds, s.values]), [["vad.valence", ["i9"], [5]]])

      const misaligned = yield* Effect.flip(store.recordItemScores("eval:a" as StageId, [{ metric: "vad", itemIds: ["i1", "i2"], perItem: { "vad.valence": [1] } }]))
      assert.strictEqual(misaligned._tag, "StoreError")
      assert.include(misaligned.message, "vad key vad.valence has 1 values for 2 items")
      const twice = yield* Effect.flip(store.recordItemScores("eval:a" as StageId, [
        { metric: "a", itemIds: ["i1"], perItem: { k: [1] } }, { metric: "b", itemIds: ["i1"], perItem: { k: [2] } }
      ]))
      assert.include(twice.message, "key k appears twice")
      const metricTwice = yield* Effect.flip(store.recordItemScores("eval:a" as StageId, [
        { metric: "a", itemIds: ["i1"], perItem: { k: [1] } }, { metric: "a", itemIds: ["i1"], perItem: { j: [2] } }
      ]))
      assert.include(metricTwice.message, "metric a appears twice")
      assert.deepStrictEqual((yield* store.itemScoresOf("exp")).filter((s) => s.runId === "run-a").map((s) => s.values), [[5]])
      const unknown = yield* Effect.flip(store.itemScoresOf("nope"))
      assert.strictEqual(unknown._tag, "ExperimentNotFoundError")
    })))

  it.scoped("a batch that fails inside SQLite leaves the previous scores in place", () =>
    withStore(Effect.gen(function* () {
      const store = yield* seed
      const sql = yield* SqlClient.SqlClient
      yield* store.recordItemScores("eval:a" as StageId, [{ metric: "vad", itemIds: ["i1"], perItem: { "vad.valence": [1] } }])
      // Fails the last INSERT, after the DELETE of the old rows ran in the same transaction.
      yield* sql`CREATE TRIGGER refuse_boom BEFORE INSERT ON item_scores WHEN NEW.key = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`
      const failed = yield* Effect.flip(store.recordItemScores("eval:a" as StageId, [
        { metric: "vad", itemIds: ["i1", "i2"], perItem: { "vad.valence": [2, 3], boom: [4, 5] } }
      ]))
      assert.strictEqual(failed._tag, "StoreError")
      assert.include(failed.message, "boom refused")
      assert.deepStrictEqual((yield* store.itemScoresOf("exp")).filter((s) => s.runId === "run-a").map((s) => [s.itemIds, s.values]), [[["i1"], [1]]])
    })))

  it.scoped("unpacks into one row per item for SQL, NaN as NULL", () =>
    withStore(Effect.gen(function* () {
      const store = yield* seed
      const sql = yield* SqlClient.SqlClient
      yield* store.recordItemScores("eval:b" as StageId, [{ metric: "vad", itemIds: ["i1", "i2"], perItem: { "vad.valence": [0.1 + 0.2, Number.NaN] } }])
      const rows = yield* sql`SELECT stage_id, metric, key, position, item_id, value FROM item_score_rows ORDER BY position`
      assert.deepStrictEqual(rows, [
        { stageId: "eval:b", metric: "vad", key: "vad.valence", position: 0, itemId: "i1", value: 0.1 + 0.2 },
        { stageId: "eval:b", metric: "vad", key: "vad.valence", position: 1, itemId: "i2", value: null }
      ])
    })))
})
