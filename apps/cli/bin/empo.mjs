#!/usr/bin/env node
// Runs the esbuild bundle in ../dist (built by `npm run build`, part of `npm run setup`) when it is newer than
// every source it was built from; otherwise the TypeScript sources through tsx, so an edit is never hidden
// behind a stale bundle (a terminal is told so on stderr). EMPO_FROM_SOURCE=1 always runs the sources.
import { readFileSync, statSync } from "node:fs"
import * as NodeModule from "node:module"

// Node ≥ 22.1 keeps compiled code between starts; Node 20 has no such cache and skips this.
NodeModule.enableCompileCache?.()

const repoRoot = new URL("../../../", import.meta.url)
// `empo tui …` starts from its own entry (src/tuiMain.ts): the TUI's first frame skips the other commands' modules.
const entry = process.argv[2] === "tui" ? "tui" : "empo"
const bundle = new URL(`../dist/${entry}.mjs`, import.meta.url)

/** `undefined` when the bundle is usable, else why not (`null` when there is no bundle at all). */
const bundleStaleness = () => {
  let build
  try {
    build = JSON.parse(readFileSync(new URL("../dist/build.json", import.meta.url), "utf8"))
  } catch {
    return null
  }
  for (const input of build.inputs) {
    let modifiedMs
    try {
      modifiedMs = statSync(new URL(input, repoRoot)).mtimeMs
    } catch {
      return `${input} is gone`
    }
    if (modifiedMs > build.builtAtMs) return `${input} changed after the build`
  }
  return undefined
}

const staleness = process.env.EMPO_FROM_SOURCE === "1" ? null : bundleStaleness()
// For `empo doctor`; every process launched through this file sets its own.
process.env.EMPO_RUNNING_FROM = staleness === undefined ? "bundle" : staleness === null ? "sources" : `sources (bundle stale: ${staleness})`
if (staleness === undefined) {
  await import(bundle.href)
} else {
  // Told to people only: scripts and tests that read stderr get the command's own output.
  if (staleness !== null && process.stderr.isTTY) {
    process.stderr.write(`empo: running from the TypeScript sources (slower start) because ${staleness}; \`npm run build\` rebuilds the bundle\n`)
  }
  const { register } = await import("tsx/esm/api")
  register()
  await import(entry === "tui" ? "../src/tuiMain.ts" : "../src/bin.ts")
}
