// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { MetricKey } from "@empo/core/MetricKey"
import { Plugins } from "@empo/experiments/Plugins"
import * as Effect from "effect/Effect"
import { Box, Text } from "ink"
import { useEffect, useMemo } from "react"
import { shortParamNames, varyingParams } from "../../compare/sweepComparison.ts"
import { Launcher } from "../../data/Launcher.ts"
import { type SweepRow, TuiStore } from "../../data/TuiStore.ts"
import { fittingColumns, SweepTable } from "../components/SweepTable.tsx"
import { useAction } from "../hooks/useAction.ts"
import { usePolledQuery } from "../hooks/usePolledQuery.ts"
import { useScreenKeys } from "../hooks/ScreenKeys.ts"
import { useSyncReducer } from "../hooks/useSyncReducer.ts"
import { Command, matches } from "../key/keyBindings.ts"
import {
  descendingFirst,
  initialSweepTable,
  isHeadline,
  scrolledColumns,
  type SweepColumn,
  type SweepTableState,
  sweepTableReducer,
  visibleRows
} from "../state/sweepTable.ts"
import type { ScreenProps } from "./ScreenProps.ts"

/**
 * The table's columns for these rows: the params that vary, seed, status, stage, then the summary metrics, those
 * that score something (a better direction in their plugin's manifest) first, so they are the ones in view;
 * descriptions (row counts, lengths) and keys no plugin describes follow, reachable with `]`. Pure.
 */
export const sweepColumns = (
  rows: ReadonlyArray<SweepRow>,
  metricKey: (key: string) => MetricKey | undefined = () => undefined
): Array<SweepColumn> => {
  const axes = varyingParams(rows.flatMap((r) => Object.entries(r.params).map(([key, value]) => ({ runId: r.id, key, value }))))
  const names = shortParamNames(axes)
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.summary)))].sort()
  const metricNames = shortParamNames(keys)
  const metrics = keys.map((key): SweepColumn => ({ kind: "metric", key, title: metricNames[key]!, direction: metricKey(key)?.direction }))
  return [
    ...axes.map((key): SweepColumn => ({ kind: "param", key, title: names[key]! })),
    { kind: "seed", title: "seed" },
    { kind: "status", title: "status" },
    { kind: "stage", title: "stage" },
    ...metrics.filter(isHeadline),
    ...metrics.filter((c) => !isHeadline(c))
  ]
}

export interface SweepScreenProps extends ScreenProps {
  readonly experiment: string
  /** Table state per experiment, kept by the app so filter, sort and cursor survive opening a run and coming back. */
  readonly memory: Map<string, SweepTableState>
}

