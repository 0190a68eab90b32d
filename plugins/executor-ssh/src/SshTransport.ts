/**
 * {@link RemoteTransport} over `ssh2`: one connection per host, opened on first use and reopened after it drops;
 * commands are argv arrays quoted element by element; files move over SFTP (temporary name, then rename).
 * Host keys are checked against known_hosts by default: an unknown or changed key is refused, naming the file.
 */
import { type ExecOptions, type ExecResult, type RemoteTransport, TransportError } from "@empo/experiments/Executor"
import { quoteArgv } from "@empo/experiments/remote/Transport"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import ssh2 from "ssh2"
import type { Client as ClientType, ConnectConfig, SFTPWrapper } from "ssh2"
import { fingerprint, knownKeysFor } from "./KnownHosts.ts"

const { Client } = ssh2

/** How to reach one host (the inventory's host entry, paths resolved). */
export interface SshTarget {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly identityFile?: string | undefined
  readonly agent?: string | undefined
  readonly knownHosts: string
  readonly strictHostKeyChecking: boolean
  readonly connectTimeoutSeconds: number
}

/** `~/x` → home, relative → against `base`. */
export const resolveLocalPath = (file: string, base: string): string =>
  file.startsWith("~/") ? NodePath.join(NodeOs.homedir(), file.slice(2)) : NodePath.resolve(base, file)

/** The connection of an inventory host entry (`SshHostSpec`): key files and known_hosts resolved against the inventory's folder. */
export const sshTargetOf = (spec: {
  readonly host: string; readonly port: number; readonly user: string; readonly identityFile?: string | undefined; readonly agent?: string | undefined
  readonly knownHosts?: string | undefined; readonly strictHostKeyChecking: boolean; readonly connectTimeoutSeconds: number
}, inventoryDir: string): SshTarget => ({
  host: spec.host, port: spec.port, user: spec.user,
  identityFile: spec.identityFile === undefined ? undefined : resolveLocalPath(spec.identityFile, inventoryDir),
  agent: spec.agent,
  knownHosts: resolveLocalPath(spec.knownHosts ?? "~/.ssh/known_hosts", inventoryDir),
  strictHostKeyChecking: spec.strictHostKeyChecking,
  connectTimeoutSeconds: spec.connectTimeoutSeconds
})

/** `user@host:port`: how the store and messages name the host. */
export const targetName = (t: Pick<SshTarget, "user" | "host" | "port">): string => `${t.user}@${t.host}:${t.port}`

const STDERR_LIMIT = 64 * 1024
// OpenSSH's default MaxSessions is 10 channels per connection; stay below it.
const CHANNELS = 8

export interface SshTransport extends RemoteTransport {
  /** Closes the connection (the next command reconnects). */
  readonly disconnect: Effect.Effect<void>
}

