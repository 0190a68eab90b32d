// `runs show` and `compare` name summary metrics by stage role: a store of release 0.1 (`train.*` for both
// training stages), read read-only and so never migrated, lists the SFT and the preference loss apart.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { readOnlyReleaseStore } from "./support/releaseStore.ts"


describe("summary metrics in `runs show` and `compare`", () => {
  it.live("are named by stage role, each once, in text and JSON; `--metrics sft.loss,preference.loss` compares both", () =>
    Effect.gen(function* () {
      const { dir, db } = readOnlyReleaseStore("empo-summary-names-")
      const ls = yield* empoInProcess(["runs", "ls", "--db", db, "--json"], PluginsLive)
      const runId = (JSON.parse(ls.stdout) as ReadonlyArray<{ id: string }>)[0]!.id

      const text = yield* empoInProcess(["runs", "show", runId, "--db", db], PluginsLive)
      assert.strictEqual(text.exit._tag, "Success")
      const summaryLines = text.stdout.split("\n").filter((l) => /^ {2}\S+ = /.test(l) && !l.includes("stages."))
      for (const key of ["sft.loss", "preference.loss", "dataset-sft.rows", "model.parameters", "items.count", "generate.seconds"]) {
        assert.strictEqual(summaryLines.filter((l) => l.startsWith(`  ${key} = `)).length, 1, key)
      }
      assert.notInclude(text.stdout, "train.loss")
      const json = yield* empoInProcess(["runs", "show", runId, "--db", db, "--json"], PluginsLive)
      const keys = (JSON.parse(json.stdout) as { summary: ReadonlyArray<{ key: string }> }).summary.map((s) => s.key)
      assert.strictEqual(new Set(keys).size, keys.length)
      assert.isFalse(keys.some((k) => k.startsWith("train.")))

      const compare = yield* empoInProcess(["compare", "quickstart", "--db", db, "--metrics", "sft.loss,preference.loss", "--format", "json"], PluginsLive)
      assert.strictEqual(compare.exit._tag, "Success")
      const table = JSON.parse(compare.stdout) as { metrics: ReadonlyArray<string>; rows: ReadonlyArray<{ metrics: Record<string, { mean: number }> }> }
      assert.deepStrictEqual(table.metrics, ["sft.loss", "preference.loss"])
      // One SFT checkpoint under every configuration; a preference loss of its own for each.
      assert.strictEqual(new Set(table.rows.map((r) => r.metrics["sft.loss"]!.mean)).size, 1)
      assert.strictEqual(new Set(table.rows.map((r) => r.metrics["preference.loss"]!.mean)).size, table.rows.length)
      for (const format of ["table", "csv", "latex"]) {
        const out = yield* empoInProcess(["compare", "quickstart", "--db", db, "--metrics", "preference.", "--format", format], PluginsLive)
        assert.strictEqual(out.exit._tag, "Success", format)
        assert.include(out.stdout, format === "latex" ? "preference.rewards/margins" : "preference.loss", format)
        assert.notInclude(out.stdout, "sft.loss", format)
      }
      fs.rmSync(dir, { recursive: true, force: true })
    }))
})
