// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { MetricKey } from "@empo/core/MetricKey"
import type { RunId } from "@empo/store"
import { describe, expect, it } from "vitest"
import type { SweepRow } from "../src/data/TuiStore.ts"
import { sweepColumns } from "../src/ui/screens/SweepScreen.tsx"
import { initialSweepTable, sweepTableReducer } from "../src/ui/state/sweepTable.ts"
import { eachTestWorld, renderApp } from "./fixtures/appWorld.tsx"
import { waitFor } from "./fixtures/testRuntime.ts"

const enter = "\r"
const row = (summary: Record<string, number>): SweepRow => ({
  id: "run0" as RunId, label: "beta=0.1 seed=0", seed: 0, position: 0, status: "completed", params: {}, stage: null, error: null, summary
})
const directions: Record<string, MetricKey> = {
  "distinct.distinct_2": { direction: "higher", label: "distinct-2" },
  "train.loss": { direction: "lower", label: "loss" },
  "length.tokens_mean": { direction: "none", label: "tokens" }
}

describe("sweep table columns (issue 11 item 9)", () => {
  it("scored metrics (a better direction in their manifest) lead; descriptions and unknown keys follow", () => {
    const columns = sweepColumns([row({ "dataset.rows": 120, "distinct.distinct_2": 0.4, "length.tokens_mean": 15, "train.loss": 0.3, count: 3 })], (k) => directions[k])
    expect(columns.filter((c) => c.kind === "metric").map((c) => c.kind === "metric" && c.key)).toEqual([
      "distinct.distinct_2", "train.loss", "count", "dataset.rows", "length.tokens_mean"
    ])
  })

  it("SortBy picks a column (higher-is-better starts descending) and reverses on the same column; ShiftMetrics stays in range", () => {
    const sorted = sweepTableReducer(initialSweepTable, { _tag: "SortBy", column: 5, descendingFirst: true })
    expect([sorted.sortColumn, sorted.descending]).toEqual([5, true])
    expect(sweepTableReducer(sorted, { _tag: "SortBy", column: 5, descendingFirst: true }).descending).toBe(false)
    expect(sweepTableReducer(sorted, { _tag: "SortBy", column: 2, descendingFirst: false })).toMatchObject({ sortColumn: 2, descending: false })
    let state = initialSweepTable
    for (let i = 0; i < 5; i++) state = sweepTableReducer(state, { _tag: "ShiftMetrics", delta: 1, metrics: 3 })
    expect(state.firstMetric).toBe(2)
    expect(sweepTableReducer(state, { _tag: "ShiftMetrics", delta: -9, metrics: 3 }).firstMetric).toBe(0)
  })
})

describe("sweep screen keys on a real store", () => {
  const world = eachTestWorld()

  it("`]` scrolls the metric columns, a digit sorts by that column directly (loss: lower first)", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    stdin.write(enter)
    // train.loss is the one key the test catalogue scores (lower is better): it leads the metric columns.
    const sweep = await waitFor(frame, (f) => f.includes("6/6 runs"))
    expect(sweep).toMatch(/1:beta\s+2:seed\s+3:status\s+4:stage\s+5:loss/)
    expect(sweep).toContain("metrics 1–3 of 3")
    stdin.write("]")
    const scrolled = await waitFor(frame, (f) => f.includes("metrics 2–3 of 3"))
    expect(scrolled).not.toContain(":loss")
    stdin.write("[")
    await waitFor(frame, (f) => f.includes("metrics 1–3 of 3"))
    stdin.write("5")
    const byLoss = await waitFor(frame, (f) => f.includes("sort: loss asc"))
    expect(byLoss).toContain("5:loss↑")
    stdin.write("5")
    await waitFor(frame, (f) => f.includes("sort: loss desc"))
    unmount()
  })
})
