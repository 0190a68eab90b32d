import * as path from "node:path"
import { defineConfig } from "vitest/config"

// `npm test` sets EMPO_TEST_RESULTS so every project also writes a JSON report that
// tools/test/run-all.mjs sums into one "N passed, N failed" line.
const resultsDir = process.env["EMPO_TEST_RESULTS"]
const projectId = path.relative(path.resolve(import.meta.dirname), process.cwd()).replaceAll(path.sep, "__")

// Shared by every project's vitest.config.ts; long timeouts because some suites drive real Python/TRL.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx", "src/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    reporters: resultsDir === undefined
      ? ["default"]
      : ["default", ["json", { outputFile: path.join(resultsDir, `${projectId || "root"}.json`) }]]
  }
})
