import { type Dispatch, type RefObject, useCallback, useReducer, useRef } from "react"

/**
 * `useReducer` plus a ref that is updated as each action is dispatched, so key handlers see the state
 * their previous key produced even when several keys arrive before React re-renders (typing `/abc` fast).
 */
export const useSyncReducer = <S, A>(reducer: (state: S, action: A) => S, initial: S): readonly [S, Dispatch<A>, RefObject<S>] => {
  const [state, dispatchToReact] = useReducer(reducer, initial)
  const ref = useRef(state)
  const dispatch = useCallback((action: A) => {
    ref.current = reducer(ref.current, action)
    dispatchToReact(action)
  }, [reducer])
  return [state, dispatch, ref] as const
}
