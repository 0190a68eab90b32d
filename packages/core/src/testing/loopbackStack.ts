/**
 * Test-only: a private loopback sshd (its own dir and port), started with tools/cluster/stack.sh. Tests that kill
 * ssh sessions use one, so the shared stack's other connections (other test files, other runners) are untouched.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { repoRoot } from "./sharedData.ts"

export const stackScript = path.join(repoRoot(), "tools/cluster/stack.sh")

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resolve(port))
  })
  server.on("error", reject)
})

export interface LoopbackStack {
  readonly dir: string
  readonly port: number
  readonly env: NodeJS.ProcessEnv
  /** Its executors.yaml: `loopback-ssh` only. */
  readonly inventory: string
  readonly down: () => void
  /** Pids of the per-connection sshd processes (children of the listener). */
  readonly sessions: () => Array<number>
  /** SIGKILLs one connection's server side: its sshd process and everything under it (the user's process too). */
  readonly drop: (session: number) => void
}

const parentOf = (pid: string): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}
const childrenOf = (parent: number): Array<number> =>
  fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && parentOf(p) === parent).map(Number)
const treeOf = (pid: number): Array<number> => [pid, ...childrenOf(pid).flatMap(treeOf)]

export const startStack = async (): Promise<LoopbackStack> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-stack-"))
  const port = await freePort()
  // Only sshd: this private stack sits beside the shared one (CI's Slurm and Ray).
  const env = { ...process.env, EMPO_CLUSTER_DIR: dir, EMPO_CLUSTER_SSH_PORT: String(port), EMPO_CLUSTER_SERVICES: "sshd" }
  execFileSync("bash", [stackScript, "up"], { env, stdio: ["ignore", "ignore", "pipe"] })
  const listener = Number(fs.readFileSync(path.join(dir, "pids/sshd.pid"), "utf8").split(" ")[0])
  return {
    dir, port, env, inventory: path.join(dir, "executors.yaml"),
    down: () => execFileSync("bash", [stackScript, "down"], { env, stdio: "ignore" }),
    sessions: () => childrenOf(listener),
    drop: (session) => {
      // Privilege separation: the network side is a grandchild of the listener; it would hold the socket open.
      for (const pid of treeOf(session)) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {
          // Gone already.
        }
      }
    }
  }
}
