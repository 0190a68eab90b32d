// A read-only copy of release 0.1's run store (packages/store/test/fixtures/release-0.1.db) in a fresh temp
// folder: reading commands must work on it without migrating or touching it.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const releaseFixture = path.resolve(import.meta.dirname, "../../../../packages/store/test/fixtures/release-0.1.db")

export const readOnlyReleaseStore = (prefix: string): { readonly dir: string; readonly db: string } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const db = path.join(dir, "empo.db")
  fs.copyFileSync(releaseFixture, db)
  fs.chmodSync(db, 0o444)
  return { dir, db }
}
