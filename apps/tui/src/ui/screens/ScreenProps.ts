import type { NavigationAction } from "../state/navigation.ts"

/** What every screen gets from the app: its area and a way to navigate or post a notice. */
export interface ScreenProps {
  readonly width: number
  readonly height: number
  readonly navigate: (action: NavigationAction) => void
}
