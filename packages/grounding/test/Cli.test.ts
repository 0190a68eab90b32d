import { describe, expect, it } from "@effect/vitest"
import { ED_EMOTIONS } from "@empo/core"
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

// The test runner sets FORCE_COLOR; beside NO_COLOR it makes Node warn on stderr, which these tests read.
const plainEnv = () => {
  const { FORCE_COLOR: _force, ...env } = process.env
  return { ...env, NO_COLOR: "1" }
}

// Spawns the real `npx empo` from the repository root, as a user would. Asynchronously: a synchronous spawn
// blocks the test worker, and several in a row outlast vitest's 60 s RPC timeout ("Timeout calling onTaskUpdate").
const empo = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile("npx", ["empo", ...args], { cwd: repoRoot(), encoding: "utf8", env: plainEnv(), maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    })
  })

// Each `npx empo` start compiles TypeScript with tsx: allow for a busy 2-core CI machine.
const SPAWN_TIMEOUT = 180_000
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-cli-"))
// The first 40 records of the real val.csv (records, not lines: quoted fields are single-line here).
const realLines = fs.readFileSync(sharedData("empathetic_dialogues", "val.csv"), "utf8").split("\n").slice(0, 41)

// The context column is the only `,<label>,` cell followed by the situation and `,train|val|test,`.
const contextCell = new RegExp(`,(${ED_EMOTIONS.join("|")}),(?=("[^"]*"|[^,"]*),(train|val|test),)`)
const replaceContext = (line: string, label: string) => line.replace(contextCell, `,${label},`)
const BAD_EMOTION_LINE = 1 + realLines.findIndex((l, i) => i > 5 && contextCell.test(l))

const corrupt = (name: string, edit: (lines: Array<string>) => Array<string>) => {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, "val.csv"), edit([...realLines]).join("\n"))
  return dir
}

const build = (source: string, out: string, extra: ReadonlyArray<string> = []) =>
  empo(["data", "build", "--source", source, "--split", "all", "--grounder", "plutchik-1", "--kind", "dpo", "--out", out, ...extra])

