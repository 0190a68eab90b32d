// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as Effect from "effect/Effect"
import { Text } from "ink"
import { useState } from "react"
import { Launcher } from "../../data/Launcher.ts"
import { TuiStore } from "../../data/TuiStore.ts"
import { ExperimentsTable } from "../components/ExperimentsTable.tsx"
import { useAction } from "../hooks/useAction.ts"
import { usePolledQuery } from "../hooks/usePolledQuery.ts"
import { useScreenKeys } from "../hooks/ScreenKeys.ts"
import { Command, matches } from "../key/keyBindings.ts"
import { moveCursor } from "../state/listCursor.ts"
import type { ScreenProps } from "./ScreenProps.ts"

const experimentsQuery = TuiStore.pipe(Effect.flatMap((store) => store.experiments()))

export const ExperimentsScreen = ({ width, height, navigate }: ScreenProps) => {
  const { data, error } = usePolledQuery(experimentsQuery, [])
  const [cursor, setCursor] = useState(0)
  const run = useAction()
  const experiments = data ?? []
  const selected = experiments[Math.min(cursor, experiments.length - 1)]
  useScreenKeys((input, key) => {
    const page = Math.max(1, height - 2)
    if (matches(Command.Up, input, key)) setCursor((c) => moveCursor(c, -1, experiments.length))
    else if (matches(Command.Down, input, key)) setCursor((c) => moveCursor(c, 1, experiments.length))
    else if (matches(Command.PageUp, input, key)) setCursor((c) => moveCursor(c, -page, experiments.length))
    else if (matches(Command.PageDown, input, key)) setCursor((c) => moveCursor(c, page, experiments.length))
    else if (matches(Command.Open, input, key) && selected !== undefined) navigate({ _tag: "Open", screen: { kind: "sweep", experiment: selected.name } })
    else if (matches(Command.Compare, input, key) && selected !== undefined) navigate({ _tag: "Open", screen: { kind: "compare", experiment: selected.name, runIds: undefined } })
    else if (matches(Command.CancelSweep, input, key) && selected !== undefined) {
      run(Launcher.pipe(Effect.flatMap((l) => l.cancel(selected.name))),
        (pid) => navigate({ _tag: "Notify", notice: { tone: "info", text: `sent SIGINT to runner ${pid} (${selected.name}); it stops after cleaning up` } }),
        (message) => navigate({ _tag: "Notify", notice: { tone: "error", text: message } }))
    } else return false
    return true
  })
  if (data === undefined) return <Text dimColor>{error ?? "reading the store…"}</Text>
  return (
    <>
      {error !== undefined && <Text color="red">{error}</Text>}
      <ExperimentsTable experiments={experiments} cursor={Math.min(cursor, Math.max(0, experiments.length - 1))} height={height} width={width} now={Date.now()} />
    </>
  )
}
