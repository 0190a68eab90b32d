/** True while a process with this pid exists (signal 0 checks without signalling). Shared by the runner's
 * "another runner is active" guard and the TUI's launcher. */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
