import * as os from "node:os"
import * as path from "node:path"
import { defineConfig } from "vitest/config"

// `npm test` sets EMPO_TEST_RESULTS so every project also writes a JSON report that
// tools/test/run-all.mjs sums into one "N passed, N failed" line.
const resultsDir = process.env["EMPO_TEST_RESULTS"]
const projectId = path.relative(path.resolve(import.meta.dirname), process.cwd()).replaceAll(path.sep, "__")

// Vitest's default in a run is one fork per core but one, so a two-core CI ran every file in turn while most of
// the time went to Python processes using one core each (torch imports, tiny models): two forks there at least.
const forks = Math.max(2, os.availableParallelism() - 1)

// Shared by every project's vitest.config.ts; long timeouts because some suites drive real Python/TRL.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx", "src/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: forks, minForks: 1 } },
    reporters: resultsDir === undefined
      ? ["default"]
      : ["default", ["json", { outputFile: path.join(resultsDir, `${projectId || "root"}.json`) }]]
  }
})
