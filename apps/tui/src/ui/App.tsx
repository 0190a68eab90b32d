// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { Box, type Key, useApp, useInput, useStdin } from "ink"
import { useRef } from "react"
import type { TuiRuntime } from "../runtime.ts"
import { Footer } from "./components/Footer.tsx"
import { Header } from "./components/Header.tsx"
import { HelpOverlay } from "./components/HelpOverlay.tsx"
import { RuntimeContext } from "./hooks/RuntimeContext.ts"
import { type ScreenKeyHandler, ScreenKeysContext } from "./hooks/ScreenKeys.ts"
import { useSyncReducer } from "./hooks/useSyncReducer.ts"
import { useTerminalSize } from "./hooks/useTerminalSize.ts"
import { Command, describeKeys, matches, splitKeys } from "./key/keyBindings.ts"
import { CompareScreen } from "./screens/CompareScreen.tsx"
import { ExperimentsScreen } from "./screens/ExperimentsScreen.tsx"
import { LaunchScreen } from "./screens/LaunchScreen.tsx"
import { RunScreen } from "./screens/RunScreen.tsx"
import { StudiesScreen } from "./screens/StudiesScreen.tsx"
import { SweepScreen } from "./screens/SweepScreen.tsx"
import { currentScreen, initialNavigation, navigationReducer, type Screen } from "./state/navigation.ts"
import type { SweepTableState } from "./state/sweepTable.ts"

const hint = (command: Command, action: string) => [describeKeys(command), action] as const

const hintsFor = (screen: Screen): ReadonlyArray<readonly [string, string]> => {
  switch (screen.kind) {
    case "experiments": return [hint(Command.Open, "open"), hint(Command.Compare, "compare"), hint(Command.Launch, "launch"), hint(Command.Studies, "studies"), hint(Command.Help, "help"), hint(Command.Quit, "quit")]
    case "sweep": return [hint(Command.Open, "run"), hint(Command.Filter, "filter"), hint(Command.Sort, "sort"), hint(Command.Select, "choose"), hint(Command.Compare, "compare"), hint(Command.CancelSweep, "cancel"), ["esc", "back"]]
    case "run": return [hint(Command.Compare, "compare sweep"), ["esc", "back"], hint(Command.Help, "help"), hint(Command.Quit, "quit")]
    case "compare": return [hint(Command.Baseline, "baseline"), hint(Command.ExportCsv, "CSV"), hint(Command.ExportLatex, "LaTeX"), ["[/]", "columns"], ["esc", "back"]]
    case "studies": return [["↑/↓", "move"], ["esc", "back"], hint(Command.Help, "help"), hint(Command.Quit, "quit")]
    case "launch": return [hint(Command.Open, "validate"), hint(Command.EditPath, "path"), hint(Command.Confirm, "start"), hint(Command.CancelSweep, "cancel"), ["esc", "back"], hint(Command.NextTab, "tab")]
  }
}

const titleOf = (stack: ReadonlyArray<Screen>): string =>
  stack.slice(1).map((s) => (s.kind === "sweep" ? s.experiment : s.kind === "run" ? `run ${s.runId.slice(0, 8)}` : s.kind)).join(" › ")

/**
 * Layout and routing only: header, the current screen, footer. The one `useInput` offers each key to the
 * focused screen first, then applies the global bindings.
 */
export const App = ({ runtime }: { readonly runtime: TuiRuntime }) => {
  const { exit } = useApp()
  const { isRawModeSupported } = useStdin()
  const { columns, rows } = useTerminalSize()
  const [nav, navigate, navNow] = useSyncReducer(navigationReducer, initialNavigation)
  const screenKeys = useRef<{ handler: ScreenKeyHandler | null }>({ handler: null })
  const sweepMemory = useRef(new Map<string, SweepTableState>())
  const screen = currentScreen(nav)

  const handleKey = (input: string, key: Key) => {
    if (!navNow.current.help && screenKeys.current.handler?.(input, key) === true) return
    if (matches(Command.Quit, input, key)) exit()
    else if (matches(Command.Help, input, key)) navigate({ _tag: "ToggleHelp" })
    else if (matches(Command.Back, input, key)) navigate({ _tag: "Back" })
    else if (matches(Command.NextTab, input, key)) navigate({ _tag: "NextTab" })
    else if (matches(Command.Launch, input, key) && currentScreen(navNow.current).kind !== "launch") navigate({ _tag: "Open", screen: { kind: "launch" } })
    else if (matches(Command.Studies, input, key) && currentScreen(navNow.current).kind !== "studies") navigate({ _tag: "Open", screen: { kind: "studies" } })
  }
  useInput((input, key) => {
    for (const [single, singleKey] of splitKeys(input, key)) handleKey(single, singleKey)
  }, { isActive: isRawModeSupported })

  const width = Math.max(40, columns)
  const bodyHeight = Math.max(4, rows - 3 - (nav.notice === null ? 0 : 1))
  const props = { width, height: bodyHeight, navigate }
  const body = (() => {
    switch (screen.kind) {
      case "experiments": return <ExperimentsScreen {...props} />
      case "sweep": return <SweepScreen key={screen.experiment} experiment={screen.experiment} memory={sweepMemory.current} {...props} />
      case "run": return <RunScreen key={screen.runId} experiment={screen.experiment} runId={screen.runId} {...props} />
      case "compare": return <CompareScreen key={screen.experiment} experiment={screen.experiment} runIds={screen.runIds} {...props} />
      case "launch": return <LaunchScreen {...props} />
      case "studies": return <StudiesScreen {...props} />
    }
  })()
  return (
    <RuntimeContext.Provider value={runtime}>
      <ScreenKeysContext.Provider value={screenKeys}>
        <Box flexDirection="column" width={width} height={rows}>
          <Header title={titleOf(nav.stack)} tabs={[{ name: "Experiments", active: nav.stack[0].kind === "experiments" }, { name: "Launch", active: nav.stack[0].kind === "launch" }]} width={width} />
          <Box flexDirection="column" height={bodyHeight} overflow="hidden">
            {/* Natural height inside a clipping box: a screen taller than the terminal loses its last rows, never a squeezed first one. */}
            <Box flexDirection="column" flexShrink={0}>{nav.help ? <HelpOverlay width={width} /> : body}</Box>
          </Box>
          <Box flexGrow={1} />
          <Footer hints={hintsFor(screen)} notice={nav.notice} width={width} />
        </Box>
      </ScreenKeysContext.Provider>
    </RuntimeContext.Provider>
  )
}
