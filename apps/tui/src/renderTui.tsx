// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as Effect from "effect/Effect"
import { render } from "ink"
import { NotATerminalError } from "./data/TuiErrors.ts"
import { makeTuiRuntime, tuiLayer, type TuiOptions } from "./runtime.ts"
import { App } from "./ui/App.tsx"

/**
 * Starts the TUI and resolves when the user quits. Refuses (exit 2) when stdin or stdout is not a
 * terminal. The runtime (and its SQLite connection) is disposed on the way out; launched runners keep going.
 */
export const renderTui = Effect.fn("renderTui")(function* (options: TuiOptions) {
  if (process.stdin.isTTY !== true) return yield* new NotATerminalError({ stream: "stdin" })
  if (process.stdout.isTTY !== true) return yield* new NotATerminalError({ stream: "stdout" })
  const runtime = makeTuiRuntime(tuiLayer(options))
  // Open the store before drawing so a broken database is reported as a normal CLI error.
  yield* runtime.runtimeEffect.pipe(Effect.onError(() => Effect.promise(() => runtime.dispose())))
  yield* Effect.acquireUseRelease(
    Effect.sync(() => render(<App runtime={runtime} />, { exitOnCtrlC: false })),
    (instance) => Effect.promise(() => instance.waitUntilExit()),
    (instance) => Effect.promise(async () => {
      instance.unmount()
      await runtime.dispose()
    })
  )
})
