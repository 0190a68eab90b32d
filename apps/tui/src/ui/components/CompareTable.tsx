// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { directionMarker } from "@empo/experiments/Compare"
import { Box, Text } from "ink"
import { formatCell, rowLabel, type ScreenComparison, shortParamNames } from "../../compare/sweepComparison.ts"
import { scrollOffset } from "../state/listCursor.ts"
import { fit } from "./format.ts"

export interface CompareTableProps {
  readonly comparison: ScreenComparison
  readonly cursor: number
  /** First metric column shown (the table scrolls sideways when metrics do not fit). */
  readonly firstMetric: number
  readonly height: number
  readonly width: number
}

const cellWidth = 16

/** Configurations × metrics as mean ± 95% CI across seeds; the best of each column in green, markers vs the baseline. */
export const CompareTable = ({ comparison, cursor, firstMetric, height, width }: CompareTableProps) => {
  const { table, best } = comparison
  if (table.metrics.length === 0) return <Text dimColor>No evaluation metrics yet for these runs (they appear when evaluate stages complete).</Text>
  const labelWidth = Math.min(28, Math.max(14, Math.floor(width * 0.3)))
  const fitting = Math.max(1, Math.floor((width - labelWidth - 3) / (cellWidth + 1)))
  const metrics = table.metrics.slice(firstMetric, firstMetric + fitting)
  const bodyHeight = Math.max(1, height - 2)
  const offset = scrollOffset(cursor, bodyHeight, table.rows.length)
  const hasBaseline = table.rows.some((r) => r.isBaseline)
  const titles = shortParamNames(table.metrics)
  return (
    <Box flexDirection="column">
      <Text bold>{fit("configuration (seeds)", labelWidth + 2)} {metrics.map((m) => `${fit(`${directionMarker(table.directions[m])}${titles[m]!}`, cellWidth, "right")} `).join("")}</Text>
      {table.rows.slice(offset, offset + bodyHeight).map((row, i) => {
        const index = offset + i
        return (
          <Text key={row.runs[0] ?? index} inverse={index === cursor}>
            {row.isBaseline ? "◆ " : "  "}
            {fit(rowLabel(row), labelWidth)}{" "}
            {metrics.map((m) => {
              const text = fit(formatCell(row.metrics[m]), cellWidth, "right")
              return best[m] === index ? <Text key={m} color="green" bold>{text} </Text> : <Text key={m}>{text} </Text>
            })}
          </Text>
        )
      })}
      {/* Labels are cut to fit the table; the one under the cursor is shown whole (wrapped when long). */}
      <Text wrap="wrap">› {table.rows[cursor] === undefined ? "" : rowLabel(table.rows[cursor]!)}</Text>
      <Text dimColor>
        {fit(`${hasBaseline ? "◆ baseline · * p<.05 ** p<.01 *** p<.001 (Welch) · " : "b sets a baseline · "}green = best · ↑/↓ better · mean±95% CI · metrics ${firstMetric + 1}-${firstMetric + metrics.length}/${table.metrics.length}`, width)}
      </Text>
    </Box>
  )
}
