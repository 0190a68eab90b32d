// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import { formatNumber } from "../../compare/sweepComparison.ts"
import { fit } from "./format.ts"

const blocks = "▁▂▃▄▅▆▇█"

/** Resamples `values` to `width` buckets (mean per bucket) and maps each to one of eight block heights. Pure. */
export const sparkline = (values: ReadonlyArray<number>, width: number): string => {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0 || width <= 0) return ""
  const buckets = Math.min(width, finite.length)
  const means: Array<number> = []
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * finite.length) / buckets)
    const to = Math.max(from + 1, Math.floor(((b + 1) * finite.length) / buckets))
    let sum = 0
    for (let i = from; i < to; i++) sum += finite[i]!
    means.push(sum / (to - from))
  }
  const min = Math.min(...means)
  const max = Math.max(...means)
  const span = max - min
  return means.map((v) => blocks[span === 0 ? 3 : Math.round(((v - min) / span) * (blocks.length - 1))]).join("")
}

export interface SparklineRowProps {
  readonly label: string
  readonly values: ReadonlyArray<number>
  readonly lastStep: number | undefined
  readonly width: number
}

/** `loss  ▇▆▅▄▃▂▁  0.412 @ 120` on one line. */
export const SparklineRow = ({ label, values, lastStep, width }: SparklineRowProps) => {
  const labelWidth = Math.min(22, Math.max(8, Math.floor(width * 0.28)))
  const last = values.length === 0 ? "-" : formatNumber(values[values.length - 1]!)
  const tail = fit(`${last} @${lastStep ?? "-"}`, 16, "right")
  const chartWidth = Math.max(4, width - labelWidth - tail.length - 2)
  return (
    <Box>
      <Text>{fit(label, labelWidth)} </Text>
      <Text color="cyan">{fit(sparkline(values, chartWidth), chartWidth)}</Text>
      <Text> {tail}</Text>
    </Box>
  )
}
