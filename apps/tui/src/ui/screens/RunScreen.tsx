// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { RunId } from "@empo/store"
import * as Effect from "effect/Effect"
import { Text } from "ink"
import { useMemo, useState } from "react"
import { Launcher } from "../../data/Launcher.ts"
import { TuiStore } from "../../data/TuiStore.ts"
import { RunDetailView } from "../components/RunDetailView.tsx"
import { usePolledQuery } from "../hooks/usePolledQuery.ts"
import { useRunMetrics } from "../hooks/useRunMetrics.ts"
import { useScreenKeys } from "../hooks/ScreenKeys.ts"
import { Command, matches } from "../key/keyBindings.ts"
import type { ScreenProps } from "./ScreenProps.ts"

export const RunScreen = ({ experiment, runId, width, height, navigate }: ScreenProps & { readonly experiment: string; readonly runId: string }) => {
  const detailQuery = useMemo(() => TuiStore.pipe(Effect.flatMap((store) => store.runDetail(runId))), [runId])
  const logQuery = useMemo(() => Launcher.pipe(Effect.flatMap((l) => l.logTail(experiment, 12))), [experiment])
  const detail = usePolledQuery(detailQuery, [runId])
  const log = usePolledQuery(logQuery, [experiment], 1000)
  const metrics = useRunMetrics(runId as RunId)
  // Scrolling past the end is clamped by the view, which knows how many rows fit.
  const [seriesOffset, setSeriesOffset] = useState(0)
  const [artifactOffset, setArtifactOffset] = useState(0)
  const seriesCount = Object.keys(metrics.series).length
  const artifactCount = detail.data?.artifacts.length ?? 0
  useScreenKeys((input, key) => {
    const step = (set: (f: (n: number) => number) => void, delta: number, total: number) => {
      set((n) => Math.max(0, Math.min(total - 1, n + delta)))
      return true
    }
    if (matches(Command.Down, input, key)) return step(setSeriesOffset, 1, seriesCount)
    if (matches(Command.Up, input, key)) return step(setSeriesOffset, -1, seriesCount)
    if (matches(Command.PageDown, input, key)) return step(setArtifactOffset, Math.max(1, Math.floor(height / 4)), artifactCount)
    if (matches(Command.PageUp, input, key)) return step(setArtifactOffset, -Math.max(1, Math.floor(height / 4)), artifactCount)
    if (matches(Command.Compare, input, key)) {
      navigate({ _tag: "Open", screen: { kind: "compare", experiment, runIds: undefined } })
      return true
    }
    return false
  })
  if (detail.data === undefined) return <Text dimColor>{detail.error ?? "reading the run…"}</Text>
  // A failed stage's captured stderr is the most useful log when the runner's own log is gone.
  const stderr = detail.data.stages.flatMap((s) => (s.stderrTail === null ? [] : s.stderrTail.split("\n").filter((l) => l.trim() !== "")))
  return (
    <RunDetailView detail={detail.data} metrics={metrics} logLines={[...(log.data ?? []), ...stderr]} width={width} height={height} now={Date.now()}
      seriesOffset={seriesOffset} artifactOffset={artifactOffset} />
  )
}
