/**
 * Rater-app load test: `npx tsx tools/bench/human/bench.ts [--raters 50]`. Loopback only, bounded (every request
 * has a 10 s timeout, the whole run 120 s).
 *   A study of 55 items × 3 conditions × 5 ratings = 825 units in 55 bundles of 15 is served by a real
 *   `empo human serve` process; 50 simulated raters enter through Prolific-style links at once and submit their
 *   15 ratings concurrently, each also replaying one submit (which must be refused). Afterwards the store must hold
 *   exactly the 765 ratings sent, each equal to what its rater sent: no lost and no duplicated rating.
 *   Baseline, same run and server: one rater alone submitting 15 ratings (the latency without contention).
 */
import Database from "better-sqlite3"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../../..")
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? fallback : Number(process.argv[at + 1])
}
const raters = arg("raters", 50)
const perRater = 15
// Bundles of 15 from 3 conditions × 5 ratings: items a multiple of 5 fills every bundle; one per rater plus the baseline's.
const items = Math.ceil((raters + 1) / 5) * 5
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-bench-human-"))
const db = path.join(dir, "empo.db")
const deadline = setTimeout(() => {
  process.stderr.write("load test exceeded 120 s\n")
  process.exit(1)
}, 120_000)

const emotions = ["proud", "sad", "afraid", "joyful", "angry"]
for (const name of ["a", "b"]) {
  fs.writeFileSync(path.join(dir, `${name}.jsonl`), Array.from({ length: items }, (_, i) => JSON.stringify({
    id: String(i), prompt: [{ role: "user", content: `Something happened to me, number ${i}.` }],
    response: `Response ${name} to ${i}.`, target: `Gold ${i}.`, prev: `Something happened ${i}.`, emotion: emotions[i % emotions.length]
  })).join("\n"))
}
const empo = (args: ReadonlyArray<string>) => execFileSync("npx", ["empo", ...args], { cwd: root, encoding: "utf8" })
empo(["human", "batch", "--db", db, "--study", "load", "--condition", `a=${path.join(dir, "a.jsonl")}`, "--condition", `b=${path.join(dir, "b.jsonl")}`,
  "--condition", "gold=gold", "--per-emotion", String(items), "--items", String(items), "--extra-emotions", "",
  "--raters-per-item", "5", "--items-per-rater", String(perRater)])

const server: ChildProcess = spawn("npx", ["empo", "human", "serve", "--db", db, "--study", "load", "--port", "0"], { cwd: root, detached: true })
const base = await new Promise<string>((resolve, reject) => {
  let out = ""
  server.stdout!.on("data", (c: Buffer) => {
    out += c.toString()
    const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)
    if (m !== null) resolve(m[1]!)
  })
  server.on("exit", (code) => reject(new Error(`serve exited ${code}`)))
})

const request = (url: string, init: RequestInit = {}) => fetch(`${base}${url}`, { redirect: "manual", signal: AbortSignal.timeout(10_000), ...init })

interface Sent { readonly rater: string; readonly assignment: string; readonly values: Record<string, number> }

/** One rater: enter, start, then rate every item; returns submit latencies and what was sent. */
const rater = async (who: string, replay: boolean) => {
  const entry = await request(`?PROLIFIC_PID=${who}&STUDY_ID=load&SESSION_ID=s-${who}`)
  const cookie = entry.headers.get("set-cookie")!.split(";")[0]!
  await request("start", { method: "POST", headers: { cookie } })
  const latencies: Array<number> = []
  const sent: Array<Sent> = []
  let refusedReplays = 0
  for (let k = 0; k < perRater; k++) {
    const pageRes = await request("item", { headers: { cookie } })
    const page = `${pageRes.status} ${pageRes.headers.get("location") ?? ""} ${await pageRes.text()}`
    const assignment = /name="assignment" value="([\d.]+)"/.exec(page)?.[1]
    if (assignment === undefined) throw new Error(`${who}: item ${k} page is not an item: ${page.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").slice(0, 300)}`)
    const values = { Dim1: (k * 7) % 101, Dim2: (k * 13) % 101, Dim3: who.length + k, Dim4: 100 - k, Dim5: k % 2 }
    const body = new URLSearchParams({ assignment, Dim1: String(values.Dim1), Dim2: String(values.Dim2), Dim3: String(values.Dim3), Dim4: String(values.Dim4), ...(values.Dim5 === 1 ? { Dim5: "1" } : {}) })
    const headers = { cookie, "content-type": "application/x-www-form-urlencoded" }
    const start = performance.now()
    const res = await request("item", { method: "POST", headers, body })
    latencies.push(performance.now() - start)
    if (res.status !== 303) throw new Error(`${who}: submit answered ${res.status}`)
    sent.push({ rater: who, assignment, values })
    if (replay && k === 3) {
      const again = await request("item", { method: "POST", headers, body })
      if (again.status === 409) refusedReplays++
    }
  }
  return { latencies, sent, refusedReplays }
}

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(52)} ${value}\n`)

try {
  const alone = await rater("baseline-rater", false)
  const t0 = performance.now()
  const crowd = await Promise.all(Array.from({ length: raters }, (_, i) => rater(`rater${String(i).padStart(3, "0")}`, true)))
  const wall = performance.now() - t0
  const latencies = crowd.flatMap((r) => r.latencies)
  const sent = [alone, ...crowd].flatMap((r) => r.sent)

  const store = new Database(db, { readonly: true })
  const stored = store.prepare(`SELECT r.external_id AS rater, g.bundle || '.' || g.position AS assignment, g.values_json AS v
    FROM human_ratings g JOIN human_raters r ON r.id = g.rater_id`).all() as Array<{ rater: string; assignment: string; v: string }>
  store.close()
  const key = (r: { rater: string; assignment: string }) => `${r.rater}@${r.assignment}`
  const storedBy = new Map(stored.map((r) => [key(r), JSON.parse(r.v)]))
  const lost = sent.filter((s) => JSON.stringify(storedBy.get(key(s))) !== JSON.stringify(s.values)).length
  const duplicated = stored.length - new Set(stored.map((r) => r.assignment)).size + Math.max(0, stored.length - sent.length)

  line("baseline: 1 rater alone, submit p50 / p95", `${quantile(alone.latencies, 0.5).toFixed(1)} / ${quantile(alone.latencies, 0.95).toFixed(1)} ms`)
  line(`${raters} raters at once, submit p50 / p95 / max`, `${quantile(latencies, 0.5).toFixed(1)} / ${quantile(latencies, 0.95).toFixed(1)} / ${Math.max(...latencies).toFixed(1)} ms`)
  line("p95 ratio (concurrent / alone)", `${(quantile(latencies, 0.95) / quantile(alone.latencies, 0.95)).toFixed(1)}×`)
  line("throughput (submits + page loads)", `${((latencies.length * 2) / (wall / 1000)).toFixed(0)} requests/s over ${(wall / 1000).toFixed(2)} s`)
  line("ratings sent / stored", `${sent.length} / ${stored.length}`)
  line("lost or altered / duplicated", `${lost} / ${duplicated}`)
  line("replays refused (409)", `${crowd.reduce((n, r) => n + r.refusedReplays, 0)} of ${raters}`)
  if (lost > 0 || duplicated > 0 || stored.length !== sent.length) process.exitCode = 1
} finally {
  clearTimeout(deadline)
  process.kill(-server.pid!, "SIGTERM")
}
