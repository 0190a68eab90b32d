import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Path from "@effect/platform/Path"
import { InputError, IoError, UserError } from "@empo/core"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"

/** One file to fetch into the cache. */
export class DownloadRequest extends Schema.Class<DownloadRequest>("DownloadRequest")({
  url: Schema.String,
  /** File name inside the cache directory. */
  fileName: Schema.NonEmptyString,
  /** Expected lowercase hex sha256; when absent the computed one is returned so it can be pinned. */
  sha256: Schema.optional(Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))),
  /** How many times a dropped connection is resumed before giving up. */
  retries: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 3 })
}) {}

/** A progress event: bytes on disk so far (including a resumed `.part`) and the total when known. */
export class DownloadProgress extends Schema.TaggedClass<DownloadProgress>()("DownloadProgress", {
  url: Schema.String,
  received: Schema.Number,
  total: Schema.NullOr(Schema.Number),
  /** Bytes that were already in the `.part` file when this attempt started. */
  resumedFrom: Schema.Number
}) {}

/** Where a file ended up. */
export class DownloadResult extends Schema.Class<DownloadResult>("DownloadResult")({
  path: Schema.String,
  sha256: Schema.String,
  bytes: Schema.Number,
  /** Already in the cache (nothing fetched). */
  cached: Schema.Boolean,
  /** Attempts that resumed a partial file with an HTTP Range request. */
  resumes: Schema.Int
}) {}

/** The server or network failed (after retries). Exit code 1. */
export class DownloadError extends UserError<DownloadError>()("DownloadError", {
  url: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}, { exitCode: 1, message: (e) => `download ${e.url}: ${e.reason}` }) {}

/** The fetched bytes do not have the expected sha256; the partial file is deleted. Exit code 1. */
export class ChecksumMismatch extends UserError<ChecksumMismatch>()("ChecksumMismatch", {
  url: Schema.String,
  expected: Schema.String,
  actual: Schema.String
}, {
  exitCode: 1,
  message: (e) => `download ${e.url}: sha256 mismatch (expected ${e.expected}, got ${e.actual}); the partial file was removed`
}) {}

/** The cache directory: `$EMPO_CACHE`, else `$HOME/.cache/empo`. */
export const cacheDirConfig: Config.Config<string> = Config.string("EMPO_CACHE").pipe(
  Config.orElse(() => Config.string("HOME").pipe(Config.map((home) => `${home}/.cache/empo`)))
)

/**
 * Fetches files into a cache directory: streams into `<name>.part`, resumes a partial file with an
 * HTTP `Range` request (also after a dropped connection, up to `retries` times), verifies the sha256,
 * then renames into place (atomic). A complete file already in the cache is not fetched again.
 */
export class Downloader extends Context.Tag("@empo/data/Downloader")<Downloader, {
  readonly cacheDir: string
  readonly fetch: (
    request: DownloadRequest,
    onProgress?: (event: DownloadProgress) => Effect.Effect<void>
  ) => Effect.Effect<DownloadResult, DownloadError | ChecksumMismatch | IoError | InputError>
}>() {
  /** A downloader writing into `cacheDir`. */
  static readonly make = (cacheDir: string): Layer.Layer<Downloader, never, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(Downloader, makeDownloader(cacheDir))

  /** A downloader writing into {@link cacheDirConfig}. */
  static readonly layer: Layer.Layer<Downloader, never, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> = Layer.unwrapEffect(
    cacheDirConfig.pipe(
      Effect.orElseSucceed(() => ".empo-cache"),
      Effect.map((dir) => Downloader.make(dir))
    )
  )
}