describe("npx empo data build on corrupted CSVs", () => {
  const cases: ReadonlyArray<{ name: string; edit: (lines: Array<string>) => Array<string>; expect: RegExp }> = [
    {
      name: "truncated-line",
      edit: (lines) => [...lines.slice(0, 30), lines[30]!.slice(0, 60)],
      expect: /val\.csv:31: malformed row: (unterminated quoted field|expected 23 columns, found \d+)/
    },
    {
      name: "unknown-emotion",
      edit: (lines) => lines.map((l, i) => (i === BAD_EMOTION_LINE - 1 ? replaceContext(l, "elated") : l)),
      expect: /val\.csv:\d+: malformed row: unknown emotion label "elated" .* \(field `context`\)/
    },
    {
      name: "missing-column",
      edit: (lines) => lines.map((l, i) => (i === 0 ? l.replace(",context,", ",emotion,") : l)),
      expect: /val\.csv:1: header lacks the required column `context` \(field `context`\)/
    }
  ]
  for (const c of cases) {
    it(`${c.name}: exit 2, one clear paragraph, nothing written`, async () => {
      const dir = corrupt(c.name, c.edit)
      const out = path.join(tmp, `${c.name}-out`, "dpo.jsonl")
      const r = await build(dir, out)
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(c.expect)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(fs.existsSync(path.dirname(out))).toBe(false)
    }, SPAWN_TIMEOUT)
  }

  it("with --allow-malformed the bad row is skipped and listed in the manifest; inspect counts it", async () => {
    const dir = path.join(tmp, "unknown-emotion")
    const out = path.join(tmp, "lenient", "dpo.jsonl")
    const r = await build(dir, out, ["--allow-malformed", "--json"])
    expect(r.code).toBe(0)
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, "utf8")) as { malformedRows: number; malformed: Array<{ line: number; field: string }>; rows: number }
    expect(manifest.malformedRows).toBe(1)
    expect(manifest.malformed[0]).toMatchObject({ line: BAD_EMOTION_LINE, field: "context" })
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: manifest.rows })
    const inspect = await empo(["data", "inspect", "--source", dir, "--json"])
    expect(inspect.code).toBe(0)
    expect(JSON.parse(inspect.stdout)).toMatchObject({ format: "ed-pairs", malformedCount: 1 })
  }, SPAWN_TIMEOUT)

  it("--strict states the default explicitly; combined with --allow-malformed it is refused", async () => {
    const dir = corrupt("strict-flag", (lines) => lines.map((l, i) => (i === BAD_EMOTION_LINE - 1 ? replaceContext(l, "elated") : l)))
    const strictOut = path.join(tmp, "strict", "dpo.jsonl")
    const strict = await build(dir, strictOut, ["--strict"])
    expect(strict.code).toBe(2)
    expect(strict.stderr).toMatch(/unknown emotion label "elated"/)
    expect(fs.existsSync(path.dirname(strictOut))).toBe(false)
    const both = await build(dir, path.join(tmp, "both", "dpo.jsonl"), ["--strict", "--allow-malformed"])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/--strict and --allow-malformed contradict/)
  }, SPAWN_TIMEOUT)

  it("bytes that are not UTF-8: exit 2 with one file:line message and nothing written; --allow-malformed skips and lists the row", async () => {
    const dir = path.join(tmp, "not-utf8")
    fs.mkdirSync(dir)
    const bad = Buffer.from(realLines[BAD_EMOTION_LINE - 1]!, "utf8")
    const comma = bad.indexOf(",", 40)
    const corrupted = Buffer.concat([bad.subarray(0, comma), Buffer.from([0xff, 0xfe]), bad.subarray(comma)])
    const lines = realLines.map((l, i) => (i === BAD_EMOTION_LINE - 1 ? corrupted : Buffer.from(l, "utf8")))
    fs.writeFileSync(path.join(dir, "val.csv"), Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])))
    const out = path.join(tmp, "not-utf8-out", "dpo.jsonl")
    const strict = await build(dir, out)
    expect(strict.code).toBe(2)
    const errorLines = strict.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("building "))
    expect(errorLines, strict.stderr).toHaveLength(1)
    expect(errorLines[0]).toMatch(new RegExp(`not-utf8/val\\.csv:${BAD_EMOTION_LINE}: file is not valid UTF-8`))
    expect(fs.existsSync(path.dirname(out))).toBe(false)
    const lenient = await build(dir, out, ["--allow-malformed"])
    expect(lenient.code).toBe(0)
    expect(lenient.stdout).toContain(`val.csv:${BAD_EMOTION_LINE}: not valid UTF-8`)
    const manifest = JSON.parse(fs.readFileSync(`${out}.manifest.json`, "utf8")) as { malformedRows: number; malformed: Array<{ line: number; reason: string }> }
    expect(manifest.malformedRows).toBe(1)
    expect(manifest.malformed[0]).toMatchObject({ line: BAD_EMOTION_LINE, reason: expect.stringContaining("not valid UTF-8") })
    expect(fs.readFileSync(out, "utf8")).not.toContain("\uFFFD")
  }, 2 * SPAWN_TIMEOUT)

  it("--limit counts rows of the file and --limit-prompts prompts; the manifest is true to the file", async () => {
    const out = path.join(tmp, "limits", "dpo.jsonl")
    const r = await empo(["data", "build", "--source", sharedData("empathetic_dialogues"), "--split", "valid", "--grounder", "plutchik-1", "--kind", "dpo", "--limit-prompts", "20", "--limit", "7", "--out", out, "--json"])
    expect(r.code).toBe(0)
    const manifest = JSON.parse(r.stdout) as { rows: number; limit: number; limitPrompts: number; prompts: number; output: { sha256: string } }
    expect(manifest).toMatchObject({ rows: 7, limit: 7, limitPrompts: 20, prompts: 20 })
    const bytes = fs.readFileSync(out)
    expect(bytes.toString("utf8").trimEnd().split("\n")).toHaveLength(7)
    expect(manifest.output.sha256).toBe(createHash("sha256").update(bytes).digest("hex"))
  }, SPAWN_TIMEOUT)

  it("an unknown flag value is a usage error (exit 2)", async () => {
    const r = await empo(["data", "build", "--source", tmp, "--split", "test", "--kind", "ppo", "--out", path.join(tmp, "x.jsonl")])
    expect(r.code).toBe(2)
  }, SPAWN_TIMEOUT)
})
