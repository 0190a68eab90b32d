// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { RunId } from "@empo/store"
import * as Effect from "effect/Effect"
import { Text } from "ink"
import { useMemo } from "react"
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
  useScreenKeys((input, key) => {
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
    <RunDetailView detail={detail.data} metrics={metrics} logLines={[...(log.data ?? []), ...stderr]} width={width} height={height} now={Date.now()} />
  )
}