const makeDownloader = (cacheDir: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const io = (operation: string, p: string) => (cause: unknown) => new IoError({ operation, path: p, cause })

    const sizeOf = (p: string) =>
      fs.stat(p).pipe(
        Effect.map((info) => Number(info.size)),
        Effect.catchTag("SystemError", (e) => (e.reason === "NotFound" ? Effect.succeed(0) : Effect.fail(io("stat", p)(e)))),
        Effect.catchTag("BadArgument", (e) => Effect.fail(io("stat", p)(e)))
      )

    const hashFile = (p: string) =>
      fs.stream(p).pipe(
        Stream.runFold(createHash("sha256"), (h, chunk) => h.update(chunk)),
        Effect.map((h) => h.digest("hex")),
        Effect.mapError(io("read", p))
      )

    /** One HTTP attempt appending to the part file; fails with DownloadError when the body breaks off. */
    const attempt = (request: DownloadRequest, part: string, onProgress: (e: DownloadProgress) => Effect.Effect<void>) =>
      Effect.scoped(Effect.gen(function*() {
        const have = yield* sizeOf(part)
        const httpRequest = HttpClientRequest.get(request.url).pipe(have > 0 ? HttpClientRequest.setHeader("Range", `bytes=${have}-`) : (r) => r)
        const response = yield* client.execute(httpRequest).pipe(
          Effect.mapError((cause) => new DownloadError({ url: request.url, reason: `request failed: ${cause.message}`, cause }))
        )
        if (response.status === 416 && have > 0) return { complete: true, resumed: false }
        if (response.status !== 200 && response.status !== 206) {
          return yield* new DownloadError({ url: request.url, reason: `HTTP ${response.status}` })
        }
        // A 200 to a Range request means the server ignored it: start over.
        const resumed = response.status === 206
        const offset = resumed ? have : 0
        const length = Number(response.headers["content-length"] ?? NaN)
        const total = Number.isFinite(length) ? offset + length : null
        const file = yield* fs.open(part, { flag: resumed ? "a" : "w" }).pipe(Effect.mapError(io("open", part)))
        let received = offset
        yield* onProgress(new DownloadProgress({ url: request.url, received, total, resumedFrom: offset }))
        yield* response.stream.pipe(
          Stream.mapError((cause) => new DownloadError({ url: request.url, reason: `connection dropped after ${received} bytes`, cause })),
          Stream.runForEach((chunk) =>
            file.writeAll(chunk).pipe(
              Effect.mapError(io("write", part)),
              Effect.zipRight(Effect.suspend(() => {
                received += chunk.length
                return onProgress(new DownloadProgress({ url: request.url, received, total, resumedFrom: offset }))
              }))
            )
          )
        )
        if (total !== null && received < total) {
          return yield* new DownloadError({ url: request.url, reason: `connection closed after ${received} of ${total} bytes` })
        }
        return { complete: true, resumed }
      }))

    const fetch = Effect.fn("Downloader.fetch")(function*(request: DownloadRequest, onProgress?: (event: DownloadProgress) => Effect.Effect<void>) {
      const progress = onProgress ?? (() => Effect.void)
      const target = path.join(cacheDir, request.fileName)
      const part = `${target}.part`
      yield* fs.makeDirectory(path.dirname(target), { recursive: true }).pipe(Effect.mapError(io("create directory", path.dirname(target))))
      if ((yield* fs.exists(target).pipe(Effect.mapError(io("stat", target))))) {
        const sha = yield* hashFile(target)
        if (request.sha256 === undefined || request.sha256 === sha) {
          return DownloadResult.make({ path: target, sha256: sha, bytes: yield* sizeOf(target), cached: true, resumes: 0 })
        }
        // A stale or corrupted cached copy: fetch it again.
        yield* fs.remove(target).pipe(Effect.mapError(io("remove", target)))
      }
      let resumes = 0
      let tries = 0
      for (;;) {
        const partBefore = yield* sizeOf(part)
        const outcome = yield* attempt(request, part, progress).pipe(
          Effect.map((r) => ({ ok: true as const, resumed: r.resumed })),
          Effect.catchTag("DownloadError", (e) => (tries < request.retries ? Effect.succeed({ ok: false as const, error: e }) : Effect.fail(e)))
        )
        if (partBefore > 0 && (!outcome.ok || outcome.resumed)) resumes++
        if (outcome.ok) break
        tries++
      }
      const sha = yield* hashFile(part)
      if (request.sha256 !== undefined && sha !== request.sha256) {
        yield* fs.remove(part).pipe(Effect.ignore)
        return yield* new ChecksumMismatch({ url: request.url, expected: request.sha256, actual: sha })
      }
      const bytes = yield* sizeOf(part)
      yield* fs.rename(part, target).pipe(Effect.mapError(io("rename into", target)))
      return DownloadResult.make({ path: target, sha256: sha, bytes, cached: false, resumes })
    })

    return Downloader.of({ cacheDir, fetch })
  })
