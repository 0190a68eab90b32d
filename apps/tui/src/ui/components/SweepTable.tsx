// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import type { SweepRow } from "../../data/TuiStore.ts"
import { scrollOffset } from "../state/listCursor.ts"
import { cellText, scrolledColumns, type SweepColumn } from "../state/sweepTable.ts"
import { fit, statusColor } from "./format.ts"

export interface SweepTableProps {
  readonly rows: ReadonlyArray<SweepRow>
  readonly columns: ReadonlyArray<SweepColumn>
  /** Metric columns scrolled out of view on the left (`[` / `]`). */
  readonly firstMetric?: number
  readonly cursor: number
  readonly selected: ReadonlyArray<string>
  readonly sortColumn: number | null
  readonly descending: boolean
  readonly height: number
  readonly width: number
}

// Titles carry their 1–9 sort key ("4:loss"), hence the +3.
const columnWidth = (column: SweepColumn): number =>
  column.kind === "status" ? 11 : column.kind === "stage" ? 16 : column.kind === "seed" ? 6 : Math.max(7, Math.min(15, column.title.length + 3))

/** Which columns fit in `width`: status and stage always, then params, seed and metrics in that order. Pure. */
export const fittingColumns = (columns: ReadonlyArray<SweepColumn>, width: number): Array<SweepColumn> => {
  const fixed = columns.filter((c) => c.kind === "status" || c.kind === "stage")
  let used = 2 + fixed.reduce((sum, c) => sum + columnWidth(c) + 1, 0)
  const kept = new Set<SweepColumn>(fixed)
  for (const c of columns) {
    if (kept.has(c)) continue
    if (used + columnWidth(c) + 1 > width) break
    used += columnWidth(c) + 1
    kept.add(c)
  }
  return columns.filter((c) => kept.has(c))
}

/**
 * The runs of a sweep: the params that vary, seed, status, current stage and summary metrics. A failed
 * run under the cursor shows its error line below it.
 */
export const SweepTable = ({ rows, columns, firstMetric = 0, cursor, selected, sortColumn, descending, height, width }: SweepTableProps) => {
  const shown = fittingColumns(scrolledColumns(columns, firstMetric), width)
  const sorted = sortColumn === null ? undefined : columns[sortColumn]
  const bodyHeight = Math.max(1, height - 2)
  const offset = scrollOffset(cursor, bodyHeight, rows.length)
  const visible = rows.slice(offset, offset + bodyHeight)
  const current = rows[cursor]
  return (
    <Box flexDirection="column">
      <Text bold>
        {"  "}
        {shown.map((c) => {
          const mark = c === sorted ? (descending ? "↓" : "↑") : ""
          // 1–9 sort by that column directly: number the first nine.
          const n = shown.indexOf(c)
          return `${fit(`${n < 9 ? `${n + 1}:` : ""}${c.title}${mark}`, columnWidth(c), c.kind === "metric" ? "right" : "left")} `
        }).join("")}
      </Text>
      {rows.length === 0 && <Text dimColor>  no run matches the filter</Text>}
      {visible.map((row, i) => {
        const isCursor = offset + i === cursor
        return (
          <Text key={row.id} inverse={isCursor}>
            {selected.includes(row.id) ? "● " : "  "}
            {shown.map((c) => {
              const text = fit(cellText(row, c), columnWidth(c), c.kind === "metric" ? "right" : "left")
              return c.kind === "status"
                ? <Text key={c.title} color={statusColor(row.status)}>{text} </Text>
                : <Text key={c.title}>{text} </Text>
            })}
          </Text>
        )
      })}
      <Text color="red">{current?.error == null ? " " : fit(`${current.label}: ${current.error}`, width)}</Text>
    </Box>
  )
}
