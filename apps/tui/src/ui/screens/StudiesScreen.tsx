// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as Effect from "effect/Effect"
import { Box, Text } from "ink"
import { useState } from "react"
import { TuiStore } from "../../data/TuiStore.ts"
import { usePolledQuery } from "../hooks/usePolledQuery.ts"
import { useScreenKeys } from "../hooks/ScreenKeys.ts"
import { Command, matches } from "../key/keyBindings.ts"
import { moveCursor } from "../state/listCursor.ts"
import type { ScreenProps } from "./ScreenProps.ts"

const studiesQuery = TuiStore.pipe(Effect.flatMap((store) => store.studies()))

const bar = (done: number, total: number, width: number) => {
  const filled = total === 0 ? 0 : Math.round((done / total) * width)
  return `${"█".repeat(filled)}${"░".repeat(width - filled)}`
}

/** Human-evaluation studies in the store: ratings in, raters finished, as `empo human serve` records them. */
export const StudiesScreen = ({ width, height }: ScreenProps) => {
  const { data, error } = usePolledQuery(studiesQuery, [])
  const [cursor, setCursor] = useState(0)
  const studies = data ?? []
  useScreenKeys((input, key) => {
    if (matches(Command.Up, input, key)) setCursor((c) => moveCursor(c, -1, studies.length))
    else if (matches(Command.Down, input, key)) setCursor((c) => moveCursor(c, 1, studies.length))
    else return false
    return true
  })
  if (data === undefined) return <Text dimColor>{error ?? "reading the store…"}</Text>
  if (studies.length === 0) return <Text dimColor>no human studies yet (create one with `empo human batch`)</Text>
  const idWidth = Math.max(5, ...studies.map((s) => s.id.length))
  const barWidth = Math.max(10, Math.min(30, width - idWidth - 60))
  return (
    <Box flexDirection="column">
      <Text bold>{`${"study".padEnd(idWidth)}  ${"ratings".padStart(11)}  ${"progress".padEnd(barWidth + 6)}  ${"raters done".padStart(11)}  title`}</Text>
      {studies.slice(0, Math.max(1, height - 1)).map((s, i) => {
        const pct = s.expected === 0 ? 0 : Math.floor((100 * s.ratings) / s.expected)
        return (
          <Text key={s.id} inverse={i === Math.min(cursor, studies.length - 1)}>
            {`${s.id.padEnd(idWidth)}  ${`${s.ratings}/${s.expected}`.padStart(11)}  ${bar(s.ratings, s.expected, barWidth)} ${`${pct}%`.padStart(4)}  ${`${s.completedRaters}/${s.bundles}`.padStart(11)}  ${s.title}`}
          </Text>
        )
      })}
    </Box>
  )
}
