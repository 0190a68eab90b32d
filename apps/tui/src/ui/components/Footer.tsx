// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, Text } from "ink"
import type { Notice } from "../state/navigation.ts"
import { fit } from "./format.ts"

export interface FooterProps {
  readonly hints: ReadonlyArray<readonly [keys: string, action: string]>
  readonly notice: Notice | null
  readonly width: number
}

/** The key hints of the current screen, or a notice (export written, launch failed, …). */
export const Footer = ({ hints, notice, width }: FooterProps) => (
  <Box flexDirection="column">
    {notice !== null && <Text color={notice.tone === "error" ? "red" : "green"}>{fit(notice.text, width)}</Text>}
    <Text dimColor>{fit(hints.map(([k, a]) => `${k} ${a}`).join(" · "), width)}</Text>
  </Box>
)
