import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { afterAll, beforeAll, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { ChecksumMismatch, Downloader, DownloadError, type DownloadProgress, DownloadRequest } from "../src/index.ts"

const payload = randomBytes(256 * 1024 + 123)
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex")
const seen: Array<{ url: string; range: string | undefined }> = []
let dropsLeft = 0

// Serves `payload` with Range support; /drop.bin breaks the connection half-way `dropsLeft` times.
const server = http.createServer((req, res) => {
  const range = req.headers.range
  seen.push({ url: req.url ?? "", range })
  if (req.url === "/missing.bin") {
    res.writeHead(404).end()
    return
  }
  const start = range === undefined || req.url === "/norange.bin" ? 0 : Number(/bytes=(\d+)-/.exec(range)![1])
  const body = payload.subarray(start)
  res.writeHead(start > 0 ? 206 : 200, {
    "content-length": String(body.length),
    ...(start > 0 ? { "content-range": `bytes ${start}-${payload.length - 1}/${payload.length}` } : {})
  })
  if (req.url === "/drop.bin" && dropsLeft > 0) {
    dropsLeft--
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20))
    return
  }
  res.end(body)
})
let base = ""
beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  resolve()
})))
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-dl-"))
const TestLayer = Downloader.make(cacheDir).pipe(Layer.provide(Layer.mergeAll(FetchHttpClient.layer, NodeContext.layer)))

layer(TestLayer)("Downloader against a local HTTP server", (it) => {
  it.effect("downloads, verifies sha256, reports progress, renames atomically, then serves from cache", () =>
    Effect.gen(function*() {
      const dl = yield* Downloader
      const events: Array<DownloadProgress> = []
      const request = DownloadRequest.make({ url: `${base}/file.bin`, fileName: "file.bin", sha256: sha(payload) })
      const r = yield* dl.fetch(request, (e) => Effect.sync(() => events.push(e)))
      expect(r).toMatchObject({ cached: false, bytes: payload.length, sha256: sha(payload), resumes: 0 })
      expect(fs.readFileSync(r.path).equals(payload)).toBe(true)
      expect(fs.existsSync(`${r.path}.part`)).toBe(false)
      expect(events.at(-1)).toMatchObject({ received: payload.length, total: payload.length })
      for (let i = 1; i < events.length; i++) expect(events[i]!.received).toBeGreaterThanOrEqual(events[i - 1]!.received)
      const before = seen.length
      const again = yield* dl.fetch(request)
      expect(again.cached).toBe(true)
      expect(seen.length).toBe(before)
    }))

  it.effect("resumes with an HTTP Range request after the server drops the connection mid-file", () =>
    Effect.gen(function*() {
      const dl = yield* Downloader
      dropsLeft = 1
      seen.length = 0
      const r = yield* dl.fetch(DownloadRequest.make({ url: `${base}/drop.bin`, fileName: "drop.bin", sha256: sha(payload) }))
      expect(fs.readFileSync(r.path).equals(payload)).toBe(true)
      expect(seen.map((s) => s.range)).toEqual([undefined, `bytes=${Math.floor(payload.length / 2)}-`])
      expect(r.resumes).toBe(1)
    }))

  it.effect("resumes a .part file left by an earlier run", () =>
    Effect.gen(function*() {
      const dl = yield* Downloader
      fs.writeFileSync(path.join(cacheDir, "partial.bin.part"), payload.subarray(0, 1000))
      seen.length = 0
      const r = yield* dl.fetch(DownloadRequest.make({ url: `${base}/file.bin`, fileName: "partial.bin", sha256: sha(payload) }))
      expect(seen[0]!.range).toBe("bytes=1000-")
      expect(fs.readFileSync(r.path).equals(payload)).toBe(true)
    }))

  it.effect("starts over when the server ignores Range (200), and gives up after the retries", () =>
    Effect.gen(function*() {
      const dl = yield* Downloader
      fs.writeFileSync(path.join(cacheDir, "norange.bin.part"), Buffer.from("garbage that must not survive"))
      const r = yield* dl.fetch(DownloadRequest.make({ url: `${base}/norange.bin`, fileName: "norange.bin", sha256: sha(payload) }))
      expect(fs.readFileSync(r.path).equals(payload)).toBe(true)
      dropsLeft = 5
      const e = yield* Effect.flip(dl.fetch(DownloadRequest.make({ url: `${base}/drop.bin`, fileName: "drop2.bin", retries: 1 })))
      expect(e).toBeInstanceOf(DownloadError)
      dropsLeft = 0
      const missing = yield* Effect.flip(dl.fetch(DownloadRequest.make({ url: `${base}/missing.bin`, fileName: "missing.bin" })))
      expect(missing.message).toContain("HTTP 404")
    }))

  it.effect("a wrong checksum fails, and leaves neither the file nor the .part", () =>
    Effect.gen(function*() {
      const dl = yield* Downloader
      const e = yield* Effect.flip(dl.fetch(DownloadRequest.make({ url: `${base}/file.bin`, fileName: "bad.bin", sha256: "0".repeat(64) })))
      expect(e).toBeInstanceOf(ChecksumMismatch)
      expect(e.message).toContain(`got ${sha(payload)}`)
      expect(fs.existsSync(path.join(cacheDir, "bad.bin"))).toBe(false)
      expect(fs.existsSync(path.join(cacheDir, "bad.bin.part"))).toBe(false)
    }))
})
