// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import type { SweepRow } from "../../data/TuiStore.ts"
import { scrollOffset } from "../state/listCursor.ts"
import { cellText, type SweepColumn } from "../state/sweepTable.ts"
import { fit, statusColor } from "./format.ts"

export interface SweepTableProps {
  readonly rows: ReadonlyArray<SweepRow>
  readonly columns: ReadonlyArray<SweepColumn>
  readonly cursor: number
  readonly selected: ReadonlyArray<string>
  readonly sortColumn: number | null
  readonly descending: boolean
  readonly height: number
  readonly width: number
}

const columnWidth = (column: SweepColumn): number =>
  column.kind === "status" ? 11 : column.kind === "stage" ? 16 : column.kind === "seed" ? 4 : Math.max(7, Math.min(13, column.title.length + 1))

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
export const SweepTable = ({ rows, columns, cursor, selected, sortColumn, descending, height, width }: SweepTableProps) => {
  const shown = fittingColumns(columns, width)
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
          return `${fit(`${c.title}${mark}`, columnWidth(c), c.kind === "metric" ? "right" : "left")} `
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
