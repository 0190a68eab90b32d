import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { useEffect, useState } from "react"
import { TuiStore } from "../../data/TuiStore.ts"
import type { TuiServices } from "../../runtime.ts"
import { useRuntime } from "./RuntimeContext.ts"

export interface Polled<A> {
  readonly data: A | undefined
  readonly error: string | undefined
}

/** The message of a failed query, for the screen's error line. */
export const causeMessage = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

/**
 * Runs `query` now and again whenever the store's change token moves (checked every `intervalMs`), so an
 * idle screen costs one tiny PRAGMA per tick and never rescans tables. The fiber is interrupted on unmount.
 */
export const usePolledQuery = <A, E>(query: Effect.Effect<A, E, TuiServices>, deps: ReadonlyArray<unknown>, intervalMs = 500): Polled<A> => {
  const runtime = useRuntime()
  const [state, setState] = useState<Polled<A>>({ data: undefined, error: undefined })
  useEffect(() => {
    let lastToken: string | undefined
    const tick = Effect.gen(function* () {
      const token = yield* TuiStore.pipe(Effect.flatMap((store) => store.changeToken()))
      if (token === lastToken) return
      lastToken = token
      const result = yield* Effect.exit(query)
      if (Exit.isSuccess(result)) setState({ data: result.value, error: undefined })
      else setState((s) => ({ ...s, error: causeMessage(result.cause) }))
    })
    const loop = Effect.exit(tick).pipe(
      Effect.tap((exit) => Exit.isFailure(exit) ? Effect.sync(() => setState((s) => ({ ...s, error: causeMessage(exit.cause) }))) : Effect.void),
      Effect.zipRight(Effect.sleep(Duration.millis(intervalMs))),
      Effect.forever
    )
    const fiber = runtime.runFork(loop)
    return () => {
      runtime.runFork(Fiber.interrupt(fiber))
    }
  }, [runtime, ...deps])
  return state
}
