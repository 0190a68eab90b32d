/** The screens; the app keeps a stack of them so `esc` goes back where you came from. */
export type Screen =
  | { readonly kind: "experiments" }
  | { readonly kind: "sweep"; readonly experiment: string }
  | { readonly kind: "run"; readonly experiment: string; readonly runId: string }
  | { readonly kind: "compare"; readonly experiment: string; readonly runIds: ReadonlyArray<string> | undefined }
  | { readonly kind: "launch" }
  | { readonly kind: "studies" }

export interface Notice {
  readonly text: string
  readonly tone: "info" | "error"
}

export interface NavigationState {
  readonly stack: readonly [Screen, ...Array<Screen>]
  readonly help: boolean
  readonly notice: Notice | null
}

export type NavigationAction =
  | { readonly _tag: "Open"; readonly screen: Screen }
  | { readonly _tag: "Back" }
  | { readonly _tag: "NextTab" }
  | { readonly _tag: "ToggleHelp" }
  | { readonly _tag: "Notify"; readonly notice: Notice | null }

export const initialNavigation: NavigationState = { stack: [{ kind: "experiments" }], help: false, notice: null }

export const currentScreen = (state: NavigationState): Screen => state.stack[state.stack.length - 1]!

/** Where a screen is: two screens with one key are the same place (a compare with another selection included). */
const screenKey = (screen: Screen): string => {
  switch (screen.kind) {
    case "sweep":
    case "compare":
      return `${screen.kind}:${screen.experiment}`
    case "run":
      return `run:${screen.runId}`
    default:
      return screen.kind
  }
}

/** The top-level tabs `tab` cycles through; every other screen is reached from them. */
const tabs = ["experiments", "launch"] as const

export const navigationReducer = (state: NavigationState, action: NavigationAction): NavigationState => {
  switch (action._tag) {
    case "Open": {
      // Opening a screen that is already on the stack goes back to it, so the breadcrumb never repeats a place.
      const at = state.stack.findIndex((screen) => screenKey(screen) === screenKey(action.screen))
      const kept = at === -1 ? state.stack : state.stack.slice(0, at)
      return { ...state, stack: [...kept, action.screen] as unknown as NavigationState["stack"], notice: null }
    }
    case "Back":
      if (state.help) return { ...state, help: false }
      return state.stack.length === 1 ? state : { ...state, stack: state.stack.slice(0, -1) as unknown as NavigationState["stack"], notice: null }
    case "NextTab": {
      const index = tabs.indexOf(state.stack[0].kind as (typeof tabs)[number])
      const next = tabs[(index + 1) % tabs.length]!
      return { ...state, stack: [{ kind: next }], notice: null }
    }
    case "ToggleHelp":
      return { ...state, help: !state.help }
    case "Notify":
      return { ...state, notice: action.notice }
  }
}
