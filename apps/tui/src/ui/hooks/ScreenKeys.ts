import type { Key } from "ink"
import { createContext, useContext, useEffect, useRef } from "react"

/** A screen's key handler; returns true when it consumed the key (the app's global keys are skipped then). */
export type ScreenKeyHandler = (input: string, key: Key) => boolean

export interface ScreenKeyRegistry {
  readonly current: { handler: ScreenKeyHandler | null }
}

export const ScreenKeysContext = createContext<ScreenKeyRegistry | null>(null)

/**
 * Registers the focused screen's handler with the app's single `useInput` (one stdin owner, as in
 * gemini-cli's KeypressProvider); the screen sees every key before the global bindings.
 */
export const useScreenKeys = (handler: ScreenKeyHandler): void => {
  const registry = useContext(ScreenKeysContext)
  const latest = useRef(handler)
  latest.current = handler
  useEffect(() => {
    if (registry === null) return
    const forward: ScreenKeyHandler = (input, key) => latest.current(input, key)
    registry.current.handler = forward
    return () => {
      if (registry.current.handler === forward) registry.current.handler = null
    }
  }, [registry])
}
