import type { MetricPointRecord } from "@empo/store"

/** Series are per stage and key: SFT and preference training both report `loss`, as two curves. */
export const seriesKey = (stageId: string, key: string): string => `${stageId}\u0000${key}`

export const splitSeriesKey = (series: string): { readonly stageId: string; readonly key: string } => {
  const at = series.indexOf("\u0000")
  return { stageId: series.slice(0, at), key: series.slice(at + 1) }
}

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
    const name = seriesKey(point.stageId, point.key)
    let series = touched.get(name)
    if (series === undefined) {
      const old = state.series[name]
      series = { steps: old === undefined ? [] : [...old.steps], values: old === undefined ? [] : [...old.values] }
      touched.set(name, series)
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

/**
 * Curves of the latest stage first (the one training now), and within a stage loss, reward accuracy and
 * margin (TRL's names) before the rest. `stageOrder` is the run's stage ids in pipeline order.
 */
export const chartOrder = (series: ReadonlyArray<string>, stageOrder: ReadonlyArray<string> = []): Array<string> => {
  const rank = (k: string) => (/loss/i.test(k) ? 0 : /accurac/i.test(k) ? 1 : /margin/i.test(k) ? 2 : 3)
  const position = (id: string) => stageOrder.indexOf(id)
  return [...series].sort((a, b) => {
    const x = splitSeriesKey(a)
    const y = splitSeriesKey(b)
    return position(y.stageId) - position(x.stageId) || rank(x.key) - rank(y.key) || x.key.localeCompare(y.key)
  })
}
