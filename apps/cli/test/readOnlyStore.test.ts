// Reading commands open the run store read-only: a read-only database is listed and compared without being
// modified, and a file that is not a run store fails with one line naming it (exit 2), never a stack trace.
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { readOnlyReleaseStore } from "./support/releaseStore.ts"

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

describe("reading commands and the store file", () => {
  it.live("`runs ls`, `runs show` and `compare` read a read-only store of release 0.1 and leave its bytes alone", () =>
    Effect.gen(function* () {
      const { dir, db } = readOnlyReleaseStore("empo-readonly-")
      const before = sha256(db)
      const ls = yield* empoInProcess(["runs", "ls", "--db", db, "--json"], PluginsLive)
      assert.strictEqual(ls.exit._tag, "Success")
      const runs = JSON.parse(ls.stdout) as ReadonlyArray<{ id: string }>
      assert.strictEqual(runs.length, 3)
      const show = yield* empoInProcess(["runs", "show", runs[0]!.id, "--db", db, "--json"], PluginsLive)
      assert.strictEqual(show.exit._tag, "Success")
      const compare = yield* empoInProcess(["compare", "quickstart", "--db", db, "--format", "json"], PluginsLive)
      assert.strictEqual(compare.exit._tag, "Success")
      assert.include(compare.stdout, "vad.diff_max_v_abs_mean")
      assert.strictEqual(sha256(db), before)
      fs.rmSync(dir, { recursive: true, force: true })
    }))

  it.live("a file that is not a SQLite database: exit 2, one line naming it, file unchanged", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-notadb-"))
      const db = path.join(dir, "notes.db")
      fs.writeFileSync(db, "these are my notes, not a database\n")
      for (const args of [["runs", "ls"], ["compare", "quickstart"]]) {
        const { exit } = yield* empoInProcess([...args, "--db", db], PluginsLive)
        const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) as { message: string; exitCode: number } | undefined : undefined
        assert.isDefined(error, `${args.join(" ")} should fail`)
        assert.strictEqual(error!.exitCode, 2)
        assert.strictEqual(error!.message, `${db} is not an EmPO run store (not a SQLite database): file is not a database`)
      }
      assert.strictEqual(fs.readFileSync(db, "utf8"), "these are my notes, not a database\n")
      fs.rmSync(dir, { recursive: true, force: true })
    }))
})
