/**
 * The remote transport every executor shares: argv quoting, a local transport (this machine: `spawn` without a
 * shell), and content-addressed file transfer over any {@link RemoteTransport}. The SSH transport lives in
 * plugins/executor-ssh; the Slurm executor runs `sbatch`/`squeue` through either.
 */
import { spawn } from "node:child_process"
import { createHash, randomUUID } from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Readline from "node:readline"
import * as Effect from "effect/Effect"
import { type ExecOptions, type ExecResult, type RemoteTransport, TransportError } from "../Executor.ts"

/**
 * One argv element as POSIX shell text that denotes exactly it: single-quoted, a `'` written as `'\''`. The SSH
 * protocol carries one command string to the remote user's shell; quoting each element is what keeps an argv an
 * argv there (`$(…)`, `;`, quotes and newlines stay literal).
 */
export const quoteArg = (arg: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)

/** An argv as one command string for a remote shell (see {@link quoteArg}). */
export const quoteArgv = (argv: ReadonlyArray<string>): string => {
  if (argv.length === 0) throw new Error("quoteArgv: empty argv")
  return argv.map(quoteArg).join(" ")
}

const STDERR_LIMIT = 64 * 1024

/** Runs argv on this machine (no shell), for the `local` transport and Slurm on a login node. */
export const localTransport = (host = "local"): RemoteTransport => ({
  host,
  exec: (argv, options: ExecOptions = {}) =>
    Effect.async<ExecResult, TransportError>((resume) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      const pending: Array<Promise<unknown>> = []
      if (options.onLine !== undefined) {
        const onLine = options.onLine
        Readline.createInterface({ input: child.stdout }).on("line", (line) => pending.push(Effect.runPromise(onLine(line))))
      } else child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
      child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_LIMIT)))
      child.stdin.on("error", () => {})
      child.stdin.end(options.stdin ?? "")
      child.on("error", (error) => resume(Effect.fail(new TransportError({ host, operation: "exec", reason: `${argv[0]}: ${error.message}` }))))
      child.on("close", (code, signal) => {
        void Promise.all(pending).then(() => resume(Effect.succeed({ code, signal, stdout, stderr })))
      })
      return Effect.sync(() => child.kill("SIGTERM"))
    }),
  upload: (localPath, remotePath) =>
    Effect.tryPromise({
      try: async () => {
        // A name of its own per upload: two stages of one runner may upload the same content-addressed file at once,
        // and a shared temp name let one rename take the other's file away (ENOENT).
        const temp = `${remotePath}.upload-${process.pid}-${randomUUID()}`
        await NodeFs.promises.copyFile(localPath, temp)
        await NodeFs.promises.rename(temp, remotePath)
      },
      catch: (e) => new TransportError({ host, operation: "upload", reason: `${localPath} → ${remotePath}: ${(e as Error).message}` })
    }),
  download: (remotePath, localPath) =>
    Effect.tryPromise({
      try: () => NodeFs.promises.copyFile(remotePath, localPath),
      catch: (e) => new TransportError({ host, operation: "download", reason: `${remotePath} → ${localPath}: ${(e as Error).message}` })
    })
})

/** Fails unless the command exited 0, naming it and its stderr. */
export const execOk = (transport: RemoteTransport, argv: ReadonlyArray<string>, options?: ExecOptions): Effect.Effect<ExecResult, TransportError> =>
  transport.exec(argv, options).pipe(Effect.flatMap((result) =>
    result.code === 0 ? Effect.succeed(result) : Effect.fail(new TransportError({
      host: transport.host, operation: "exec",
      reason: `${argv[0]} exited with ${result.code ?? result.signal}${result.stderr.trim() === "" ? "" : `: ${result.stderr.trim().split("\n").slice(-5).join(" | ")}`}`
    }))))

/** A local file to place on a host: its path there (relative to the target folder) and its content address. */
export interface FileToSend {
  readonly localPath: string
  readonly relativePath: string
  readonly sha256: string
  readonly size: number
}

/** What {@link sendFiles} did: files and bytes actually sent (the rest were on the host already). */
export interface SendReport {
  readonly files: number
  readonly sent: number
  readonly bytesSent: number
  readonly bytesTotal: number
}

/** sha256 of a local file. */
export const sha256OfFile = (file: string): Effect.Effect<string, TransportError> =>
  Effect.tryPromise({
    try: () => new Promise<string>((resolve, reject) => {
      const hash = createHash("sha256")
      NodeFs.createReadStream(file).on("data", (chunk) => hash.update(chunk)).on("end", () => resolve(hash.digest("hex"))).on("error", reject)
    }),
    catch: (e) => new TransportError({ host: "local", operation: "upload", reason: `cannot read ${file}: ${(e as Error).message}` })
  })

