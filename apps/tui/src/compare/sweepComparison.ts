import {
  bestRows,
  type ComparisonRow,
  type ComparisonTable,
  compareExperiment,
  type DirectionOf,
  type MetricCell,
  type UnknownMetricKeyError
} from "@empo/experiments/Compare"
import type { ComparisonData, ParamValue, RunId } from "@empo/store"

/**
 * The Compare screen's view of `compareExperiment` (the experiments package's logic, shared with
 * `empo compare`): restricted to chosen runs, with the baseline picked by row and the best row per metric.
 */
export interface ScreenComparison {
  readonly table: ComparisonTable
  /** Index of the best row per metric, by the direction its plugin's manifest gives (none without one). */
  readonly best: Readonly<Record<string, number | undefined>>
}

/** Keeps only `runIds` (all runs when undefined). Pure. */
export const restrictToRuns = (data: ComparisonData, runIds: ReadonlyArray<string> | undefined): ComparisonData => {
  if (runIds === undefined) return data
  const keep = new Set(runIds)
  return { runs: data.runs.filter((r) => keep.has(r.id)), params: data.params.filter((p) => keep.has(p.runId)), summary: data.summary.filter((s) => keep.has(s.runId)) }
}

/** Compares the chosen runs (or the whole sweep) against the configuration `baseline` belongs to. Pure. */
export const screenComparison = (
  experiment: string,
  data: ComparisonData,
  options: { readonly runIds?: ReadonlyArray<string> | undefined; readonly baseline?: RunId | undefined; readonly directionOf: DirectionOf }
): ScreenComparison | UnknownMetricKeyError => {
  // Headline metrics first, as `empo compare` orders them.
  const table = compareExperiment(experiment, restrictToRuns(data, options.runIds), { baseline: options.baseline, directionOf: options.directionOf })
  return "rows" in table ? { table, best: bestRows(table, options.directionOf) } : table
}

/** `*` p < .05, `**` p < .01, `***` p < .001 (Welch's t-test across seeds, against the baseline). */
export const significanceMarker = (p: number | undefined): string =>
  p === undefined || !Number.isFinite(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : ""

/** A number with `digits` significant digits, trimmed; `-` when not finite. */
export const formatNumber = (x: number, digits = 4): string => (Number.isFinite(x) ? String(Number(x.toPrecision(digits))) : "-")

/** `mean±ci` (the ± part only with two or more seeds) plus the significance marker. */
export const formatCell = (cell: MetricCell | undefined): string =>
  cell === undefined || cell.n === 0
    ? "-"
    : `${formatNumber(cell.mean)}${Number.isFinite(cell.ci95) ? `±${formatNumber(cell.ci95, 2)}` : ""}${significanceMarker(cell.p)}`

/** A row's label and its number of seeds, e.g. `beta=0.1 (3)`. */
export const rowLabel = (row: ComparisonRow): string => `${row.label} (${row.seeds.length})`

/** Params whose value differs between runs, seed excluded (the sweep's axes). Pure. */
export const varyingParams = (params: ReadonlyArray<{ readonly runId: string; readonly key: string; readonly value: ParamValue }>): Array<string> => {
  const values = new Map<string, Set<string>>()
  const runs = new Set<string>()
  const counts = new Map<string, number>()
  for (const p of params) {
    runs.add(p.runId)
    ;(values.get(p.key) ?? values.set(p.key, new Set()).get(p.key)!).add(JSON.stringify(p.value))
    counts.set(p.key, (counts.get(p.key) ?? 0) + 1)
  }
  // A key only some runs have also varies.
  return [...values.entries()].filter(([key, seen]) => key !== "seed" && (seen.size > 1 || counts.get(key)! < runs.size)).map(([key]) => key).sort()
}

/** Short column name of a dotted param path: its last segment, more when that is ambiguous. Pure. */
export const shortParamNames = (keys: ReadonlyArray<string>): Record<string, string> => {
  const names: Record<string, string> = {}
  for (const key of keys) {
    const parts = key.split(".")
    const clash = (d: number) => keys.some((other) => other !== key && other.split(".").slice(-d).join(".") === parts.slice(-d).join("."))
    let depth = 1
    while (depth < parts.length && clash(depth)) depth++
    names[key] = parts.slice(-depth).join(".")
  }
  return names
}
