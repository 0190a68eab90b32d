import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Context, Effect, Layer } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { RunStore, type StageId } from "../src/index.ts"

const fixture = new URL("./fixtures/release-0.1.db", import.meta.url).pathname

/** The file's bytes and modification time: what "never modified" means. */
const fingerprint = (file: string) => ({
  sha256: crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex"),
  mtimeMs: fs.statSync(file).mtimeMs
})

const tempDir = Effect.flatMap(FileSystem.FileSystem, (files) => files.makeTempDirectoryScoped())

const openError = <E, R>(layer: Layer.Layer<RunStore, E, R>) =>
  Effect.flip(Effect.provide(RunStore, layer))

describe("RunStore.layerReadOnly", () => {
  it.scoped("lists a read-only store from release 0.1 as it is, without migrating or touching the file", () =>
    Effect.gen(function* () {
      const file = `${yield* tempDir}/empo.db`
      fs.copyFileSync(fixture, file)
      fs.chmodSync(file, 0o444)
      const before = fingerprint(file)
      yield* Effect.gen(function* () {
        const store = yield* RunStore
        const runs = yield* store.listRuns()
        assert.deepStrictEqual(runs.map((r) => r.id).sort(), ["3b047d846f00", "7ef9159ab2a9", "d32a124b47df"])
        const detail = yield* store.showRun("7ef9")
        assert.strictEqual(detail.stages.length, 8)
        assert.isNull(detail.stages[0]!.executor, "no executor column before migration 0003")
        assert.isAbove(detail.summary.length, 40)
        // Not migrated, yet its summaries read by stage role, as a migrated store's do.
        const keys = detail.summary.map((s) => s.key)
        assert.includeMembers(keys, ["sft.loss", "preference.loss", "dataset-sft.rows", "model.parameters"])
        assert.strictEqual(new Set(keys).size, keys.length)
        const summary = (yield* store.comparisonData("quickstart")).summary
        assert.isFalse(summary.some((s) => s.key.startsWith("train.") || s.key.startsWith("dataset.")))
        assert.deepStrictEqual(yield* store.summaryOf("quickstart"), summary)
        assert.strictEqual((yield* store.comparisonData("quickstart")).runs.length, 3)
        assert.deepStrictEqual(yield* store.attemptsOf(detail.stages[0]!.id), [])
        assert.deepStrictEqual(yield* store.itemScoresOf("quickstart"), [])
        const write = yield* Effect.flip(store.setRunStatus(runs[0]!.id, "failed"))
        assert.include(write.message, "readonly")
      }).pipe(Effect.provide(RunStore.layerReadOnly(file)))
      assert.deepStrictEqual(fingerprint(file), before)
      const check = new Database(file, { readonly: true })
      assert.deepStrictEqual(check.prepare("SELECT migration_id FROM effect_sql_migrations").pluck().all(), [1])
      check.close()
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("reads a migrated store, old ids included, while its writer may be running", () =>
    Effect.gen(function* () {
      const file = `${yield* tempDir}/empo.db`
      fs.copyFileSync(fixture, file)
      yield* Effect.provide(Effect.asVoid(RunStore), RunStore.layer(file))
      yield* Effect.gen(function* () {
        const writer = yield* RunStore
        const reader = Context.get(yield* Layer.build(RunStore.layerReadOnly(file)), RunStore)
        const stage = (yield* reader.showRun("7ef9159ab2a9")).stages[0]!.id
        yield* writer.stageStarted(stage as StageId, { executor: "local", host: "h", pid: 1, leaseMillis: 1000 })
        assert.strictEqual((yield* reader.attemptsOf(stage)).at(-1)!.status, "running")
        assert.strictEqual((yield* reader.listRuns()).length, 3)
      }).pipe(Effect.provide(RunStore.layer(file)))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("names the path of a file that is not a database, exit code 2, and leaves it as it was", () =>
    Effect.gen(function* () {
      const file = `${yield* tempDir}/notes.db`
      fs.writeFileSync(file, "these are my notes, not a database\n".repeat(200))
      const before = fingerprint(file)
      for (const layer of [RunStore.layerReadOnly(file), RunStore.layer(file)]) {
        const error = yield* openError(layer)
        assert.strictEqual(error._tag, "NotARunStoreError")
        assert.strictEqual(error.message, `${file} is not an EmPO run store (not a SQLite database): file is not a database`)
        assert.strictEqual((error as { exitCode: number }).exitCode, 2)
      }
      assert.deepStrictEqual(fingerprint(file), before)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("refuses another program's SQLite database instead of adding tables to it", () =>
    Effect.gen(function* () {
      const file = `${yield* tempDir}/other.db`
      const other = new Database(file)
      other.exec("CREATE TABLE songs (title TEXT)")
      other.close()
      const before = fingerprint(file)
      for (const layer of [RunStore.layerReadOnly(file), RunStore.layer(file)]) {
        const error = yield* openError(layer)
        assert.strictEqual(error.message, `${file} is not an EmPO run store (a SQLite database without EmPO's tables): it has no runs table`)
      }
      assert.deepStrictEqual(fingerprint(file), before)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("does not create a store that is not there", () =>
    Effect.gen(function* () {
      const file = `${yield* tempDir}/nothing-yet/empo.db`
      const error = yield* openError(RunStore.layerReadOnly(file))
      assert.strictEqual(error._tag, "RunStoreMissingError")
      assert.include(error.message, file)
      assert.isFalse(fs.existsSync(file))
    }).pipe(Effect.provide(NodeContext.layer)))
})