/** Every file under a local folder (sorted, relative), hashed. */
export const filesOfDir = (dir: string): Effect.Effect<Array<FileToSend>, TransportError> =>
  Effect.gen(function* () {
    const names = yield* Effect.try({
      try: () => (NodeFs.readdirSync(dir, { recursive: true }) as Array<string>).filter((n) => NodeFs.statSync(NodePath.join(dir, n)).isFile()).sort(),
      catch: (e) => new TransportError({ host: "local", operation: "upload", reason: `cannot list ${dir}: ${(e as Error).message}` })
    })
    return yield* Effect.forEach(names, (name) => Effect.map(sha256OfFile(NodePath.join(dir, name)), (sha256) => ({
      localPath: NodePath.join(dir, name), relativePath: name, sha256, size: NodeFs.statSync(NodePath.join(dir, name)).size
    })), { concurrency: 4 })
  })

// Constant scripts; every user value is a positional parameter ("$@"), so it is never parsed as shell text.
const EXISTING = `for f in "$@"; do [ -e "$f" ] && printf '%s\\n' "$f"; done; exit 0`
const LINK = `set -e; while [ "$#" -gt 1 ]; do mkdir -p -- "$(dirname -- "$2")"; ln -f -- "$1" "$2" 2>/dev/null || cp -f -- "$1" "$2"; shift 2; done`

/**
 * Places `files` under `targetDir` on the host, content-addressed: each file goes to `<casDir>/<sha256>` only when
 * no file of that sha256 is there yet, then is linked (hard link, else copy) to `<targetDir>/<relativePath>`.
 * Uploading the same inputs twice sends nothing the second time.
 */
export const sendFiles = (transport: RemoteTransport, casDir: string, targetDir: string, files: ReadonlyArray<FileToSend>): Effect.Effect<SendReport, TransportError> =>
  Effect.gen(function* () {
    if (files.some((f) => f.relativePath.split("/").some((part) => part === ".." || part === "") || f.relativePath.startsWith("/"))) {
      return yield* new TransportError({ host: transport.host, operation: "upload", reason: "refusing a file path that leaves its folder" })
    }
    yield* execOk(transport, ["mkdir", "-p", "--", casDir, targetDir])
    const shas = [...new Set(files.map((f) => f.sha256))]
    const casPath = (sha: string) => `${casDir}/${sha}`
    const present = new Set<string>()
    for (let i = 0; i < shas.length; i += 500) {
      const chunk = shas.slice(i, i + 500)
      const result = yield* execOk(transport, ["sh", "-c", EXISTING, "sh", ...chunk.map(casPath)])
      for (const line of result.stdout.split("\n")) if (line !== "") present.add(line)
    }
    const missing = files.filter((f, index) => !present.has(casPath(f.sha256)) && files.findIndex((g) => g.sha256 === f.sha256) === index)
    yield* Effect.forEach(missing, (f) => transport.upload(f.localPath, casPath(f.sha256)), { concurrency: 4, discard: true })
    for (let i = 0; i < files.length; i += 200) {
      const pairs = files.slice(i, i + 200).flatMap((f) => [casPath(f.sha256), `${targetDir}/${f.relativePath}`])
      if (pairs.length > 0) yield* execOk(transport, ["sh", "-c", LINK, "sh", ...pairs])
    }
    return {
      files: files.length, sent: missing.length,
      bytesSent: missing.reduce((n, f) => n + f.size, 0), bytesTotal: files.reduce((n, f) => n + f.size, 0)
    } satisfies SendReport
  })

/** Relative paths of every file under a remote folder (none when it does not exist). */
export const listRemoteFiles = (transport: RemoteTransport, dir: string): Effect.Effect<Array<string>, TransportError> =>
  execOk(transport, ["sh", "-c", `[ -d "$1" ] || exit 0; cd -- "$1" && find . -type f -print`, "sh", dir]).pipe(
    Effect.map((r) => r.stdout.split("\n").filter((l) => l.startsWith("./")).map((l) => l.slice(2)).sort()))

/**
 * Downloads every file of a remote folder into a local one (created), then links each into the host's CAS so a
 * downstream stage placed on the same host is not sent it again. Returns the relative paths.
 */
export const fetchDir = (transport: RemoteTransport, remoteDir: string, localDir: string, casDir?: string): Effect.Effect<Array<string>, TransportError> =>
  Effect.gen(function* () {
    const names = yield* listRemoteFiles(transport, remoteDir)
    yield* Effect.try({
      try: () => {
        NodeFs.mkdirSync(localDir, { recursive: true })
        for (const name of names) NodeFs.mkdirSync(NodePath.dirname(NodePath.join(localDir, name)), { recursive: true })
      },
      catch: (e) => new TransportError({ host: "local", operation: "download", reason: `cannot create ${localDir}: ${(e as Error).message}` })
    })
    yield* Effect.forEach(names, (name) => transport.download(`${remoteDir}/${name}`, NodePath.join(localDir, name)), { concurrency: 4, discard: true })
    if (casDir !== undefined && names.length > 0) {
      const hashed = yield* Effect.forEach(names, (name) => Effect.map(sha256OfFile(NodePath.join(localDir, name)), (sha) => [`${remoteDir}/${name}`, `${casDir}/${sha}`] as const))
      yield* execOk(transport, ["sh", "-c", `mkdir -p -- "$1"; shift; while [ "$#" -gt 1 ]; do [ -e "$2" ] || ln -f -- "$1" "$2" 2>/dev/null || cp -f -- "$1" "$2"; shift 2; done`, "sh", casDir, ...hashed.flat()])
    }
    return names
  })
