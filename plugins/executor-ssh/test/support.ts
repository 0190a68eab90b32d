/** A private loopback sshd for one test file: see @empo/core/testing/loopbackStack (the CLI's fault tests use it too). */
import * as path from "node:path"

export { type LoopbackStack, stackScript, startStack } from "@empo/core/testing/loopbackStack"
export const repoRoot = path.resolve(import.meta.dirname, "../../..")
