#!/usr/bin/env node
// Runs every Nx project's vitest suite and the Python worker's pytest suite, then prints one
// plain "N passed, N failed, N skipped" line (CI reads it; vitest's own summary is per project).
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const resultsDir = path.join(root, ".test-results")
fs.rmSync(resultsDir, { recursive: true, force: true })
fs.mkdirSync(resultsDir, { recursive: true })
// Vitest runs two files at once on two cores (vitest.shared.ts): one torch thread per Python process, as the tiny
// models gain nothing from more and two processes' thread pools on two cores would wait on each other.
const env = {
  ...process.env, EMPO_TEST_RESULTS: resultsDir, NO_COLOR: "1", NX_DAEMON: "false", NX_TUI: "false",
  EMPO_TORCH_THREADS: process.env["EMPO_TORCH_THREADS"] ?? "1"
}
const extra = process.argv.slice(2)

// The tests that start `empo` exercise what users run: the bundle, rebuilt from the current sources first.
const build = spawnSync("npx", ["nx", "run-many", "-t", "build", "--output-style=static"], { cwd: root, env, stdio: "inherit" })

const nx = spawnSync("npx", ["nx", "run-many", "-t", "test", "--output-style=static", "--skip-nx-cache", ...extra],
  { cwd: root, env, stdio: "inherit" })

let passed = 0, failed = 0, skipped = 0
for (const file of fs.readdirSync(resultsDir).filter((f) => f.endsWith(".json"))) {
  const report = JSON.parse(fs.readFileSync(path.join(resultsDir, file), "utf8"))
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
  // A suite that failed to load has no tests to count but is a failure.
  failed += report.testResults.filter((r) => r.status === "failed" && r.assertionResults.length === 0).length
}

let pytestStatus = 0
const venvPython = process.env["EMPO_PYTHON"] ?? path.join(root, ".venv/bin/python")
if (extra.length === 0 && fs.existsSync(path.join(root, "python/tests"))) {
  const junit = path.join(resultsDir, "pytest.xml")
  const py = spawnSync(venvPython, ["-m", "pytest", "-q", `--junitxml=${junit}`, "python/tests"], { cwd: root, env, stdio: "inherit" })
  pytestStatus = py.status === 5 ? 0 : (py.status ?? 1)
  if (fs.existsSync(junit)) {
    const suite = fs.readFileSync(junit, "utf8").match(/<testsuite [^>]*>/)?.[0] ?? ""
    const attr = (name) => Number(suite.match(new RegExp(`${name}="(\\d+)"`))?.[1] ?? 0)
    const pyFailed = attr("failures") + attr("errors")
    skipped += attr("skipped")
    passed += attr("tests") - pyFailed - attr("skipped")
    failed += pyFailed
  } else if (pytestStatus !== 0) {
    failed += 1
  }
}

const nxFailedWithoutReport = nx.status !== 0 && failed === 0 ? 1 : 0
failed += nxFailedWithoutReport
if (build.status !== 0) {
  console.log("the build of the empo bundle failed (see above)")
  failed += 1
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(build.status !== 0 || nx.status !== 0 || pytestStatus !== 0 || failed > 0 ? 1 : 0)