/** A transport to `target`; `scope`-free: the executor closes it with {@link SshTransport.disconnect}. */
export const makeSshTransport = (target: SshTarget): Effect.Effect<SshTransport> => Effect.gen(function* () {
  const name = targetName(target)
  const fail = (operation: string, reason: string) => new TransportError({ host: name, operation, reason })
  const channels = yield* Effect.makeSemaphore(CHANNELS)
  let current: Promise<{ readonly client: ClientType; sftp?: Promise<SFTPWrapper> | undefined }> | undefined

  const hostKeyProblem = (key: Buffer): string | undefined => {
    if (!target.strictHostKeyChecking) return undefined
    let text: string
    try {
      text = NodeFs.readFileSync(target.knownHosts, "utf8")
    } catch (e) {
      return `cannot read known_hosts ${target.knownHosts} (${(e as Error).message}); strict host-key checking needs the host's key there`
    }
    const known = knownKeysFor(text, target.host, target.port)
    if (known.revoked.some((k) => k.equals(key))) return `the host key ${fingerprint(key)} is marked @revoked in ${target.knownHosts}; refusing to connect`
    if (known.keys.some((k) => k.blob.equals(key))) return undefined
    if (known.keys.length > 0) {
      return `HOST KEY CHANGED: ${target.host} port ${target.port} presented ${fingerprint(key)}, but ${target.knownHosts} lists ` +
        `${known.keys.map((k) => fingerprint(k.blob)).join(", ")}; refusing to connect (someone may be intercepting the connection). ` +
        `If the host was reinstalled, check the new key and replace the old entry (ssh-keygen -R '[${target.host}]:${target.port}' -f ${target.knownHosts})`
    }
    return `${target.host} port ${target.port} is not in ${target.knownHosts} (its key is ${fingerprint(key)}); add it after checking the fingerprint ` +
      `(ssh-keyscan -p ${target.port} ${target.host} >> ${target.knownHosts}), or set strictHostKeyChecking: false for a throwaway host`
  }

  const open = (): Promise<{ readonly client: ClientType; sftp?: Promise<SFTPWrapper> | undefined }> => new Promise((resolve, reject) => {
    const client = new Client()
    let refused: string | undefined
    let settled = false
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.connectTimeoutSeconds * 1000,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        refused = hostKeyProblem(key)
        return refused === undefined
      }
    }
    if (target.identityFile !== undefined) {
      try {
        config.privateKey = NodeFs.readFileSync(target.identityFile)
      } catch (e) {
        reject(fail("auth", `cannot read identityFile ${target.identityFile}: ${(e as Error).message}`))
        return
      }
    } else {
      const agent = target.agent ?? process.env["SSH_AUTH_SOCK"]
      if (agent === undefined) {
        reject(fail("auth", "no identityFile and no SSH agent (SSH_AUTH_SOCK is unset); set identityFile or agent in the inventory"))
        return
      }
      config.agent = agent
    }
    client.on("ready", () => {
      settled = true
      resolve({ client })
    })
    client.on("error", (error: Error & { level?: string }) => {
      if (settled) return
      settled = true
      if (refused !== undefined) reject(fail("host-key", refused))
      else if (error.level === "client-authentication") reject(fail("auth", `${target.user} was refused (${error.message}); check identityFile/agent and the host's authorized_keys`))
      else reject(fail("connect", error.message))
    })
    client.on("close", () => {
      if (current !== undefined) void current.then((c) => { if (c.client === client) current = undefined }, () => {})
    })
    client.connect(config)
  })

  const connection = Effect.tryPromise({
    try: () => {
      if (current === undefined) {
        const attempt = open()
        current = attempt
        attempt.catch(() => { if (current === attempt) current = undefined })
      }
      return current
    },
    catch: (e) => (e instanceof TransportError ? e : fail("connect", String(e)))
  })

  const sftpOf = Effect.flatMap(connection, (c) => Effect.tryPromise({
    try: () => {
      c.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => c.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))))
      c.sftp.catch(() => { c.sftp = undefined })
      return c.sftp
    },
    catch: (e) => fail("sftp", (e as Error).message)
  }))

  const exec = (argv: ReadonlyArray<string>, options: ExecOptions = {}): Effect.Effect<ExecResult, TransportError> =>
    channels.withPermits(1)(Effect.flatMap(connection, (c) => Effect.async<ExecResult, TransportError>((resume) => {
      let stdout = ""
      let stderr = ""
      let buffered = ""
      let chain: Promise<unknown> = Promise.resolve()
      let done = false
      const finish = (effect: Effect.Effect<ExecResult, TransportError>) => {
        if (done) return
        done = true
        void chain.then(() => resume(effect))
      }
      const onClientClose = () => finish(Effect.fail(fail("closed", `the connection dropped while running ${argv[0]}`)))
      c.client.once("close", onClientClose)
      let stream: ssh2.ClientChannel | undefined
      try {
        c.client.exec(quoteArgv(argv), (err, channel) => {
          if (err) {
            c.client.removeListener("close", onClientClose)
            finish(Effect.fail(fail("exec", err.message)))
            return
          }
          stream = channel
          channel.on("data", (chunk: Buffer) => {
            if (options.onLine === undefined) {
              stdout += chunk.toString("utf8")
              return
            }
            buffered += chunk.toString("utf8")
            const lines = buffered.split("\n")
            buffered = lines.pop()!
            const onLine = options.onLine
            for (const line of lines) chain = chain.then(() => Effect.runPromise(onLine(line)))
          })
          channel.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_LIMIT)))
          channel.on("close", (code: number | null | undefined, signal: string | undefined) => {
            c.client.removeListener("close", onClientClose)
            if (options.onLine !== undefined && buffered !== "") {
              const onLine = options.onLine
              const last = buffered
              chain = chain.then(() => Effect.runPromise(onLine(last)))
            }
            // A channel closed without an exit status: the server side went away (sshd session killed).
            if ((code === undefined || code === null) && signal === undefined) finish(Effect.fail(fail("closed", `the session running ${argv[0]} ended without an exit status`)))
            else finish(Effect.succeed({ code: code ?? null, signal: signal ?? null, stdout, stderr }))
          })
          channel.end(options.stdin ?? "")
        })
      } catch (e) {
        c.client.removeListener("close", onClientClose)
        finish(Effect.fail(fail("exec", (e as Error).message)))
      }
      return Effect.sync(() => stream?.close())
    })))

  const upload = (localPath: string, remotePath: string) => Effect.flatMap(sftpOf, (sftp) => Effect.async<void, TransportError>((resume) => {
    const temp = `${remotePath}.upload-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
    sftp.fastPut(localPath, temp, (err) => {
      if (err) return resume(Effect.fail(fail("upload", `${localPath} → ${remotePath}: ${err.message}`)))
      sftp.ext_openssh_rename(temp, remotePath, (err2) =>
        resume(err2 ? Effect.fail(fail("upload", `rename to ${remotePath}: ${err2.message}`)) : Effect.void))
    })
  }))

  const download = (remotePath: string, localPath: string) => Effect.flatMap(sftpOf, (sftp) => Effect.async<void, TransportError>((resume) => {
    sftp.fastGet(remotePath, localPath, (err) => resume(err ? Effect.fail(fail("download", `${remotePath} → ${localPath}: ${err.message}`)) : Effect.void))
  }))

  const disconnect = Effect.promise(async () => {
    const c = await current?.catch(() => undefined)
    current = undefined
    c?.client.end()
  })

  return { host: name, exec, upload, download, disconnect } satisfies SshTransport
})
