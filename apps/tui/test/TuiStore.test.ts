// The TUI reads summaries as the store names them, by stage role: a sweep of release 0.1 shows its SFT and its
// preference loss as two columns, not one `train.loss` holding whichever came last.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { compareExperiment } from "@empo/experiments/Compare"
import { screenComparison } from "../src/compare/sweepComparison.ts"
import { TuiStore } from "../src/data/TuiStore.ts"
import { sweepColumns } from "../src/ui/screens/SweepScreen.tsx"

const release = path.resolve(import.meta.dirname, "../../../packages/store/test/fixtures/release-0.1.db")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-tui-summary-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const withTuiStore = <A, E>(body: (store: TuiStore["Type"]) => Effect.Effect<A, E>) => {
  const db = path.join(dir, `empo-${Math.random().toString(36).slice(2)}.db`)
  fs.copyFileSync(release, db)
  const layer = TuiStore.layer.pipe(Layer.provideMerge(RunStore.layer(db)), Layer.provide(NodeContext.layer))
  return Effect.runPromise(Effect.flatMap(TuiStore, body).pipe(Effect.provide(layer)))
}

describe("TuiStore summaries of a release-0.1 store", () => {
  it("the sweep's rows and columns name the SFT and the preference stage apart", async () => {
    const rows = await withTuiStore((store) => store.sweep("quickstart"))
    expect(rows).toHaveLength(3)
    for (const row of rows) {
      const keys = Object.keys(row.summary)
      expect(keys.filter((k) => k.startsWith("train.") || k.startsWith("dataset."))).toEqual([])
      expect(keys).toEqual(expect.arrayContaining(["sft.loss", "preference.loss", "dataset-sft.rows", "model.parameters"]))
      expect(row.summary["sft.loss"]).not.toBe(row.summary["preference.loss"])
    }
    // One SFT checkpoint serves every run; the preference losses differ by optimizer and β.
    expect(new Set(rows.map((r) => r.summary["sft.loss"])).size).toBe(1)
    expect(new Set(rows.map((r) => r.summary["preference.loss"])).size).toBe(3)
    const titles = sweepColumns(rows).filter((c) => c.kind === "metric").map((c) => c.title)
    expect(titles).toEqual(expect.arrayContaining(["sft.loss", "preference.loss", "dataset-sft.rows", "dataset-preference.rows"]))
    expect(new Set(titles).size).toBe(titles.length)
  })

  it("the compare screen's data: evaluations by default, each training stage's keys under its role", async () => {
    const data = await withTuiStore((store) => store.comparison("quickstart"))
    const screen = screenComparison("quickstart", data, { directionOf: () => undefined })
    if (!("table" in screen)) throw screen
    expect(screen.table.metrics).toContain("vad.diff_max_v_abs_mean")
    expect(screen.table.metrics.filter((m) => /^(train|sft|preference|dataset)[.-]/.test(m))).toEqual([])
    const training = compareExperiment("quickstart", data, { metrics: ["sft.loss", "preference.loss"] })
    if (!("rows" in training)) throw training
    expect(training.metrics).toEqual(["sft.loss", "preference.loss"])
    expect(new Set(training.rows.map((r) => r.metrics["preference.loss"]!.mean)).size).toBe(3)
  })
})
