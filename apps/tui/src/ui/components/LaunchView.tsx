// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import { scrollOffset } from "../state/listCursor.ts"
import type { LaunchState } from "../state/launch.ts"
import { fit } from "./format.ts"

export interface LaunchViewProps {
  readonly state: LaunchState
  readonly height: number
  readonly width: number
}

/** Pick a spec, see its problems next to the offending lines, or preview the runs and cache hits. */
export const LaunchView = ({ state, height, width }: LaunchViewProps) => {
  const { phase } = state
  switch (phase._tag) {
    case "Pick": {
      const listHeight = Math.max(1, height - 3)
      const offset = scrollOffset(state.cursor, listHeight, state.files.length)
      return (
        <Box flexDirection="column">
          <Text bold>Pick an experiment file (enter validates and previews, p types a path)</Text>
          {state.editingPath
            ? <Text>path: <Text color="cyan">{state.path}</Text>█</Text>
            : state.files.length === 0 && <Text dimColor>no *.yaml under experiments/; press p to type a path</Text>}
          {!state.editingPath && state.files.slice(offset, offset + listHeight).map((f, i) => (
            <Text key={f} inverse={offset + i === state.cursor}>{fit(f, width)}</Text>
          ))}
        </Box>
      )
    }
    case "Validating":
      return <Text>validating {phase.file} …</Text>
    case "Invalid": {
      const room = Math.max(2, height - 2)
      return (
        <Box flexDirection="column">
          <Text color="red" bold>{fit(`${phase.file}: ${phase.issues.length} problem(s) — fix the file and press enter to re-check`, width)}</Text>
          {phase.issues.slice(0, Math.max(1, Math.floor(room / 2))).map((issue, i) => (
            <Box key={i} flexDirection="column">
              <Text dimColor>{fit(`${String(issue.line).padStart(4)} │ ${phase.source[issue.line - 1] ?? ""}`, width)}</Text>
              <Text color="red" wrap="wrap">{`${issue.line}:${issue.column} ${issue.field === "" ? "" : `${issue.field}: `}${issue.message}`}</Text>
            </Box>
          ))}
        </Box>
      )
    }
    case "Preview": {
      const { preview } = phase
      const room = Math.max(1, height - 3)
      return (
        <Box flexDirection="column">
          <Text bold>{fit(`${preview.plan.name}: ${preview.runs.length} runs, ${preview.stages} stages (${preview.cachedStages} cached) — y starts the runner, esc goes back`, width)}</Text>
          {preview.runs.slice(0, room).map((r) => (
            <Text key={r.id}>
              {fit(r.label, Math.max(10, width - 28))} <Text dimColor>{r.id.slice(0, 8)}</Text>{" "}
              <Text color={r.cached === r.stages ? "green" : r.cached > 0 ? "yellow" : "white"}>{fit(`${r.cached}/${r.stages} cached`, 14, "right")}</Text>
            </Text>
          ))}
          {preview.runs.length > room && <Text dimColor>… {preview.runs.length - room} more runs</Text>}
        </Box>
      )
    }
    case "Starting":
      return <Text>starting the runner for {phase.file} …</Text>
    case "Started":
      return (
        <Box flexDirection="column">
          <Text color="green">{fit(`runner started (pid ${phase.record.pid}) for ${phase.record.experiment}; it keeps running if you quit`, width)}</Text>
          <Text dimColor>{fit(`log: ${phase.record.logFile}`, width)}</Text>
          <Text dimColor>enter opens the sweep · x cancels it · esc picks another file</Text>
        </Box>
      )
    case "Failed":
      return <Text color="red">{fit(`${phase.file}: ${phase.message}`, width)}</Text>
  }
}
