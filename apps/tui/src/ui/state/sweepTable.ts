import type { SweepRow } from "../../data/TuiStore.ts"
import { moveCursor } from "./listCursor.ts"

/** A column of the sweep table: a varying param, the seed, the status, the stage or a summary metric. */
export type SweepColumn =
  | { readonly kind: "param"; readonly key: string; readonly title: string }
  | { readonly kind: "seed" | "status" | "stage"; readonly title: string }
  | {
    readonly kind: "metric"
    readonly key: string
    readonly title: string
    /** From the metric's manifest (`Plugins.metricKey`); undefined for keys no plugin describes. */
    readonly direction?: "higher" | "lower" | "none" | undefined
  }

/** A metric column that scores something (a direction is better): these come first and show by default. */
export const isHeadline = (column: SweepColumn): boolean =>
  column.kind === "metric" && (column.direction === "higher" || column.direction === "lower")

export interface SweepTableState {
  readonly cursor: number
  /** Index into the columns; null keeps the sweep's own order. */
  readonly sortColumn: number | null
  readonly descending: boolean
  readonly filter: string
  readonly editingFilter: boolean
  /** Runs chosen for compare. */
  readonly selected: ReadonlyArray<string>
  /** Metric columns before this one are scrolled out of view (`[` / `]`). */
  readonly firstMetric: number
}

export type SweepTableAction =
  | { readonly _tag: "Move"; readonly delta: number; readonly rows: number }
  | { readonly _tag: "NextSort"; readonly columns: number }
  | { readonly _tag: "Reverse" }
  | { readonly _tag: "StartFilter" }
  | { readonly _tag: "FilterInput"; readonly text: string }
  | { readonly _tag: "FilterBackspace" }
  | { readonly _tag: "CommitFilter" }
  | { readonly _tag: "ClearFilter" }
  | { readonly _tag: "ToggleSelect"; readonly runId: string }
  /** Sort by this column (index into the columns); the sorted column again reverses the order. */
  | { readonly _tag: "SortBy"; readonly column: number; readonly descendingFirst: boolean }
  | { readonly _tag: "ShiftMetrics"; readonly delta: number; readonly metrics: number }

export const initialSweepTable: SweepTableState = { cursor: 0, sortColumn: null, descending: false, filter: "", editingFilter: false, selected: [], firstMetric: 0 }

export const sweepTableReducer = (state: SweepTableState, action: SweepTableAction): SweepTableState => {
  switch (action._tag) {
    case "Move":
      return { ...state, cursor: moveCursor(state.cursor, action.delta, action.rows) }
    case "NextSort": {
      // none → column 0 → … → last → none
      const next = state.sortColumn === null ? 0 : state.sortColumn + 1
      return { ...state, sortColumn: next >= action.columns ? null : next, cursor: 0 }
    }
    case "Reverse":
      return { ...state, descending: !state.descending, cursor: 0 }
    case "StartFilter":
      return { ...state, editingFilter: true }
    case "FilterInput":
      return { ...state, filter: state.filter + action.text, cursor: 0 }
    case "FilterBackspace":
      return { ...state, filter: state.filter.slice(0, -1), cursor: 0 }
    case "CommitFilter":
      return { ...state, editingFilter: false }
    case "ClearFilter":
      return { ...state, filter: "", editingFilter: false, cursor: 0 }
    case "SortBy":
      return state.sortColumn === action.column
        ? { ...state, descending: !state.descending, cursor: 0 }
        : { ...state, sortColumn: action.column, descending: action.descendingFirst, cursor: 0 }
    case "ShiftMetrics":
      return { ...state, firstMetric: Math.max(0, Math.min(Math.max(0, action.metrics - 1), (state.firstMetric ?? 0) + action.delta)) }
    case "ToggleSelect":
      return {
        ...state,
        selected: state.selected.includes(action.runId) ? state.selected.filter((id) => id !== action.runId) : [...state.selected, action.runId]
      }
  }
}

/** The columns with the first `firstMetric` metric columns scrolled out of view. Pure. */
export const scrolledColumns = (columns: ReadonlyArray<SweepColumn>, firstMetric: number): Array<SweepColumn> => {
  const metrics = columns.filter((c) => c.kind === "metric")
  const hidden = new Set<SweepColumn>(metrics.slice(0, firstMetric))
  return columns.filter((c) => !hidden.has(c))
}

/** Best first: a metric where higher is better sorts descending when first chosen. */
export const descendingFirst = (column: SweepColumn | undefined): boolean => column?.kind === "metric" && column.direction === "higher"

const formatValue = (v: unknown): string =>
  v === undefined || v === null ? "" : typeof v === "number" ? String(Number(v.toPrecision(4))) : String(v)

/** The text a cell shows (also what the filter and the sort read). */
export const cellText = (row: SweepRow, column: SweepColumn): string => {
  switch (column.kind) {
    case "param": return formatValue(row.params[column.key])
    case "seed": return String(row.seed)
    case "status": return row.status
    case "stage": return row.stage === null ? "done" : `${row.stage.name} ${row.stage.done}/${row.stage.total}`
    case "metric": return formatValue(row.summary[column.key])
  }
}

const sortValue = (row: SweepRow, column: SweepColumn): number | string => {
  if (column.kind === "metric") return row.summary[column.key] ?? Number.NEGATIVE_INFINITY
  if (column.kind === "param") {
    const v = row.params[column.key]
    return typeof v === "number" ? v : formatValue(v)
  }
  if (column.kind === "seed") return row.seed
  return cellText(row, column)
}

/**
 * Rows after the filter (every whitespace-separated term must appear in the label, a cell, the
 * status or the error; `key=value` matches a param or metric column) and the sort. Pure.
 */
export const visibleRows = (rows: ReadonlyArray<SweepRow>, columns: ReadonlyArray<SweepColumn>, state: Pick<SweepTableState, "filter" | "sortColumn" | "descending">): Array<SweepRow> => {
  const terms = state.filter.toLowerCase().split(/\s+/).filter((t) => t !== "")
  const matchesTerm = (row: SweepRow, term: string): boolean => {
    const eq = term.indexOf("=")
    if (eq > 0) {
      const [name, value] = [term.slice(0, eq), term.slice(eq + 1)]
      return columns.some((c) => c.title.toLowerCase() === name && cellText(row, c).toLowerCase() === value)
    }
    const haystack = [row.label, row.id, row.error ?? "", ...columns.map((c) => cellText(row, c))].join(" ").toLowerCase()
    return haystack.includes(term)
  }
  const filtered = terms.length === 0 ? [...rows] : rows.filter((row) => terms.every((t) => matchesTerm(row, t)))
  const column = state.sortColumn === null ? undefined : columns[state.sortColumn]
  if (column === undefined) return state.descending ? filtered.reverse() : filtered
  const direction = state.descending ? -1 : 1
  return filtered.sort((a, b) => {
    const x = sortValue(a, column)
    const y = sortValue(b, column)
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true })
    return direction * order || a.position - b.position
  })
}
