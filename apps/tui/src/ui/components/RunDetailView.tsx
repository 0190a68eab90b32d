// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { RunDetail } from "@empo/store"
import { Box, Text } from "ink"
import { chartOrder, type RunMetricsState, splitSeriesKey } from "../state/runMetrics.ts"
import { ago, bytes, fit, statusColor } from "./format.ts"
import { SparklineRow } from "./Sparkline.tsx"

export interface RunDetailViewProps {
  readonly detail: RunDetail
  readonly metrics: RunMetricsState
  readonly logLines: ReadonlyArray<string>
  readonly width: number
  readonly height: number
  readonly now: number
  /** First metric series shown (↑/↓ scroll them), and first artifact shown (pgup/pgdn). */
  readonly seriesOffset?: number
  readonly artifactOffset?: number
}

/** Clamps a scroll offset so the last page stays full. */
export const clampOffset = (offset: number, total: number, visible: number): number => Math.max(0, Math.min(offset, total - visible))

const stageMark: Record<string, string> = { completed: "✔", running: "▶", failed: "✖", interrupted: "■", pending: "·" }

/**
 * One run: stages with their state, live metric curves, the log tail and the artifacts. Sections shrink
 * to the terminal height (charts first, then log, then artifacts).
 */
export const RunDetailView = ({ detail, metrics, logLines, width, height, now, seriesOffset = 0, artifactOffset = 0 }: RunDetailViewProps) => {
  const { run, stages, artifacts } = detail
  const keys = chartOrder(Object.keys(metrics.series), stages.map((s) => s.id))
  const stageName = new Map(stages.map((s) => [s.id as string, s.name]))
  const multiStage = new Set(keys.map((k) => splitSeriesKey(k).stageId)).size > 1
  // Rows left after the run line, the stage line, the error line and the section titles.
  const budget = Math.max(4, height - 6)
  const chartRows = Math.min(keys.length, Math.max(3, Math.floor(budget * 0.5)))
  const logRows = Math.min(logLines.length, Math.max(1, Math.floor((budget - chartRows) * 0.5)))
  const artifactRows = Math.min(artifacts.length, Math.max(1, budget - chartRows - logRows))
  const firstSeries = clampOffset(seriesOffset, keys.length, chartRows)
  const firstArtifact = clampOffset(artifactOffset, artifacts.length, artifactRows)
  const range = (first: number, rows: number, total: number) => (rows < total ? `, ${first + 1}–${first + rows} of ${total}` : "")
  const failed = stages.find((s) => s.error !== null && (s.status === "failed" || s.status === "interrupted"))
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{fit(run.label, Math.max(10, width - 36))}</Text> <Text color={statusColor(run.status)}>{fit(run.status, 11)}</Text>
        <Text dimColor> {run.id.slice(0, 12)} {run.startedAt === null ? "" : ago(run.startedAt, now)}</Text>
      </Text>
      <Text wrap="truncate-end">
        {stages.map((s) => (
          <Text key={s.id} color={statusColor(s.status)}>{stageMark[s.status] ?? "?"} {s.name}  </Text>
        ))}
      </Text>
      {failed !== undefined && <Text color="red">{fit(`${failed.name}: ${failed.error!.split("\n")[0]}`, width)}</Text>}
      <Text bold dimColor>metrics ({metrics.points} points{keys.length > chartRows ? `${range(firstSeries, chartRows, keys.length)} series · ↑↓ scroll` : ""})</Text>
      {keys.length === 0 && <Text dimColor>  no metric points yet</Text>}
      {keys.slice(firstSeries, firstSeries + chartRows).map((key) => {
        const series = metrics.series[key]!
        const { stageId, key: metric } = splitSeriesKey(key)
        const label = multiStage ? `${stageName.get(stageId) ?? stageId} ${metric}` : metric
        return <SparklineRow key={key} label={label} values={series.values} lastStep={series.steps[series.steps.length - 1]} width={width} />
      })}
      {logRows > 0 && <Text bold dimColor>log</Text>}
      {logLines.slice(-logRows).map((line, i) => <Text key={i} dimColor>{fit(line, width)}</Text>)}
      {artifacts.length > 0 && <Text bold dimColor>artifacts ({artifacts.length}{artifacts.length > artifactRows ? `${range(firstArtifact, artifactRows, artifacts.length)} · pgup/pgdn` : ""})</Text>}
      {artifacts.slice(firstArtifact, firstArtifact + artifactRows).map((a) => (
        <Text key={a.id}>{fit(`${a.stageId.split("-")[0]}/${a.name}`, Math.max(10, width - 12))} {fit(bytes(a.size), 10, "right")}</Text>
      ))}
    </Box>
  )
}
