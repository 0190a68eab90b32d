import type { MetricPointRecord, RunId, StageId } from "@empo/store"
import { describe, expect, it } from "vitest"
import type { SweepRow } from "../../src/data/TuiStore.ts"
import { moveCursor, scrollOffset } from "../../src/ui/state/listCursor.ts"
import { initialLaunch, launchReducer } from "../../src/ui/state/launch.ts"
import { currentScreen, initialNavigation, navigationReducer } from "../../src/ui/state/navigation.ts"
import { applyMetricPoints, chartOrder, initialRunMetrics, maxPointsPerSeries, seriesKey } from "../../src/ui/state/runMetrics.ts"
import { initialSweepTable, type SweepColumn, sweepTableReducer, visibleRows } from "../../src/ui/state/sweepTable.ts"

const point = (id: number, key: string, step: number, value: number, stageId = "train-x"): MetricPointRecord =>
  ({ id, stageId: stageId as StageId, key, step, value, time: 0 }) as MetricPointRecord
const loss = seriesKey("train-x", "loss")

const row = (position: number, beta: number, seed: number, status: SweepRow["status"], metric?: number, error: string | null = null): SweepRow => ({
  id: `run${position}` as RunId, label: `beta=${beta} seed=${seed}`, seed, position, status,
  params: { "stages.preference.params.beta": beta, seed },
  stage: status === "completed" ? null : { name: "preference", status: status === "running" ? "running" : "failed", done: 2, total: 5 },
  error, summary: metric === undefined ? {} : { "distinct.distinct-2": metric }
})

const columns: Array<SweepColumn> = [
  { kind: "param", key: "stages.preference.params.beta", title: "beta" },
  { kind: "seed", title: "seed" },
  { kind: "status", title: "status" },
  { kind: "stage", title: "stage" },
  { kind: "metric", key: "distinct.distinct-2", title: "distinct.distinct-2" }
]

describe("navigation", () => {
  it("pushes screens, goes back one at a time and never pops the root", () => {
    let s = navigationReducer(initialNavigation, { _tag: "Open", screen: { kind: "sweep", experiment: "e" } })
    s = navigationReducer(s, { _tag: "Open", screen: { kind: "run", experiment: "e", runId: "r" } })
    expect(currentScreen(s)).toEqual({ kind: "run", experiment: "e", runId: "r" })
    s = navigationReducer(navigationReducer(navigationReducer(s, { _tag: "Back" }), { _tag: "Back" }), { _tag: "Back" })
    expect(s.stack).toEqual([{ kind: "experiments" }])
  })

  it("esc closes the help before leaving the screen; tab switches tabs and resets the stack", () => {
    let s = navigationReducer(initialNavigation, { _tag: "Open", screen: { kind: "sweep", experiment: "e" } })
    s = navigationReducer(s, { _tag: "ToggleHelp" })
    s = navigationReducer(s, { _tag: "Back" })
    expect(s.help).toBe(false)
    expect(currentScreen(s).kind).toBe("sweep")
    s = navigationReducer(s, { _tag: "NextTab" })
    expect(s.stack).toEqual([{ kind: "launch" }])
    expect(navigationReducer(s, { _tag: "NextTab" }).stack).toEqual([{ kind: "experiments" }])
  })
})

describe("list cursor", () => {
  it("clamps and keeps the cursor inside the scroll window", () => {
    expect(moveCursor(0, -1, 5)).toBe(0)
    expect(moveCursor(3, 10, 5)).toBe(4)
    expect(moveCursor(0, 1, 0)).toBe(0)
    expect(scrollOffset(0, 10, 5)).toBe(0)
    expect(scrollOffset(50, 10, 100)).toBe(45)
    expect(scrollOffset(99, 10, 100)).toBe(90)
  })
})

