/** Moves a cursor in a list of `length` rows, clamped (no wrap, so holding `j` stops at the end). */
export const moveCursor = (cursor: number, delta: number, length: number): number =>
  length === 0 ? 0 : Math.min(length - 1, Math.max(0, cursor + delta))

/** The first row to draw so that `cursor` stays visible in a window of `height` rows. */
export const scrollOffset = (cursor: number, height: number, length: number): number => {
  if (length <= height) return 0
  return Math.min(Math.max(0, cursor - Math.floor(height / 2)), length - height)
}
