/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { RunId } from "@empo/store"
import { render } from "ink-testing-library"
import { describe, expect, it } from "vitest"
import type { SweepRow } from "../../data/TuiStore.ts"
import type { SweepColumn } from "../state/sweepTable.ts"
import { fittingColumns, SweepTable } from "./SweepTable.tsx"

const rows: Array<SweepRow> = [0.1, 0.5].map((beta, i) => ({
  id: `run${i}` as RunId, label: `beta=${beta} seed=0`, seed: 0, position: i, status: i === 1 ? "failed" : "completed",
  params: { "stages.preference.params.beta": beta }, stage: i === 1 ? { name: "preference", status: "failed", done: 2, total: 5 } : null,
  error: i === 1 ? "CUDA out of memory" : null, summary: i === 1 ? {} : { "distinct.distinct-2": 0.4123, "vad.valence": 0.57 }
}))
const columns: Array<SweepColumn> = [
  { kind: "param", key: "stages.preference.params.beta", title: "beta" }, { kind: "seed", title: "seed" }, { kind: "status", title: "status" },
  { kind: "stage", title: "stage" }, ...Array.from({ length: 8 }, (_, i): SweepColumn => ({ kind: "metric", key: `m${i}`, title: `metric_${i}` }))
]

describe("SweepTable", () => {
  it("keeps status and stage and drops metric columns that do not fit 80 columns", () => {
    const shown = fittingColumns(columns, 80)
    expect(shown.map((c) => c.title).slice(0, 4)).toEqual(["beta", "seed", "status", "stage"])
    expect(shown.length).toBeLessThan(columns.length)
  })

  it("draws params, status, stage and metrics, the sort arrow, chosen runs, and the error of the run under the cursor", () => {
    const metricColumns: Array<SweepColumn> = [...columns.slice(0, 4), { kind: "metric", key: "distinct.distinct-2", title: "distinct-2" }]
    const { lastFrame, rerender } = render(<SweepTable rows={rows} columns={metricColumns} cursor={0} selected={["run0"]} sortColumn={4} descending height={10} width={80} />)
    expect(lastFrame()).toContain("distinct-2↓")
    expect(lastFrame()).toMatch(/● 0\.1\s+0\s+completed\s+done\s+0\.4123/)
    expect(lastFrame()).toMatch(/ {2}0\.5\s+0\s+failed\s+preference 2\/5/)
    expect(lastFrame()).not.toContain("CUDA")
    rerender(<SweepTable rows={rows} columns={metricColumns} cursor={1} selected={[]} sortColumn={null} descending={false} height={10} width={80} />)
    expect(lastFrame()).toContain("beta=0.5 seed=0: CUDA out of memory")
  })

  it("says so when the filter hides every run", () => {
    const { lastFrame } = render(<SweepTable rows={[]} columns={columns} cursor={0} selected={[]} sortColumn={null} descending={false} height={10} width={80} />)
    expect(lastFrame()).toContain("no run matches the filter")
  })
})
