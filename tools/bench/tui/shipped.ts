/**
 * The shipped `empo tui` in a real terminal: `npx tsx tools/bench/tui/shipped.ts <store.db>` (run by bench.tsx).
 *
 * tmux runs `node apps/cli/bin/empo.mjs tui --db <store>` in an 80×24 pane; keys walk Experiments → Sweep → Run
 * detail → back → Compare; the peak memory is the process's own high-water mark (VmHWM in /proc), read just
 * before quitting. Measured twice in the same run: from the bundle (what `npm run setup` installs) and, as the
 * baseline, from the TypeScript sources through tsx (EMPO_FROM_SOURCE=1; what a stale or missing bundle costs).
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const repoRoot = path.resolve(import.meta.dirname, "../../..")
const empoBin = path.join(repoRoot, "apps/cli/bin/empo.mjs")
const dbPath = process.argv[2]
if (dbPath === undefined) throw new Error("usage: shipped.ts <store.db>")

const tmux = (...args: Array<string>) => execFileSync("tmux", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const line = (label: string, value: string, target?: string) =>
  process.stdout.write(`${label.padEnd(62)} ${value.padStart(14)}${target === undefined ? "" : `   (target ${target})`}\n`)

interface Measurement {
  readonly firstPaintMs: number
  /** CPU time (user + system) of the TUI process until its first paint: what the wall clock is on an idle machine. */
  readonly firstPaintCpuMs: number
  readonly peakRssMb: number
}

// utime + stime of a process, in clock ticks of 10 ms (fields 14 and 15 of /proc/<pid>/stat).
const cpuMsOf = (pid: number) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const measure = async (fromSource: boolean): Promise<Measurement> => {
  const session = `empo-bench-${process.pid}-${fromSource ? "src" : "bundle"}`
  const env = `CI=false EMPO_FROM_SOURCE=${fromSource ? 1 : 0}`
  const started = performance.now()
  // `exec`, so the pane's process is the TUI's node process itself.
  tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", "-c", repoRoot, `${env} exec node ${empoBin} tui --db ${dbPath}`)
  try {
    const pid = Number(tmux("display-message", "-p", "-t", session, "#{pane_pid}").trim())
    const pane = () => tmux("capture-pane", "-p", "-t", session)
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 60_000
      while (!pane().includes(text)) {
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared; the pane shows:\n${pane()}`)
        await sleep(5)
      }
    }
    const keys = async (...names: Array<string>) => {
      for (const key of names) {
        tmux("send-keys", "-t", session, key)
        await sleep(100)
      }
    }
    await waitFor("sweep-0")
    const firstPaintMs = performance.now() - started
    const firstPaintCpuMs = cpuMsOf(pid)
    await keys("Enter")
    await waitFor("200/200 runs")
    await keys("j", "j", "Enter")
    await waitFor("rewards/margins")
    await sleep(500) // a few live-update polls on the loaded run
    await keys("Escape")
    await waitFor("200/200 runs")
    await keys("c")
    await waitFor("configuration (seeds)")
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1])
    await keys("q")
    return { firstPaintMs, firstPaintCpuMs, peakRssMb: peakKb / 1024 }
  } finally {
    try {
      tmux("kill-session", "-t", session)
    } catch {
      // the TUI quit and took the session with it
    }
  }
}

try {
  tmux("-V")
} catch {
  process.stdout.write("shipped `empo tui`: skipped (tmux is not installed; `apt-get install tmux`)\n")
  process.exit(0)
}
// The launcher says on stderr when it cannot use the bundle (missing or older than the sources).
const launch = spawnSync(process.execPath, [empoBin, "--version"], { encoding: "utf8", env: { ...process.env, EMPO_FROM_SOURCE: "0" } })
if (!fs.existsSync(path.join(repoRoot, "apps/cli/dist/build.json")) || launch.stderr.includes("running from the TypeScript sources")) {
  process.stdout.write(`shipped \`empo tui\`: skipped, the bundle is missing or stale: run \`npm run build\` first\n${launch.stderr}`)
  process.exit(0)
}
const bundle = await measure(false)
const source = await measure(true)
line("shipped `empo tui` (bundle): first paint seen in the terminal", `${bundle.firstPaintMs.toFixed(0)} ms`, "< 500 ms")
line("  CPU time of the TUI process until then (load-independent)", `${bundle.firstPaintCpuMs.toFixed(0)} ms`)
line("  peak RSS of the process (VmHWM) through sweep, run, compare", `${bundle.peakRssMb.toFixed(0)} MB`, "< 150 MB")
line("baseline, from sources through tsx: first paint in the terminal", `${source.firstPaintMs.toFixed(0)} ms`)
line("  CPU time of the process until then", `${source.firstPaintCpuMs.toFixed(0)} ms`)
line("  peak RSS of the process (VmHWM)", `${source.peakRssMb.toFixed(0)} MB`)
line("machine load average (1 min): the wall figures above scale with it", os.loadavg()[0]!.toFixed(1))
line("  bundle vs sources: start-up / memory", `${(source.firstPaintMs / bundle.firstPaintMs).toFixed(1)}× / ${(source.peakRssMb / bundle.peakRssMb).toFixed(1)}×`)
