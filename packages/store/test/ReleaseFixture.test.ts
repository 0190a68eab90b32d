import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { shortHash } from "@empo/core/ContentHash"
import { Effect } from "effect"
import * as fs from "node:fs"
import { RunStore, runIdOf } from "../src/index.ts"

// Written by release 0.1 running the real quickstart (`npm run quickstart`), with `empo compare quickstart --json`
// of it beside; never opened in place (even a read-only open of a WAL database adds -shm/-wal files beside it).
const fixture = new URL("./fixtures/release-0.1.db", import.meta.url).pathname
const compareJson = JSON.parse(fs.readFileSync(new URL("./fixtures/release-0.1.compare.json", import.meta.url), "utf8")) as {
  readonly rows: ReadonlyArray<{ readonly runs: ReadonlyArray<string>; readonly metrics: Readonly<Record<string, { readonly mean: number }>> }>
}

interface ReleaseRun {
  readonly id: string
  readonly configJson: string
  readonly status: string
}

/** Release 0.1's summary keys of the whole experiment, named by stage role. */
const assertRoleNamed = (keys: ReadonlyArray<string>) => {
  assert.isFalse(keys.some((k) => k.startsWith("train.") || k.startsWith("dataset.")), "no train.* or dataset.* key is left")
  for (const key of ["sft.loss", "preference.loss", "preference.rewards/margins", "dataset-sft.rows", "dataset-preference.rows",
    "model.parameters", "items.count", "generate.seconds", "vad.diff_max_v_abs_mean"]) {
    assert.include(keys, key)
  }
}

describe("a store written by release 0.1", () => {
  it.scoped("migrates with every run listed, reachable by its old id and comparable with the same values", () =>
    Effect.gen(function* () {
      const files = yield* FileSystem.FileSystem
      const file = `${yield* files.makeTempDirectoryScoped()}/empo.db`
      yield* files.copyFile(fixture, file)
      const before = new Database(file, { readonly: true })
      const oldRuns = before.prepare("SELECT id, config_json AS configJson, status FROM runs").all() as Array<ReleaseRun>
      const oldSummary = before.prepare(`SELECT rs.run_id AS runId, rs.name AS role, m.key, m.value FROM run_stages rs
        JOIN summary_metrics m ON m.stage_id = rs.stage_id`).all() as Array<{ runId: string; role: string; key: string; value: number }>
      before.close()
      assert.strictEqual(oldRuns.length, 3)
      // The release hashed the whole configuration; re-hashing its stored JSON must give back its ids.
      for (const r of oldRuns) assert.strictEqual(shortHash(JSON.parse(r.configJson), 12), r.id)
      const newIdOf = new Map(oldRuns.map((r) => [r.id, runIdOf(JSON.parse(r.configJson))]))

      yield* Effect.gen(function* () {
        const store = yield* RunStore
        const runs = yield* store.listRuns()
        assert.sameMembers(runs.map((r) => r.id), [...newIdOf.values()])
        for (const old of oldRuns) {
          const detail = yield* store.showRun(old.id)
          assert.strictEqual(detail.run.id, newIdOf.get(old.id))
          assert.strictEqual(detail.run.status, old.status)
          assert.isFalse(detail.params.some((p) => p.key.startsWith("executor.")))
          assert.strictEqual((yield* store.showRun(old.id.slice(0, 6))).run.id, detail.run.id)
        }

        const comparison = yield* store.comparisonData("quickstart")
        assert.sameMembers(comparison.runs.map((r) => r.id), [...newIdOf.values()])
        const summaryText = (rows: ReadonlyArray<{ runId: string; key: string; value: number }>) =>
          rows.map((r) => `${r.runId} ${r.key} ${r.value}`).sort()
        // Migration 0005 names training and dataset summaries by the stage's role in the run; nothing else changes.
        const renamed = (r: { role: string; key: string }) =>
          r.key.startsWith("train.") || r.key.startsWith("dataset.") ? `${r.role}${r.key.slice(r.key.indexOf("."))}` : r.key
        assert.deepStrictEqual(summaryText(comparison.summary),
          summaryText(oldSummary.map((r) => ({ ...r, key: renamed(r), runId: newIdOf.get(r.runId)! }))))
        assert.deepStrictEqual(summaryText(yield* store.summaryOf("quickstart")), summaryText(comparison.summary))
        assertRoleNamed(comparison.summary.map((s) => s.key))
        for (const old of oldRuns) {
          // One run lists each key once: its SFT and preference losses apart, not `train.loss` twice.
          const keys = (yield* store.showRun(old.id)).summary.map((s) => s.key)
          assert.strictEqual(new Set(keys).size, keys.length)
          assert.includeMembers(keys, ["sft.loss", "preference.loss", "dataset-sft.rows"])
          assert.isFalse(keys.some((k) => k.startsWith("train.")))
        }
        const valueOf = new Map(comparison.summary.map((s) => [`${s.runId} ${s.key}`, s.value]))
        let checked = 0
        for (const row of compareJson.rows) {
          const runId = newIdOf.get(row.runs[0]!)!
          for (const [key, { mean }] of Object.entries(row.metrics)) {
            assert.strictEqual(valueOf.get(`${runId} ${key}`), mean, `${key} of ${row.runs[0]}`)
            checked++
          }
        }
        assert.isAbove(checked, 100)
        assert.strictEqual(yield* store.integrityCheck(), "ok")
      }).pipe(Effect.provide(RunStore.layer(file)))
    }).pipe(Effect.provide(NodeContext.layer)))
})
