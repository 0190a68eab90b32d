import type * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { useCallback } from "react"
import type { TuiServices } from "../../runtime.ts"
import { useRuntime } from "./RuntimeContext.ts"
import { causeMessage } from "./usePolledQuery.ts"

/** Runs a one-off effect (launch, cancel, export) from a key press and reports success or the error message. */
export const useAction = () => {
  const runtime = useRuntime()
  return useCallback(<A, E>(effect: Effect.Effect<A, E, TuiServices>, onSuccess: (a: A) => void, onFailure: (message: string) => void) => {
    void runtime.runPromiseExit(effect).then((exit) => {
      if (Exit.isSuccess(exit)) onSuccess(exit.value)
      else onFailure(causeMessage(exit.cause))
    })
  }, [runtime])
}
