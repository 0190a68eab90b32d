/**
 * Bundles `empo` into `apps/cli/dist/` with esbuild: `npm run build` (run by `npm run setup`).
 *
 * Why: through tsx, every start compiles the TypeScript sources on the fly — 1–2 s before anything happens and
 * ~110 MB of compiler and module-graph memory that the TUI then carries (its budget is 150 MB). `bin/empo.mjs`
 * runs this bundle when it is newer than every source it was built from (listed in `dist/build.json`) and falls
 * back to the sources otherwise, so an edit is never hidden behind a stale build.
 *
 * `tsx apps/cli/scripts/bundle.ts [--outdir <dir>]`. The bundle finds the workspace's data files relative to
 * itself (see {@link keepModuleLocations}), so it works while it stays at the same place relative to the sources.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"

const cliRoot = path.resolve(import.meta.dirname, "..")
const repoRoot = path.resolve(cliRoot, "../..")
const { values: flags } = parseArgs({ options: { outdir: { type: "string", default: path.join(cliRoot, "dist") } } })
const outdir = path.resolve(flags.outdir)

/**
 * Sources find their data files relative to themselves (`new URL("../presets/", import.meta.url)`, the Python
 * worker at `<repo>/python`). In a bundle `import.meta` would name the bundle file instead, so each workspace module
 * gets its own `import.meta.url`/`dirname`/`filename`: its original location, computed at run time relative to the
 * bundle — the bundle keeps working wherever the checkout is moved.
 */
const keepModuleLocations: esbuild.Plugin = {
  name: "keep-module-locations",
  setup(build) {
    build.onLoad({ filter: /\.(ts|tsx|mts)$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined
      const source = await fs.promises.readFile(args.path, "utf8")
      const loader = args.path.endsWith(".tsx") ? "tsx" : "ts"
      if (!source.includes("import.meta")) return { contents: source, loader }
      const fromBundle = path.relative(outdir, args.path).split(path.sep).join("/")
      const prelude = [
        `import { fileURLToPath as __empoFileURLToPath } from "node:url";`,
        `const __empoModuleUrl = new URL(${JSON.stringify(fromBundle)}, import.meta.url).href;`,
        `const __empoModuleFilename = __empoFileURLToPath(__empoModuleUrl);`,
        `const __empoModuleDirname = __empoFileURLToPath(new URL(".", __empoModuleUrl)).replace(/[\\\\/]$/, "");`
      ].join(" ")
      const contents = source
        .replaceAll("import.meta.url", "__empoModuleUrl")
        .replaceAll("import.meta.dirname", "__empoModuleDirname")
        .replaceAll("import.meta.filename", "__empoModuleFilename")
      // One line, so the source map's line numbers stay those of the original file.
      return { contents: `${prelude} ${contents}`, loader }
    })
  }
}

/** Ink imports `react-devtools-core` only when DEV=true; it is an optional, uninstalled peer, so stand in for it. */
const devtoolsStub: esbuild.Plugin = {
  name: "react-devtools-stub",
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: "react-devtools-core", namespace: "empo-stub" }))
    build.onLoad({ filter: /.*/, namespace: "empo-stub" }, () => ({
      contents: `export default { initialize() {}, connectToDevTools() { throw new Error("React DevTools is not part of the empo bundle: run with EMPO_FROM_SOURCE=1 and install react-devtools-core") } }`,
      loader: "js"
    }))
  }
}

const startedAtMs = Date.now()
const staging = `${outdir}.partial-${process.pid}`
fs.rmSync(staging, { recursive: true, force: true })
const result = await esbuild.build({
  entryPoints: { empo: path.join(cliRoot, "src/bin.ts") },
  outdir: staging,
  absWorkingDir: repoRoot,
  bundle: true,
  splitting: true, // the TUI (React, Ink) is its own chunk, loaded only by `empo tui`
  format: "esm",
  outExtension: { ".js": ".mjs" },
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  // Native addon: loaded from node_modules at run time.
  // Native addons (optional for ssh2: it falls back to pure JS) load from node_modules at run time.
  external: ["better-sqlite3", "ssh2"],
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: { js: `import { createRequire as __empoCreateRequire } from "node:module"; const require = __empoCreateRequire(import.meta.url);` },
  plugins: [keepModuleLocations, devtoolsStub],
  metafile: true,
  logLevel: "warning"
})

// What the bundle was built from: the workspace's own sources, plus the lock file for dependency changes.
const inputs = Object.keys(result.metafile.inputs)
  .filter((input) => !input.includes("node_modules/") && !input.includes(":"))
  .map((input) => input.split(path.sep).join("/"))
inputs.push("package-lock.json", path.relative(repoRoot, import.meta.filename).split(path.sep).join("/"))
fs.writeFileSync(
  path.join(staging, "build.json"),
  `${JSON.stringify({ builtAtMs: startedAtMs, node: process.version, esbuild: esbuild.version, inputs: [...new Set(inputs)].sort() }, null, 2)}\n`
)
// Swap in whole, so a concurrently starting `empo` sees the old bundle or the new one, never a mix.
const previous = `${outdir}.old-${process.pid}`
if (fs.existsSync(outdir)) fs.renameSync(outdir, previous)
fs.renameSync(staging, outdir)
fs.rmSync(previous, { recursive: true, force: true })
const size = fs.readdirSync(outdir).reduce((sum, file) => sum + fs.statSync(path.join(outdir, file)).size, 0)
process.stdout.write(
  `bundled empo → ${path.relative(process.cwd(), outdir) || "."} (${inputs.length} sources, ${(size / 2 ** 20).toFixed(1)} MiB with source maps, ${Date.now() - startedAtMs} ms)\n`
)
