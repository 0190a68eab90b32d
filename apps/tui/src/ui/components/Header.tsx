// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import { fit } from "./format.ts"

export interface HeaderProps {
  readonly title: string
  readonly tabs: ReadonlyArray<{ readonly name: string; readonly active: boolean }>
  readonly width: number
}

/** `EmPO · Experiments | Launch   sweep › run` */
export const Header = ({ title, tabs, width }: HeaderProps) => {
  const tabText = tabs.map((t) => t.name).join(" | ")
  const room = Math.max(0, width - tabText.length - 8)
  return (
    <Box>
      <Text bold color="magenta">EmPO </Text>
      {tabs.map((t, i) => (
        <Text key={t.name} {...(t.active ? { inverse: true } : { dimColor: true })}>{i > 0 ? " " : ""}{t.name}</Text>
      ))}
      <Text> {fit(title, room, "right")}</Text>
    </Box>
  )
}
