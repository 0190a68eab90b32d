// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import { Command, commandHelp, describeKeys, keyBindings, type KeySpec } from "../key/keyBindings.ts"
import { fit } from "./format.ts"

export interface HelpOverlayProps {
  readonly width: number
  readonly bindings?: Readonly<Record<Command, ReadonlyArray<KeySpec>>>
}

/** Every binding and what it does, generated from the key table, in two columns so it fits 80×24. */
export const HelpOverlay = ({ width, bindings = keyBindings }: HelpOverlayProps) => {
  const commands = Object.values(Command)
  const half = Math.ceil(commands.length / 2)
  const columnWidth = Math.max(20, Math.floor((width - 4) / 2))
  const column = (list: ReadonlyArray<Command>) => (
    <Box flexDirection="column" width={columnWidth}>
      {list.map((command) => (
        <Text key={command}>
          <Text color="cyan">{fit(describeKeys(command, bindings), 11)}</Text>
          {fit(commandHelp[command], columnWidth - 12)}
        </Text>
      ))}
    </Box>
  )
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>Keys (esc or ? closes)</Text>
      <Box>
        {column(commands.slice(0, half))}
        {column(commands.slice(half))}
      </Box>
    </Box>
  )
}
