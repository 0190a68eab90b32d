// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { defineMetric, Metric, MetricScores } from "@empo/core"
import { Plugins } from "@empo/experiments/Plugins"
import type { ComparisonData, RunId, RunRecord, StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { isValidElement, type ReactNode } from "react"
import { render } from "ink-testing-library"
import { describe, expect, it } from "vitest"
import { screenComparison } from "../src/compare/sweepComparison.ts"
import { CompareTable } from "../src/ui/components/CompareTable.tsx"

// A metric plugin whose manifest gives one lower-is-better key, one higher-is-better and one without direction.
const vadLike = defineMetric({
  manifest: {
    id: "vad", kind: "metric", version: "1.0.0", description: "test plugin with three directions",
    keys: {
      diff_max_v_abs_mean: { direction: "lower", label: "|ΔV max|" },
      response_max_v_mean: { direction: "none", label: "V max" },
      nidf: { direction: "higher", label: "NIDF" }
    }
  },
  params: Schema.Struct({}),
  layer: () => Layer.succeed(Metric, Metric.of({ id: "vad", version: "1.0.0", params: {}, resources: [], score: () => Effect.succeed(new MetricScores({ metric: "vad", version: "1.0.0", params: {}, resources: [], perItem: {}, aggregate: {} })) }))
})

const run = (id: string, beta: number) =>
  ({ id: id as RunId, experiment: "e", label: `beta=${beta}`, seed: 0, position: 0, configJson: "{}", status: "completed", createdAt: 0, startedAt: null, finishedAt: null }) as unknown as RunRecord

// Three configurations; β 0.5 has the smallest |ΔV| (best) and the largest V max and NIDF.
const values = { a: [0.2, 0.7, 0.30], b: [0.1, 0.9, 0.25], c: [0.3, 0.8, 0.35] } as const
const data: ComparisonData = {
  runs: [run("a", 0.1), run("b", 0.5), run("c", 1)],
  params: (["a", "b", "c"] as const).map((id, i) => ({ runId: id as RunId, key: "stages.preference.params.beta", value: [0.1, 0.5, 1][i]! })),
  summary: (["a", "b", "c"] as const).flatMap((id) => [
    { runId: id as RunId, stageId: `evaluate-${id}` as StageId, key: "vad.diff_max_v_abs_mean", value: values[id][0] },
    { runId: id as RunId, stageId: `evaluate-${id}` as StageId, key: "vad.response_max_v_mean", value: values[id][1] },
    { runId: id as RunId, stageId: `evaluate-${id}` as StageId, key: "vad.nidf", value: values[id][2] }
  ])
}

/** Texts of the cells CompareTable draws in green (the best of their column). */
const greenCells = (node: ReactNode): Array<string> => {
  if (Array.isArray(node)) return node.flatMap(greenCells)
  if (!isValidElement(node)) return []
  const props = node.props as { readonly color?: string; readonly children?: ReactNode }
  if (props.color === "green") return [[props.children].flat().join("").trim()]
  return greenCells(props.children)
}

describe("CompareTable best marking", () => {
  it("marks the minimum of a lower-is-better metric, the maximum of a higher-is-better one, nothing for one without direction", async () => {
    const plugins = await Effect.runPromise(Plugins.make({ metrics: [vadLike], optimizers: [] }))
    const comparison = screenComparison("e", data, { directionOf: (key) => plugins.metricKey(key)?.direction })
    if (!("table" in comparison)) throw comparison
    const rows = comparison.table.rows.map((r) => r.label)
    expect(rows[comparison.best["vad.diff_max_v_abs_mean"]!]).toBe("beta=0.5")
    expect(rows[comparison.best["vad.nidf"]!]).toBe("beta=1")
    expect(comparison.best["vad.response_max_v_mean"]).toBeUndefined()

    const element = CompareTable({ comparison, cursor: 0, firstMetric: 0, height: 10, width: 120 })
    // Columns are sorted by key: diff_max_v_abs_mean, nidf, response_max_v_mean.
    expect(greenCells(element)).toEqual(["0.1", "0.35"])
    // Headers carry the manifest's direction (`empo compare`'s markers); a description has none.
    const header = render(element).lastFrame()!.split("\n")[0]!
    expect(header).toMatch(/↓diff_max_v.*↑nidf.* response_max_v/)
  })

  it("marks nothing for keys no plugin describes", () => {
    const comparison = screenComparison("e", data, { directionOf: () => undefined })
    if (!("table" in comparison)) throw comparison
    expect(greenCells(CompareTable({ comparison, cursor: 0, firstMetric: 0, height: 10, width: 120 }))).toEqual([])
  })
})
