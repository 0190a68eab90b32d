// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import type { ExperimentOverview } from "../../data/TuiStore.ts"
import { scrollOffset } from "../state/listCursor.ts"
import { ago, fit } from "./format.ts"

export interface ExperimentsTableProps {
  readonly experiments: ReadonlyArray<ExperimentOverview>
  readonly cursor: number
  readonly height: number
  readonly width: number
  readonly now: number
}

/** Every experiment in the store with its runs by status and when something last happened. */
export const ExperimentsTable = ({ experiments, cursor, height, width, now }: ExperimentsTableProps) => {
  if (experiments.length === 0) {
    return <Text dimColor>No experiments in this store yet. Press n (or tab) to launch one from experiments/.</Text>
  }
  const nameWidth = Math.max(12, width - 52)
  const offset = scrollOffset(cursor, height - 1, experiments.length)
  const visible = experiments.slice(offset, offset + height - 1)
  return (
    <Box flexDirection="column">
      <Text bold>{fit("experiment", nameWidth)} {fit("runs", 5, "right")} {fit("done", 5, "right")} {fit("run", 4, "right")} {fit("fail", 5, "right")} {fit("intr", 5, "right")} {fit("wait", 5, "right")}  {fit("activity", 9)}</Text>
      {visible.map((e, i) => {
        const selected = offset + i === cursor
        return (
          <Text key={e.name} inverse={selected}>
            {fit(e.name, nameWidth)} {fit(String(e.total), 5, "right")} <Text color="green">{fit(String(e.completed), 5, "right")}</Text>{" "}
            <Text color="cyan">{fit(String(e.running), 4, "right")}</Text> <Text color="red">{fit(String(e.failed), 5, "right")}</Text>{" "}
            <Text color="yellow">{fit(String(e.interrupted), 5, "right")}</Text> {fit(String(e.pending), 5, "right")}  {fit(ago(e.lastActivity, now), 9)}
          </Text>
        )
      })}
    </Box>
  )
}
