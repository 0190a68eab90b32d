import { repoRoot } from "@empo/core/testing/sharedData"
import { execFile } from "node:child_process"
import { promisify } from "node:util"

const run = promisify(execFile)

/** Runs `npx empo …` as a real process from the repository root; a non-zero exit is returned, not thrown. */
export const empoProcess = async (args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await run("npx", ["empo", ...args], { cwd: repoRoot(), maxBuffer: 64 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string }
    return { code: error.code, stdout: error.stdout, stderr: error.stderr }
  }
}
