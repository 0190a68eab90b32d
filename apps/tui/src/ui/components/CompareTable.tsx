import { Box, Text } from "ink"
import { formatCell, significanceMarker, type SweepComparison } from "../../compare/sweepComparison.ts"
import { scrollOffset } from "../state/listCursor.ts"
import { fit } from "./format.ts"

export interface CompareTableProps {
  readonly comparison: SweepComparison
  readonly cursor: number
  /** First metric column shown (the table scrolls sideways when metrics do not fit). */
  readonly firstMetric: number
  readonly height: number
  readonly width: number
}

const cellWidth = 15

/** Groups × metrics as mean ± CI across seeds; the best of each column in green, markers vs the baseline. */
export const CompareTable = ({ comparison, cursor, firstMetric, height, width }: CompareTableProps) => {
  const labelWidth = Math.min(28, Math.max(14, Math.floor(width * 0.3)))
  const fitting = Math.max(1, Math.floor((width - labelWidth - 4) / (cellWidth + 1)))
  const metrics = comparison.metrics.slice(firstMetric, firstMetric + fitting)
  const bodyHeight = Math.max(1, height - 3)
  const offset = scrollOffset(cursor, bodyHeight, comparison.groups.length)
  if (comparison.metrics.length === 0) return <Text dimColor>No summary metrics yet for these runs (they appear when evaluate stages complete).</Text>
  return (
    <Box flexDirection="column">
      <Text bold>{fit("group (n)", labelWidth + 2)}{metrics.map((m) => `${fit(m, cellWidth, "right")} `).join("")}</Text>
      {comparison.groups.slice(offset, offset + bodyHeight).map((g, i) => {
        const n = Math.max(0, ...Object.values(g.cells).map((c) => c?.n ?? 0))
        return (
          <Text key={g.key} inverse={offset + i === cursor}>
            {g.key === comparison.baseline ? "◆ " : "  "}
            {fit(`${g.label} (${n})`, labelWidth)}
            {metrics.map((m) => {
              const cell = g.cells[m]
              const text = fit(`${formatCell(cell)}${significanceMarker(cell?.pValue ?? Number.NaN)}`, cellWidth, "right")
              return comparison.best[m] === g.key
                ? <Text key={m} color="green" bold>{text} </Text>
                : <Text key={m}>{text} </Text>
            })}
          </Text>
        )
      })}
      <Text dimColor>
        {fit(`◆ baseline · green = best · * p<.05 ** p<.01 *** p<.001 (Welch) · ${Math.round(comparison.confidence * 100)}% CI · metrics ${firstMetric + 1}-${firstMetric + metrics.length}/${comparison.metrics.length}`, width)}
      </Text>
    </Box>
  )
}