export const SweepScreen = ({ experiment, memory, width, height, navigate }: SweepScreenProps) => {
  // The catalogue rides along: metric directions decide which columns lead and which way they sort first.
  const query = useMemo(() => Effect.all({ rows: TuiStore.pipe(Effect.flatMap((store) => store.sweep(experiment))), plugins: Plugins }), [experiment])
  const { data: polled, error } = usePolledQuery(query, [experiment])
  const data = polled?.rows
  const [table, dispatch, tableNow] = useSyncReducer(sweepTableReducer, memory.get(experiment) ?? initialSweepTable)
  useEffect(() => () => {
    memory.set(experiment, tableNow.current)
  }, [memory, experiment, tableNow])
  const run = useAction()
  const columns = useMemo(() => sweepColumns(data ?? [], polled?.plugins.metricKey), [data, polled?.plugins])
  const metricCount = columns.filter((c) => c.kind === "metric").length
  const rows = useMemo(() => visibleRows(data ?? [], columns, table), [data, columns, table.filter, table.sortColumn, table.descending])
  const cursor = Math.min(table.cursor, Math.max(0, rows.length - 1))

  useScreenKeys((input, key) => {
    const table = tableNow.current
    if (table.editingFilter) {
      if (key.escape) dispatch({ _tag: "ClearFilter" })
      else if (key.return) dispatch({ _tag: "CommitFilter" })
      else if (key.backspace || key.delete) dispatch({ _tag: "FilterBackspace" })
      else if (input !== "" && !key.ctrl && !key.meta) dispatch({ _tag: "FilterInput", text: input })
      return true
    }
    const page = Math.max(1, height - 4)
    // From the state this key sees, not the last render: keys can arrive faster than frames.
    const shown = visibleRows(data ?? [], columns, table)
    const current = shown[Math.min(table.cursor, Math.max(0, shown.length - 1))]
    if (matches(Command.Up, input, key)) dispatch({ _tag: "Move", delta: -1, rows: shown.length })
    else if (matches(Command.Down, input, key)) dispatch({ _tag: "Move", delta: 1, rows: shown.length })
    else if (matches(Command.PageUp, input, key)) dispatch({ _tag: "Move", delta: -page, rows: shown.length })
    else if (matches(Command.PageDown, input, key)) dispatch({ _tag: "Move", delta: page, rows: shown.length })
    else if (matches(Command.Filter, input, key)) dispatch({ _tag: "StartFilter" })
    else if (matches(Command.Sort, input, key)) dispatch({ _tag: "NextSort", columns: columns.length })
    else if (matches(Command.Reverse, input, key)) dispatch({ _tag: "Reverse" })
    else if (matches(Command.ColumnsLeft, input, key)) dispatch({ _tag: "ShiftMetrics", delta: -1, metrics: metricCount })
    else if (matches(Command.ColumnsRight, input, key)) dispatch({ _tag: "ShiftMetrics", delta: 1, metrics: metricCount })
    else if (matches(Command.SortByColumn, input, key)) {
      // The n-th column on screen, as the header shows it.
      const column = fittingColumns(scrolledColumns(columns, table.firstMetric ?? 0), width)[Number(input) - 1]
      if (column !== undefined) dispatch({ _tag: "SortBy", column: columns.indexOf(column), descendingFirst: descendingFirst(column) })
    }
    else if (matches(Command.Select, input, key) && current !== undefined) dispatch({ _tag: "ToggleSelect", runId: current.id })
    else if (matches(Command.Open, input, key) && current !== undefined) navigate({ _tag: "Open", screen: { kind: "run", experiment, runId: current.id } })
    else if (matches(Command.Compare, input, key)) {
      navigate({ _tag: "Open", screen: { kind: "compare", experiment, runIds: table.selected.length > 0 ? table.selected : undefined } })
    } else if (matches(Command.CancelSweep, input, key)) {
      run(Launcher.pipe(Effect.flatMap((l) => l.cancel(experiment))),
        (pid) => navigate({ _tag: "Notify", notice: { tone: "info", text: `sent SIGINT to runner ${pid}; running stages are marked interrupted` } }),
        (message) => navigate({ _tag: "Notify", notice: { tone: "error", text: message } }))
    } else if (key.escape && table.filter !== "") dispatch({ _tag: "ClearFilter" })
    else return false
    return true
  })

  if (data === undefined) return <Text dimColor>{error ?? `reading ${experiment}…`}</Text>
  const firstMetric = Math.min(table.firstMetric ?? 0, Math.max(0, metricCount - 1))
  const inView = fittingColumns(scrolledColumns(columns, firstMetric), width).filter((c) => c.kind === "metric").length
  const headlines = columns.filter(isHeadline).length
  const metricsNote = metricCount === 0 ? "" : ` · metrics ${Math.min(metricCount, firstMetric + 1)}–${firstMetric + inView} of ${metricCount}${metricCount > inView ? " ([ ])" : ""}${headlines === 0 ? "" : ` · ${headlines} scored`}`
  const sortTitle = table.sortColumn === null ? "sweep order" : `${columns[table.sortColumn]?.title ?? ""} ${table.descending ? "desc" : "asc"}`
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{experiment}</Text>
        <Text dimColor> {rows.length}/{data.length} runs · sort: {sortTitle}{metricsNote}{table.selected.length > 0 ? ` · ${table.selected.length} chosen` : ""}</Text>
        {(table.editingFilter || table.filter !== "") && <Text color="cyan"> /{table.filter}{table.editingFilter ? "█" : ""}</Text>}
      </Text>
      {error !== undefined && <Text color="red">{error}</Text>}
      <SweepTable rows={rows} columns={columns} firstMetric={firstMetric} cursor={cursor} selected={table.selected} sortColumn={table.sortColumn} descending={table.descending} height={height - 1} width={width} />
    </Box>
  )
}
