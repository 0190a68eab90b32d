import { repoRoot } from "@empo/core/testing/sharedData"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
const root = repoRoot()
const tsx = path.join(root, "node_modules/.bin/tsx")
const binSource = fs.readFileSync(path.join(root, "apps/cli/bin/empo.mjs"), "utf8")

const node = async (args: ReadonlyArray<string>, options: { readonly cwd?: string; readonly env?: Record<string, string> } = {}) => {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: options.cwd ?? root,
      env: { ...process.env, ...options.env },
      maxBuffer: 16 * 1024 * 1024
    })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string }
    return { code: error.code, stdout: error.stdout, stderr: error.stderr }
  }
}

describe("the bundled empo (esbuild)", () => {
  // Inside the checkout, so the bundle resolves the external better-sqlite3 from node_modules like apps/cli/dist does.
  const outdir = path.join(root, "apps/cli/test", `.bundle-${process.pid}`)
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "empo-bundle-"))

  beforeAll(async () => {
    const { stdout } = await run(tsx, [path.join(root, "apps/cli/scripts/bundle.ts"), "--outdir", outdir], { cwd: root })
    expect(stdout).toMatch(/bundled empo → .*\(\d+ sources/)
  }, 120_000)
  afterAll(() => {
    fs.rmSync(outdir, { recursive: true, force: true })
    fs.rmSync(scratch, { recursive: true, force: true })
  })

  it("lists what it was built from, including the plugins' sources and the lock file", () => {
    const build = JSON.parse(fs.readFileSync(path.join(outdir, "build.json"), "utf8")) as { builtAtMs: number; inputs: Array<string> }
    expect(build.inputs).toEqual(expect.arrayContaining([
      "apps/cli/src/bin.ts",
      "apps/tui/src/index.ts",
      "plugins/optimizer-dpo/src/index.ts",
      "packages/bridge/src/PythonWorker.ts",
      "package-lock.json"
    ]))
    expect(build.inputs.some((input) => input.includes("node_modules"))).toBe(false)
    for (const input of build.inputs) expect(fs.existsSync(path.join(root, input)), input).toBe(true)
  })

  it("keeps the TUI (React, Ink) out of the chunk every command loads", () => {
    const entry = fs.readFileSync(path.join(outdir, "empo.mjs"), "utf8")
    expect(entry).not.toContain("react-reconciler")
    expect(fs.readdirSync(outdir).filter((f) => f.endsWith(".mjs")).some((f) => fs.readFileSync(path.join(outdir, f), "utf8").includes("react-reconciler"))).toBe(true)
  })

  it("keeps the report (Vega, Vega-Lite) out of the chunk every command loads, and resvg's native addon external", () => {
    const entry = fs.readFileSync(path.join(outdir, "empo.mjs"), "utf8")
    expect(entry).not.toContain("vega-lite")
    const chunks = fs.readdirSync(outdir).filter((f) => f.endsWith(".mjs")).map((f) => fs.readFileSync(path.join(outdir, f), "utf8"))
    expect(chunks.some((c) => c.includes("vega-lite"))).toBe(true)
    // Minified or not: an import of the package, never its code.
    expect(chunks.some((c) => /from\s*"@resvg\/resvg-js"|import\(\s*"@resvg\/resvg-js"\s*\)/.test(c))).toBe(true)
  })

  it("plans the quickstart exactly as the sources do (optimizer presets found next to their plugins)", async () => {
    const args = ["run", "experiments/quickstart.yaml", "--dry-run"]
    const bundled = await node([path.join(outdir, "empo.mjs"), ...args, "--db", path.join(scratch, "a.db")])
    const fromSource = await node([path.join(root, "apps/cli/bin/empo.mjs"), ...args, "--db", path.join(scratch, "b.db")], { env: { EMPO_FROM_SOURCE: "1" } })
    expect(bundled.code, bundled.stderr).toBe(0)
    expect(fromSource.code, fromSource.stderr).toBe(0)
    expect(bundled.stdout).toContain("train-") // content-addressed stage ids: they hash the resolved preset params
    expect(bundled.stdout).toBe(fromSource.stdout)
  }, 120_000)

  it("starts the Python worker from the checkout's python/ folder", async () => {
    const doctor = await node([path.join(outdir, "empo.mjs"), "doctor", "--json"])
    expect(doctor.code, doctor.stderr).toBe(0)
    const report = JSON.parse(doctor.stdout) as { smoke: { steps: number; losses: Array<number> } }
    expect(report.smoke.steps).toBe(2)
    for (const loss of report.smoke.losses) expect(Number.isFinite(loss)).toBe(true)
  }, 180_000)

  it("reports a bad flag with exit code 2, like the sources", async () => {
    const result = await node([path.join(outdir, "empo.mjs"), "runs", "ls", "--no-such-flag"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("Received unknown argument: '--no-such-flag'")
  }, 60_000)

  it("starts `empo tui` from its own entry: no @effect/cli or parquet readers before the first frame, React's production build, yoga without fetch", async () => {
    const build = JSON.parse(fs.readFileSync(path.join(outdir, "build.json"), "utf8")) as { loadedAtStart: Record<"empo" | "tui", Array<string>> }
    expect(build.loadedAtStart.tui).toEqual(expect.arrayContaining(["apps/cli", "effect", "packages/store"]))
    for (const module of ["@effect/cli", "@effect/printer", "hyparquet", "hyparquet-compressors", "tar", "react", "ink"]) expect(build.loadedAtStart.tui).not.toContain(module)
    expect(build.loadedAtStart.empo).toContain("@effect/cli")
    const everything = fs.readdirSync(outdir).filter((f) => f.endsWith(".mjs")).map((f) => fs.readFileSync(path.join(outdir, f), "utf8")).join("\n")
    // React's production build only (runWithFiberInDEV is its development build's), and yoga never fetches.
    expect(everything).toContain("react-reconciler")
    expect(everything).not.toContain("runWithFiberInDEV")
    expect(everything).not.toContain("\"function\"!=typeof fetch")
    // Any other form goes to the full CLI: its help, and its refusal without a terminal (exit 2).
    const help = await node([path.join(outdir, "tui.mjs"), "tui", "--help"])
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain("Terminal UI")
    const noTerminal = await node([path.join(outdir, "tui.mjs"), "tui", "--db", path.join(scratch, "t.db")])
    expect(noTerminal.code).toBe(2)
    expect(noTerminal.stderr).toMatch(/^error: .*terminal/m)
  }, 60_000)
})

describe("bin/empo.mjs chooses between the bundle and the sources", () => {
  // A miniature checkout: the real launcher, a stand-in bundle and stand-in sources that say which one ran.
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), "empo-launcher-"))
  const input = path.join(tree, "packages/x/src/a.ts")
  const buildJson = path.join(tree, "apps/cli/dist/build.json")
  const builtAtMs = Date.now() - 60_000
  const writeBuild = (inputs: Array<string>) => fs.writeFileSync(buildJson, JSON.stringify({ builtAtMs, node: process.version, inputs }))
  // Without the test runner's colour variables: NO_COLOR next to FORCE_COLOR makes Node itself warn on stderr.
  const { NO_COLOR: _noColor, FORCE_COLOR: _forceColor, ...plainEnv } = process.env
  const launch = (env: Record<string, string> = {}) =>
    run(process.execPath, [path.join(tree, "apps/cli/bin/empo.mjs")], { cwd: tree, env: { ...plainEnv, EMPO_FROM_SOURCE: "", ...env } })

  beforeAll(() => {
    fs.mkdirSync(path.join(tree, "apps/cli/bin"), { recursive: true })
    fs.mkdirSync(path.join(tree, "apps/cli/src"), { recursive: true })
    fs.mkdirSync(path.join(tree, "apps/cli/dist"), { recursive: true })
    fs.mkdirSync(path.dirname(input), { recursive: true })
    fs.symlinkSync(path.join(root, "node_modules"), path.join(tree, "node_modules"))
    fs.writeFileSync(path.join(tree, "apps/cli/package.json"), JSON.stringify({ type: "module" }))
    fs.writeFileSync(path.join(tree, "apps/cli/bin/empo.mjs"), binSource)
    fs.writeFileSync(path.join(tree, "apps/cli/dist/empo.mjs"), `console.log("bundle", process.env.EMPO_RUNNING_FROM)\n`)
    fs.writeFileSync(path.join(tree, "apps/cli/src/bin.ts"), `const from: string = process.env["EMPO_RUNNING_FROM"] ?? ""\nconsole.log("sources", from)\n`)
    fs.writeFileSync(input, "export {}\n")
  })
  afterAll(() => fs.rmSync(tree, { recursive: true, force: true }))

  const age = (file: string, ms: number) => fs.utimesSync(file, new Date(ms), new Date(ms))

  it("runs the bundle when it is newer than every input", async () => {
    writeBuild(["packages/x/src/a.ts"])
    age(input, builtAtMs - 10_000)
    const result = await launch()
    expect(result.stdout.trim()).toBe("bundle bundle")
    expect(result.stderr).toBe("")
  })

  it("runs the sources, and says why, when an input changed after the build", async () => {
    writeBuild(["packages/x/src/a.ts"])
    age(input, builtAtMs + 10_000)
    const result = await launch()
    expect(result.stdout.trim()).toBe("sources sources (bundle stale: packages/x/src/a.ts changed after the build)")
    // Not a terminal: the notice stays out of the stderr that scripts read.
    expect(result.stderr).toBe("")
    // In a terminal (util-linux `script` gives it one), the person is told why start-up is slow.
    const inTerminal = await run("script", ["-qec", `${process.execPath} ${path.join(tree, "apps/cli/bin/empo.mjs")}`, "/dev/null"], {
      cwd: tree,
      env: { ...plainEnv, EMPO_FROM_SOURCE: "" }
    })
    expect(inTerminal.stdout).toContain("packages/x/src/a.ts changed after the build; `npm run build` rebuilds the bundle")
    expect(inTerminal.stdout).toContain("sources sources (bundle stale")
  }, 60_000)

  it("runs the sources when an input is gone", async () => {
    writeBuild(["packages/x/src/a.ts", "packages/x/src/deleted.ts"])
    age(input, builtAtMs - 10_000)
    const result = await launch()
    expect(result.stdout).toMatch(/^sources .*deleted\.ts is gone/)
  }, 60_000)

  it("runs the sources, silently, when there is no bundle or EMPO_FROM_SOURCE=1", async () => {
    writeBuild(["packages/x/src/a.ts"])
    age(input, builtAtMs - 10_000)
    const forced = await launch({ EMPO_FROM_SOURCE: "1" })
    expect(forced.stdout.trim()).toBe("sources sources")
    expect(forced.stderr).toBe("")
    fs.rmSync(buildJson)
    const missing = await launch()
    expect(missing.stdout.trim()).toBe("sources sources")
    expect(missing.stderr).toBe("")
  }, 60_000)
})
