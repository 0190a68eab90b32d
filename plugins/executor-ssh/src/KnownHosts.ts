/**
 * OpenSSH `known_hosts` lookup for strict host-key checking: plain (`host`, `[host]:port`, comma lists) and hashed
 * (`|1|salt|hash`) entries. Markers (`@revoked`, `@cert-authority`) are honoured as "this key is refused".
 */
import { createHash, createHmac } from "node:crypto"

/** The keys a known_hosts file lists for one host and port (base64 blobs), and revoked ones. */
export interface KnownKeys {
  readonly keys: ReadonlyArray<{ readonly type: string; readonly blob: Buffer }>
  readonly revoked: ReadonlyArray<Buffer>
}

const hostToken = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`)

const matchesPattern = (pattern: string, token: string): boolean => {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|")
    if (salt === undefined || hash === undefined) return false
    return createHmac("sha1", Buffer.from(salt, "base64")).update(token).digest("base64") === hash
  }
  // Glob patterns (`*`, `?`) as OpenSSH does; a negated pattern (`!host`) never grants a key here.
  if (pattern.startsWith("!")) return false
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)
  return regex.test(token)
}

/** Parses `text` (a known_hosts file) for `host`:`port`. */
export const knownKeysFor = (text: string, host: string, port: number): KnownKeys => {
  const token = hostToken(host, port)
  const keys: Array<{ type: string; blob: Buffer }> = []
  const revoked: Array<Buffer> = []
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const fields = line.split(/\s+/)
    const marker = fields[0]!.startsWith("@") ? fields.shift()! : undefined
    const [patterns, type, blob] = fields
    if (patterns === undefined || type === undefined || blob === undefined) continue
    if (!patterns.split(",").some((p) => matchesPattern(p, token))) continue
    const key = Buffer.from(blob, "base64")
    if (marker === "@revoked") revoked.push(key)
    else if (marker === undefined) keys.push({ type, blob: key })
  }
  return { keys, revoked }
}

/** The SHA256 fingerprint OpenSSH prints (`SHA256:…`). */
export const fingerprint = (blob: Buffer): string => `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`
