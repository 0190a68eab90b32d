import * as fs from "node:fs"
import * as path from "node:path"

/**
 * Test-only: where the real third-party data lives (`EMPO_DATA_DIR`, else `../shared/data` beside the
 * checkout). It is never committed into the project.
 */
export const sharedDataDir = (): string => {
  const fromEnv = process.env["EMPO_DATA_DIR"]
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv
  const repoRoot = path.resolve(import.meta.dirname, "../../../..")
  const candidate = path.resolve(repoRoot, "../shared/data")
  if (!fs.existsSync(candidate)) throw new Error(`shared test data not found at ${candidate}; set EMPO_DATA_DIR`)
  return candidate
}

/** Absolute path of a file under the shared data directory. */
export const sharedData = (...segments: ReadonlyArray<string>): string => path.join(sharedDataDir(), ...segments)

/** The repository root (for tests that run the CLI or the Python worker). */
export const repoRoot = (): string => path.resolve(import.meta.dirname, "../../../..")
