// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { RunDetail } from "@empo/store"
import { render } from "ink-testing-library"
import { describe, expect, it } from "vitest"
import { RunDetailView } from "../src/ui/components/RunDetailView.tsx"
import { seriesKey, type RunMetricsState } from "../src/ui/state/runMetrics.ts"

const stage = { id: "train-1", kind: "train", name: "preference", position: 0, status: "completed", error: null, stderrTail: null }
const detail = {
  run: { id: "run-1", experiment: "e", label: "dpo beta=0.1 seed=0", seed: 0, position: 0, configJson: "{}", status: "completed", createdAt: 0, startedAt: null, finishedAt: null },
  params: [], stages: [stage], summary: [], consumed: [],
  artifacts: Array.from({ length: 12 }, (_, i) => ({ id: i, stageId: "train-1", name: `file-${String(i).padStart(2, "0")}.bin`, kind: "model", path: "/x", sha256: "0", size: 10, createdAt: 0 }))
} as unknown as RunDetail
const metrics: RunMetricsState = {
  runId: "run-1", lastId: 0, points: 40,
  series: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [seriesKey("train-1", `series_${String(i).padStart(2, "0")}`), { steps: [1, 2], values: [1, 2] }]))
}
const view = (seriesOffset: number, artifactOffset: number) =>
  render(<RunDetailView detail={detail} metrics={metrics} logLines={[]} width={80} height={16} now={0} seriesOffset={seriesOffset} artifactOffset={artifactOffset} />).lastFrame()!

describe("run detail scrolls to every series and artifact (issue 11 item 9)", () => {
  it("shows which rows are on screen, and an offset brings the last series and artifact into view", () => {
    const top = view(0, 0)
    expect(top).toMatch(/1–\d+ of 10 series/)
    expect(top).toContain("series_00")
    expect(top).not.toContain("series_09")
    expect(top).toContain("file-00.bin")
    expect(top).not.toContain("file-11.bin")
    const scrolled = view(99, 99)
    expect(scrolled).toContain("series_09")
    expect(scrolled).not.toContain("series_00")
    expect(scrolled).toMatch(/–10 of 10 series/)
    expect(scrolled).toContain("file-11.bin")
    expect(scrolled).toMatch(/–12 of 12/)
  })
})
