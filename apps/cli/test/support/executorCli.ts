/**
 * Running the built `empo` against the loopback executors of tools/cluster/stack.sh and reading its store while it
 * runs: shared by executorSsh.test.ts and executorFaults.test.ts.
 */
import { repoRoot, sharedDataDir } from "@empo/core/testing/sharedData"
import Database from "better-sqlite3"
import { randomInt } from "node:crypto"
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

export const root = repoRoot()
export const inventory = path.join(root, ".empo/cluster/executors.yaml")
export const empo = path.join(root, "apps/cli/bin/empo.mjs")
export const cliEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env, NO_COLOR: "1", EMPO_DATA_DIR: sharedDataDir(),
  EMPO_PUNKT: path.join(sharedDataDir(), "nltk/punkt_english.json"), ...extra
})

/**
 * Starts the loopback stack unless it is up with its inventory written (CI starts it once). `up` rewrites the
 * stack's config files with this checkout's paths, so a second worktree on a shared stack leaves it alone.
 */
export const ensureStack = () => {
  const script = path.join(root, "tools/cluster/stack.sh")
  const status = execFileSync("bash", [script, "status"], { cwd: root, encoding: "utf8" })
  if (/: down/.test(status) || !fs.existsSync(inventory)) execFileSync("bash", [script, "up"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] })
}

const children: Array<ChildProcess> = []
/** For `afterEach`: no `empo run` outlives its test. */
export const killChildren = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
}

/** `empo …` in the background: its process, its exit code to come, and what it printed so far (both streams). */
export const spawnEmpo = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = cliEnv()) => {
  const child = spawn(process.execPath, [empo, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  let output = ""
  child.stdout!.on("data", (c) => (output += c))
  child.stderr!.on("data", (c) => (output += c))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, exited, output: () => output, report: () => reportOf(output) }
}

/**
 * For an assertion's message: the lines that say what failed first, then the last lines. CI logs keep only part
 * of a long message, and a whole run's progress buries its one failure line.
 */
export const reportOf = (output: string, last = 40): string => {
  const lines = output.split("\n")
  const failures = lines.filter((l) => /fail|error|crash|lost|refused|cancel/i.test(l)).slice(0, 20)
  return [`failure lines (${failures.length}):`, ...failures, `last ${last} of ${lines.length} lines:`, ...lines.slice(-last)].join("\n")
}

// Asynchronous, so a slow start never blocks the test worker's event loop (vitest's RPC times out otherwise).
export const cli = (...args: Array<string>) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
  const child = execFile(process.execPath, [empo, ...args], { cwd: root, env: cliEnv(), encoding: "utf8", maxBuffer: 64 * 2 ** 20 }, (_error, stdout, stderr) =>
    resolve({ status: child.exitCode, stdout, stderr }))
})

/** Rows of a read-only query on a run store that may not exist yet or be mid-write (then no rows). */
export const query = <T>(db: string, sql: string, ...params: Array<unknown>): Array<T> => {
  if (!fs.existsSync(db)) return []
  try {
    const reader = new Database(db, { readonly: true, fileMustExist: true })
    try {
      return reader.prepare(sql).all(...params) as Array<T>
    } finally {
      reader.close()
    }
  } catch {
    return []
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` until it returns a value (not undefined), the runner exits, or `ms` pass; then that value or undefined. */
export const waitFor = async <A>(probe: () => A | undefined, runner: ChildProcess, ms = 600_000): Promise<A | undefined> => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline && runner.exitCode === null) {
    const value = probe()
    if (value !== undefined) return value
    await sleep(100)
  }
  return probe()
}

export interface StageRow { id: string; run_id?: string; kind: string; status: string; executor: string | null; job_id: string | null; attempts: number; error?: string | null }
export interface JobRow { job_key: string; stage_id: string; host: string; job_id: string; state: string; locator_json: string }

/** The store's training loss steps of one stage, in order. */
export const lossSteps = (db: string, stageId: string): Array<number> =>
  query<{ step: number }>(db, "SELECT step FROM metric_points WHERE stage_id = ? AND key = 'loss' ORDER BY step", stageId).map((r) => r.step)

/**
 * A small experiment: the tiny model and an sft stage of `maxSteps`, then (with `generate`) a two-row generation;
 * `extra` lines appended. Without the generation it saves one remote job's Python start (10–20 s on two cores).
 * A fresh seed each time makes fresh stage ids: an executor keys its checkpoint folders by stage id in a work dir
 * every store shares, and a test must not resume from what an earlier (failed) test left there.
 */
export const miniExperiment = (dir: string, name: string, maxSteps: number, options: { readonly generate: boolean; readonly extra?: ReadonlyArray<string> }): string => {
  const file = path.join(dir, `${name}.yaml`)
  fs.writeFileSync(file, [
    `name: ${name}`,
    "data:",
    "  source: ${EMPO_DATA_DIR}/empathetic_dialogues",
    "  split: valid",
    "  negatives: 1",
    "  limit: 64",
    "model: { kind: tiny, layers: 1, hidden: 32, heads: 2, vocab: 500, maxPositions: 128 }",
    `seeds: [${randomInt(1, 2 ** 31)}]`,
    "stages:",
    "  sft:",
    "    optimizer: sft",
    "    preset: tiny-cpu",
    `    params: { maxSteps: ${maxSteps} }`,
    ...(options.generate ? ["  generate:", "    split: test", "    limit: 2", "    batchSize: 2", "    maxNewTokens: 4"] : []),
    ...(options.extra ?? [])
  ].join("\n"))
  return file
}
