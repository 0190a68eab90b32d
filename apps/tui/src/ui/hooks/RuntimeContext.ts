import { createContext, useContext } from "react"
import type { TuiRuntime } from "../../runtime.ts"

export const RuntimeContext = createContext<TuiRuntime | null>(null)

/** The app's ManagedRuntime; every hook that talks to the store goes through it. */
export const useRuntime = (): TuiRuntime => {
  const runtime = useContext(RuntimeContext)
  if (runtime === null) throw new Error("useRuntime outside <RuntimeContext.Provider>")
  return runtime
}
