import type { MetricPointRecord } from "@empo/store"

/** One metric curve (steps ascending as the runner writes them). */
export interface Series {
  readonly steps: ReadonlyArray<number>
  readonly values: ReadonlyArray<number>
}

/** What the Run detail screen knows of a run's metric series, built up batch by batch. */
export interface RunMetricsState {
  readonly runId: string
  /** Row id of the newest point applied: the next poll asks only for points after it. */
  readonly lastId: number
  readonly series: Readonly<Record<string, Series>>
  readonly points: number
}

/** Points kept per series; older ones are dropped (a sparkline is at most a terminal wide). */
export const maxPointsPerSeries = 4000

export const initialRunMetrics = (runId: string): RunMetricsState => ({ runId, lastId: 0, series: {}, points: 0 })

/**
 * Appends a batch from `metricPointsSince` (ordered by row id). Only the series the batch touches are
 * copied, so applying a batch costs O(batch + touched series), not O(all points). Pure.
 */
export const applyMetricPoints = (state: RunMetricsState, batch: ReadonlyArray<MetricPointRecord>): RunMetricsState => {
  if (batch.length === 0) return state
  const touched = new Map<string, { steps: Array<number>; values: Array<number> }>()
  let lastId = state.lastId
  let added = 0
  for (const point of batch) {
    if (point.id <= lastId) continue
    lastId = point.id
    added++
    let series = touched.get(point.key)
    if (series === undefined) {
      const old = state.series[point.key]
      series = { steps: old === undefined ? [] : [...old.steps], values: old === undefined ? [] : [...old.values] }
      touched.set(point.key, series)
    }
    series.steps.push(point.step)
    series.values.push(point.value)
  }
  if (added === 0) return state
  const series: Record<string, Series> = { ...state.series }
  for (const [key, s] of touched) {
    const excess = s.steps.length - maxPointsPerSeries
    series[key] = excess > 0 ? { steps: s.steps.slice(excess), values: s.values.slice(excess) } : s
  }
  return { ...state, lastId, series, points: state.points + added }
}

/** The curves the issue asks for first (TRL's names), then the rest alphabetically. */
export const chartOrder = (keys: ReadonlyArray<string>): Array<string> => {
  const rank = (k: string) => (/loss/i.test(k) ? 0 : /accurac/i.test(k) ? 1 : /margin/i.test(k) ? 2 : 3)
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}
