// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as Effect from "effect/Effect"
import { Box, Text } from "ink"
import { useMemo, useRef, useState } from "react"
import { renderCsv, renderLatex } from "@empo/experiments/Compare"
import { Plugins } from "@empo/experiments/Plugins"
import type { RunId } from "@empo/store"
import { screenComparison } from "../../compare/sweepComparison.ts"
import { ReportExport } from "../../data/ReportExport.ts"
import { TableExport } from "../../data/TableExport.ts"
import { TuiStore } from "../../data/TuiStore.ts"
import { CompareTable } from "../components/CompareTable.tsx"
import { useAction } from "../hooks/useAction.ts"
import { usePolledQuery } from "../hooks/usePolledQuery.ts"
import { useScreenKeys } from "../hooks/ScreenKeys.ts"
import { Command, matches } from "../key/keyBindings.ts"
import { moveCursor } from "../state/listCursor.ts"
import type { ScreenProps } from "./ScreenProps.ts"

interface ExportPrompt {
  readonly label: string
  readonly path: string
  readonly text: string
}

export interface CompareScreenProps extends ScreenProps {
  readonly experiment: string
  readonly runIds: ReadonlyArray<string> | undefined
}

export const CompareScreen = ({ experiment, runIds, width, height, navigate }: CompareScreenProps) => {
  // The catalogue rides along with the data: its metric directions decide which row is best.
  const query = useMemo(() => Effect.all({ data: TuiStore.pipe(Effect.flatMap((store) => store.comparison(experiment))), plugins: Plugins }), [experiment])
  const { data: polled, error } = usePolledQuery(query, [experiment], 1000)
  const data = polled?.data
  const directionOf = useMemo(() => (key: string) => polled?.plugins.metricKey(key)?.direction, [polled?.plugins])
  const [baseline, setBaseline] = useState<RunId | undefined>(undefined)
  const [cursor, setCursor] = useState(0)
  const [firstMetric, setFirstMetric] = useState(0)
  // An export waiting for its path: the user edits the proposed file name (relative to the export folder, or absolute).
  const [exportPrompt, setExportPromptState] = useState<ExportPrompt | null>(null)
  // Read by the key handler: keys can arrive faster than frames, so typed characters must not see a stale prompt.
  const promptNow = useRef<ExportPrompt | null>(null)
  const setExportPrompt = (prompt: ExportPrompt | null) => {
    promptNow.current = prompt
    setExportPromptState(prompt)
  }
  const run = useAction()
  const result = useMemo(
    () => (data === undefined ? undefined : screenComparison(experiment, data, { runIds, baseline, directionOf })),
    [experiment, data, runIds, baseline, directionOf]
  )
  const comparison = result === undefined || !("table" in result) ? undefined : result

  useScreenKeys((input, key) => {
    if (comparison === undefined) return false
    const { table } = comparison
    const groups = table.rows.length
    const exportPrompt = promptNow.current
    if (exportPrompt !== null) {
      if (key.escape) setExportPrompt(null)
      else if (key.return && exportPrompt.path.trim() !== "") {
        const { path, text } = exportPrompt
        setExportPrompt(null)
        run(TableExport.pipe(Effect.flatMap((e) => e.write(path.trim(), text))),
          (written) => navigate({ _tag: "Notify", notice: { tone: "info", text: `wrote ${written}` } }),
          (message) => navigate({ _tag: "Notify", notice: { tone: "error", text: message } }))
      } else if (key.backspace || key.delete) setExportPrompt({ ...exportPrompt, path: exportPrompt.path.slice(0, -1) })
      else if (input !== "" && !key.ctrl && !key.meta) setExportPrompt({ ...exportPrompt, path: exportPrompt.path + input })
      return true
    }
    const exportAs = (extension: "csv" | "tex", text: string) =>
      setExportPrompt({ label: extension === "csv" ? "CSV" : "LaTeX", path: `compare-${experiment}.${extension}`, text })
    if (matches(Command.Up, input, key)) setCursor((c) => moveCursor(c, -1, groups))
    else if (matches(Command.Down, input, key)) setCursor((c) => moveCursor(c, 1, groups))
    else if (matches(Command.Baseline, input, key)) setBaseline(table.rows[cursor]?.runs[0])
    else if (matches(Command.ColumnsLeft, input, key)) setFirstMetric((m) => Math.max(0, m - 1))
    else if (matches(Command.ColumnsRight, input, key)) setFirstMetric((m) => Math.min(Math.max(0, table.metrics.length - 1), m + 1))
    else if (matches(Command.ExportCsv, input, key)) exportAs("csv", renderCsv(table))
    else if (matches(Command.ExportLatex, input, key)) exportAs("tex", renderLatex(table, directionOf))
    else if (matches(Command.Report, input, key)) {
      navigate({ _tag: "Notify", notice: { tone: "info", text: `writing the report of ${experiment}…` } })
      run(ReportExport.pipe(Effect.flatMap((r) => r.write(experiment))),
        (written) => navigate({ _tag: "Notify", notice: { tone: "info", text: `wrote ${written}` } }),
        (message) => navigate({ _tag: "Notify", notice: { tone: "error", text: message } }))
    }
    else return false
    return true
  })

  if (comparison === undefined) return <Text dimColor>{error ?? (result === undefined || "table" in result ? `reading ${experiment}…` : result.message)}</Text>
  const scope = runIds === undefined ? "whole sweep" : `${runIds.length} chosen runs`
  return (
    <Box flexDirection="column">
      <Text><Text bold>compare {experiment}</Text><Text dimColor> · {scope} · {comparison.table.rows.length} configurations</Text></Text>
      {exportPrompt !== null && (
        <Text color="cyan">write {exportPrompt.label} to: {exportPrompt.path}█<Text dimColor> (enter write · esc cancel; relative to the export folder)</Text></Text>
      )}
      <CompareTable comparison={comparison} cursor={Math.min(cursor, Math.max(0, comparison.table.rows.length - 1))} firstMetric={firstMetric} height={height - 1} width={width} />
    </Box>
  )
}
