import { assert, describe, it } from "@effect/vitest"
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { isUserFacingError } from "@empo/core"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { empoProcess } from "./support/cliProcess.ts"


/** `empo human serve --port 0` as a real process; resolves with its base URL once it listens. */
const serve = (db: string, study: string) =>
  new Promise<{ child: ChildProcess; base: string }>((resolve, reject) => {
    const child = spawn("npx", ["empo", "human", "serve", "--db", db, "--study", study, "--port", "0", "--admin-token", "adm"], { cwd: repoRoot(), detached: true })
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)
      if (m !== null) resolve({ child, base: m[1]! })
    })
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${out}`)))
  })

const kill = (child: ChildProcess, signal: NodeJS.Signals) => new Promise<void>((resolve) => {
  child.removeAllListeners("exit")
  child.on("exit", () => resolve())
  process.kill(-child.pid!, signal)
})

const rate = async (base: string, cookie: string) => {
  const page = await (await fetch(`${base}item`, { headers: { cookie } })).text()
  const assignment = /name="assignment" value="([\d.]+)"/.exec(page)![1]!
  const res = await fetch(`${base}item`, {
    method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ assignment, Dim1: "70", Dim2: "60", Dim3: "50", Dim4: "40", Dim5: "1" })
  })
  assert.strictEqual(res.status, 303)
  return assignment
}

/** `empo …` in this process (cheap); the exit code and message as bin.ts would report them. */
const inProcess = async (args: ReadonlyArray<string>) => {
  const { exit, stdout } = await Effect.runPromise(empoInProcess(args, PluginsLive))
  if (Exit.isSuccess(exit)) return { code: 0, stdout, stderr: "" }
  const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
  return isUserFacingError(error) ? { code: error.exitCode, stdout, stderr: error.message } : { code: 1, stdout, stderr: Cause.pretty(exit.cause) }
}

describe("empo human", () => {
  it("analyze --json on the study's he_data.csv", async () => {
    const { code, stdout } = await empoProcess(["human", "analyze", "--ratings", sharedData("human_eval", "he_data.csv"), "--json"])
    assert.strictEqual(code, 0)
    const result = JSON.parse(stdout)
    assert.deepStrictEqual(Object.keys(result), ["conditions", "pairs", "alpha", "length_r"])
    assert.deepStrictEqual(Object.keys(result.conditions).sort(), ["SFT", "human_targets", "zephyr_base", "zephyr_base_output_limit", "zephyr_dpo"])
    assert.strictEqual(result.conditions.zephyr_base.Dim1.mean.toFixed(2), "80.38")
    assert.strictEqual(result.conditions.human_targets.Dim2.mean.toFixed(2), "60.27")
    assert.deepStrictEqual(Object.keys(result.conditions.SFT.Dim5), ["mean", "sd", "n"])
    assert.strictEqual(result.pairs.length, 4 * 5 * 4)
    assert.includeMembers(Object.keys(result.pairs[0]), ["dim", "a", "b", "t", "p", "d"])
    assert.deepStrictEqual(Object.keys(result.alpha), ["Dim1", "Dim2", "Dim3", "Dim4", "Dim5"])
    const holm = JSON.parse((await empoProcess(["human", "analyze", "--ratings", sharedData("human_eval", "he_data.csv"), "--json", "--holm"])).stdout)
    assert.isBelow(holm.pairs.filter((p: { significant: boolean }) => p.significant).length, result.pairs.filter((p: { significant: boolean }) => p.significant).length + 1)
    assert.isTrue(holm.pairs.every((p: { p: number; p_holm: number }) => p.p_holm >= p.p))
  }, 120_000)

  it("batch → serve (killed mid-way and restarted) → export → analyze", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-human-cli-"))
    const db = path.join(dir, "empo.db")
    const conditions = ["--condition", `zephyr_base=${sharedData("predictions", "baseline_zephyr-7b-sft-full.txt")}`,
      "--condition", `zephyr_dpo=${sharedData("predictions", "dpo_zephyr-7b-sft-full124_d270.txt")}`, "--condition", "human_targets=gold"]
    const small = ["--per-emotion", "1", "--items", "4", "--extra-emotions", "", "--raters-per-item", "1", "--items-per-rater", "4"]
    const bad = await inProcess(["human", "batch", "--db", db, "--study", "s1", "--condition", "nonsense", "--condition", "b=gold", ...small])
    assert.strictEqual(bad.code, 2)
    assert.match(bad.stderr, /NAME=SOURCE.*field `--condition`/)
    const missing = await inProcess(["human", "batch", "--db", db, "--study", "s1", "--condition", "a=/nonexistent.txt", "--condition", "b=gold", ...small])
    assert.strictEqual(missing.code, 2)
    assert.match(missing.stderr, /nonexistent\.txt/)
    const made = await inProcess(["human", "batch", "--db", db, "--study", "s1", ...conditions, ...small, "--completion-code", "DONE7", "--json"])
    assert.strictEqual(made.code, 0, made.stderr)
    assert.deepStrictEqual(JSON.parse(made.stdout), { study: "s1", conditions: ["zephyr_base", "zephyr_dpo", "human_targets"], items: 4, bundles: 3, ratings: 12, completionCode: "DONE7" })
    assert.strictEqual((await inProcess(["human", "batch", "--db", db, "--study", "s1", ...conditions, ...small])).code, 2, "a study id is never reused")

    let server = await serve(db, "s1")
    const entry = await fetch(`${server.base}?u=r1`, { redirect: "manual" })
    const cookie = entry.headers.get("set-cookie")!.split(";")[0]!
    await fetch(`${server.base}start`, { method: "POST", redirect: "manual", headers: { cookie } })
    const rated = [await rate(server.base, cookie), await rate(server.base, cookie)]
    const next = /name="assignment" value="([\d.]+)"/.exec(await (await fetch(`${server.base}item`, { headers: { cookie } })).text())![1]
    await kill(server.child, "SIGKILL")
    server = await serve(db, "s1")
    const resumed = await (await fetch(`${server.base}item`, { headers: { cookie } })).text()
    assert.include(resumed, `value="${next}"`)
    assert.include(resumed, "Item 3 of 4")
    rated.push(await rate(server.base, cookie), await rate(server.base, cookie))
    assert.include(await (await fetch(`${server.base}done`, { headers: { cookie } })).text(), "DONE7")
    assert.strictEqual((await fetch(`${server.base}admin`)).status, 401)
    await kill(server.child, "SIGTERM")

    const ls = await inProcess(["human", "ls", "--db", db, "--json"])
    assert.deepInclude(JSON.parse(ls.stdout)[0], { id: "s1", ratings: 4, expected: 12, raters: 1, completedRaters: 1 })
    const out = path.join(dir, "ratings.csv")
    assert.strictEqual((await inProcess(["human", "export", "--db", db, "--study", "s1", "--out", out])).code, 0)
    const csv = fs.readFileSync(out, "utf8")
    assert.isTrue(csv.startsWith(",sample_index,Dim1,Dim2,Dim3,Dim4,Dim5,annotator,ED_index,chat_templates,gen_targets,prevs,emotions,gens,chat_cut,tidy_chat,model\n"))
    const fromCsv = JSON.parse((await inProcess(["human", "analyze", "--ratings", out, "--json"])).stdout)
    const fromStore = JSON.parse((await inProcess(["human", "analyze", "--db", db, "--ratings", "s1", "--json"])).stdout)
    assert.deepStrictEqual(fromCsv.conditions, fromStore.conditions)
    const n = Object.values(fromStore.conditions as Record<string, { Dim1: { n: number; mean: number } }>)
    assert.strictEqual(n.reduce((acc, c) => acc + c.Dim1.n, 0), 4)
    assert.isTrue(n.every((c) => c.Dim1.mean === 70))
  }, 180_000)
})
