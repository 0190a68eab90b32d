// `empo report` over a store of release 0.1 (read-only, no per-item scores): it writes what the store allows and
// leaves the file alone; bad flags fail with exit 2 and a message naming them.
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"

const release = path.resolve(import.meta.dirname, "../../../packages/store/test/fixtures/release-0.1.db")
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")
const failure = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) as { message: string; exitCode: number } | undefined : undefined

describe("empo report", () => {
  it.live("reports the quickstart of a read-only release-0.1 store: html, figures, tables; the store is unchanged", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-report-cli-"))
      const db = path.join(dir, "empo.db")
      fs.copyFileSync(release, db)
      fs.chmodSync(db, 0o444)
      const before = sha256(db)
      const out = path.join(dir, "out")
      const run = yield* empoInProcess(["report", "quickstart", "--db", db, "--out", out], PluginsLive)
      assert.strictEqual(run.exit._tag, "Success", String(failure(run.exit)?.message))
      assert.include(run.stdout, `wrote ${out}/report.html`)
      // No per-item scores in 0.1: no heatmap; β is swept, so a line plot over it.
      for (const id of ["curves-sft", "curves-preference", "metrics-bars", "sweep-beta"]) {
        assert.isTrue(fs.statSync(path.join(out, "figures", `${id}.svg`)).size > 1000, id)
        assert.isTrue(fs.statSync(path.join(out, "figures", `${id}.png`)).size > 1000, id)
      }
      assert.isFalse(fs.existsSync(path.join(out, "figures", "emotion-heatmap.svg")))
      const tex = fs.readFileSync(path.join(out, "tables", "headline.tex"), "utf8")
      assert.include(tex, "\\toprule")
      assert.include(tex, "$\\downarrow$")
      assert.include(fs.readFileSync(path.join(out, "report.html"), "utf8"), "Headline metrics")
      assert.strictEqual(sha256(db), before)

      const metric = yield* empoInProcess(["report", "quickstart", "--db", db, "--out", out, "--metrics", "bleu"], PluginsLive)
      assert.strictEqual(failure(metric.exit)?.exitCode, 2)
      assert.include(failure(metric.exit)?.message ?? "", "no run reported a metric `bleu`")
      const baseline = yield* empoInProcess(["report", "quickstart", "--db", db, "--out", out, "--baseline", "zzz"], PluginsLive)
      assert.strictEqual(failure(baseline.exit)?.exitCode, 2)
      const experiment = yield* empoInProcess(["report", "nope", "--db", db, "--out", out], PluginsLive)
      assert.strictEqual(failure(experiment.exit)?.exitCode, 2)
      fs.rmSync(dir, { recursive: true, force: true })
    }), 60_000)
})
