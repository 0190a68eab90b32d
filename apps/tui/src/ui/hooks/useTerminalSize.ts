import { useStdout } from "ink"
import { useEffect, useState } from "react"

export interface TerminalSize {
  readonly columns: number
  readonly rows: number
}

/** The terminal's size, updated on resize (80×24 when the stream does not say). */
export const useTerminalSize = (): TerminalSize => {
  const { stdout } = useStdout()
  const read = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 })
  const [size, setSize] = useState(read)
  useEffect(() => {
    const onResize = () => setSize(read())
    stdout.on("resize", onResize)
    return () => {
      stdout.off("resize", onResize)
    }
  }, [stdout])
  return size
}
