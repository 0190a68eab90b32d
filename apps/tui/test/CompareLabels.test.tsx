// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { ComparisonData, RunId, RunRecord, StageId } from "@empo/store"
import { render } from "ink-testing-library"
import { describe, expect, it } from "vitest"
import { screenComparison } from "../src/compare/sweepComparison.ts"
import { CompareTable } from "../src/ui/components/CompareTable.tsx"

const run = (id: string, label: string) =>
  ({ id: id as RunId, experiment: "e", label, seed: 0, position: 0, configJson: "{}", status: "completed", createdAt: 0, startedAt: null, finishedAt: null }) as unknown as RunRecord
const axes = { "data.grounder": ["plutchik-original", "vad-distance"], "stages.preference.optimizer": ["dpo", "kto"], "stages.preference.params.beta": [0.025, 0.1] } as const
const data: ComparisonData = {
  runs: [run("a", "grounder=plutchik-original dpo beta=0.025"), run("b", "grounder=vad-distance kto beta=0.1")],
  params: (["a", "b"] as const).flatMap((id, i) => Object.entries(axes).map(([key, values]) => ({ runId: id as RunId, key, value: values[i]! }))),
  summary: (["a", "b"] as const).map((id, i) => ({ runId: id as RunId, stageId: `evaluate-${id}` as StageId, key: "distinct.distinct_2", value: 0.4 + i / 10 }))
}

describe("compare shows whole configuration labels (issue 11 item 9)", () => {
  it("the configuration under the cursor is written out in full below the cut table", () => {
    const comparison = screenComparison("e", data, { directionOf: () => undefined })
    if (!("table" in comparison)) throw comparison
    const full = comparison.table.rows[1]!.label
    expect(full.length).toBeGreaterThan(28)
    const { lastFrame, rerender } = render(<CompareTable comparison={comparison} cursor={0} firstMetric={0} height={10} width={80} />)
    expect(lastFrame()).toContain(`› ${comparison.table.rows[0]!.label} (1)`)
    rerender(<CompareTable comparison={comparison} cursor={1} firstMetric={0} height={10} width={80} />)
    expect(lastFrame()).toContain(`› ${full} (1)`)
  })
})
