/** Pads or cuts `text` to exactly `width` cells (ellipsis when cut). */
export const fit = (text: string, width: number, align: "left" | "right" = "left"): string => {
  if (width <= 0) return ""
  const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text
  return align === "left" ? cut.padEnd(width) : cut.padStart(width)
}

/** `3m ago`, `2h ago`, `4d ago` relative to `now` (both epoch ms). */
export const ago = (then: number, now: number): string => {
  if (then <= 0) return "never"
  const s = Math.max(0, Math.round((now - then) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}

/** 1.2 KB, 3.4 MB … (powers of 1024). */
export const bytes = (n: number): string => {
  const units = ["B", "KB", "MB", "GB", "TB"]
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

/** Status → colour, shared by every table. */
export const statusColor = (status: string): string =>
  ({ completed: "green", running: "cyan", failed: "red", interrupted: "yellow", pending: "gray", queued: "gray" } as Record<string, string>)[status] ?? "white"