describe("sweep table", () => {
  const rows = [row(0, 0.1, 0, "completed", 0.41), row(1, 0.5, 0, "completed", 0.62), row(2, 0.5, 1, "failed", undefined, "CUDA out of memory"), row(3, 0.1, 1, "running")]

  it("filters on every term, on key=value, and on the error text", () => {
    expect(visibleRows(rows, columns, { filter: "failed", sortColumn: null, descending: false }).map((r) => r.position)).toEqual([2])
    expect(visibleRows(rows, columns, { filter: "beta=0.5", sortColumn: null, descending: false }).map((r) => r.position)).toEqual([1, 2])
    expect(visibleRows(rows, columns, { filter: "beta=0.5 completed", sortColumn: null, descending: false }).map((r) => r.position)).toEqual([1])
    expect(visibleRows(rows, columns, { filter: "memory", sortColumn: null, descending: false }).map((r) => r.position)).toEqual([2])
  })

  it("sorts numerically by a metric (runs without it last when descending) and by a param", () => {
    const byMetric = visibleRows(rows, columns, { filter: "", sortColumn: 4, descending: true })
    expect(byMetric.map((r) => r.position)).toEqual([1, 0, 2, 3])
    expect(visibleRows(rows, columns, { filter: "", sortColumn: 0, descending: false }).map((r) => r.position)).toEqual([0, 3, 1, 2])
  })

  it("cycles the sort column through every column and back to sweep order", () => {
    let s = initialSweepTable
    const seen: Array<number | null> = []
    for (let i = 0; i < 6; i++) {
      s = sweepTableReducer(s, { _tag: "NextSort", columns: 5 })
      seen.push(s.sortColumn)
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, null])
  })

  it("edits the filter and toggles chosen runs", () => {
    let s = sweepTableReducer(initialSweepTable, { _tag: "StartFilter" })
    s = sweepTableReducer(s, { _tag: "FilterInput", text: "b" })
    s = sweepTableReducer(s, { _tag: "FilterInput", text: "x" })
    s = sweepTableReducer(s, { _tag: "FilterBackspace" })
    s = sweepTableReducer(s, { _tag: "CommitFilter" })
    expect(s).toMatchObject({ filter: "b", editingFilter: false })
    s = sweepTableReducer(s, { _tag: "ToggleSelect", runId: "a" })
    s = sweepTableReducer(s, { _tag: "ToggleSelect", runId: "b" })
    s = sweepTableReducer(s, { _tag: "ToggleSelect", runId: "a" })
    expect(s.selected).toEqual(["b"])
    expect(sweepTableReducer(s, { _tag: "ClearFilter" }).filter).toBe("")
  })
})

describe("run metrics", () => {
  it("appends batches by row id, ignores points already applied and copies only touched series", () => {
    const first = applyMetricPoints(initialRunMetrics("r"), [point(1, "loss", 0, 0.7), point(2, "rewards/margins", 0, 0), point(3, "loss", 1, 0.6)])
    expect(first.series[loss]).toEqual({ steps: [0, 1], values: [0.7, 0.6] })
    expect(first.lastId).toBe(3)
    const second = applyMetricPoints(first, [point(3, "loss", 1, 0.6), point(4, "loss", 2, 0.5)])
    expect(second.series[loss]!.values).toEqual([0.7, 0.6, 0.5])
    expect(second.series[seriesKey("train-x", "rewards/margins")]).toBe(first.series[seriesKey("train-x", "rewards/margins")])
    expect(second.points).toBe(4)
    expect(applyMetricPoints(second, [])).toBe(second)
  })

  it("keeps at most maxPointsPerSeries per series (the newest)", () => {
    const batch = Array.from({ length: maxPointsPerSeries + 10 }, (_, i) => point(i + 1, "loss", i, i))
    const s = applyMetricPoints(initialRunMetrics("r"), batch)
    expect(s.series[loss]!.steps.length).toBe(maxPointsPerSeries)
    expect(s.series[loss]!.steps[0]).toBe(10)
  })

  it("keeps one curve per stage and key, and orders the latest stage first, loss/accuracy/margin first", () => {
    const s = applyMetricPoints(initialRunMetrics("r"), [point(1, "loss", 0, 2, "train-sft"), point(2, "loss", 0, 0.7, "train-dpo")])
    expect(Object.keys(s.series)).toHaveLength(2)
    const keys = ["zeta", "rewards/margins", "rewards/accuracies", "loss", "grad_norm"].map((k) => seriesKey("train-dpo", k))
    expect(chartOrder([seriesKey("train-sft", "loss"), ...keys], ["train-sft", "train-dpo"])).toEqual([
      ...["loss", "rewards/accuracies", "rewards/margins", "grad_norm", "zeta"].map((k) => seriesKey("train-dpo", k)),
      seriesKey("train-sft", "loss")
    ])
  })
})

describe("launch", () => {
  it("goes pick → validating → invalid/preview, and only starts from a preview", () => {
    let s = launchReducer(initialLaunch, { _tag: "FilesLoaded", files: ["a.yaml", "b.yaml"] })
    s = launchReducer(s, { _tag: "Move", delta: 5 })
    expect(s.cursor).toBe(1)
    s = launchReducer(s, { _tag: "Validate", file: "b.yaml" })
    expect(launchReducer(s, { _tag: "Start", file: "b.yaml" }).phase._tag).toBe("Validating")
    const invalid = launchReducer(s, { _tag: "Rejected", file: "b.yaml", issues: [{ line: 3, column: 5, field: "stages.preference.params.beta", message: "Expected number" }], source: [] })
    expect(invalid.phase).toMatchObject({ _tag: "Invalid", issues: [{ line: 3 }] })
    expect(launchReducer(invalid, { _tag: "Reset" }).phase._tag).toBe("Pick")
  })

  it("collects a typed path", () => {
    let s = launchReducer(initialLaunch, { _tag: "EditPath" })
    for (const ch of "x.yml") s = launchReducer(s, { _tag: "PathInput", text: ch })
    s = launchReducer(s, { _tag: "PathBackspace" })
    expect(s).toMatchObject({ editingPath: true, path: "x.ym" })
  })
})
