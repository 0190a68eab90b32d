import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Path from "@effect/platform/Path"
import { dataFileCandidates, dataFolders } from "@empo/core/DataFolder"
import { UserError } from "@empo/core/Errors"
import { Tokenizer, type TokenizerShape } from "@empo/core/Tokenizer"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { unzipSync } from "fflate"
import { createHash } from "node:crypto"
import { sentTokenize } from "./Punkt.ts"
import { PunktParameters, PunktParametersFromJson, punktJsonFromTab, PunktTabLineError } from "./PunktParameters.ts"
import type { NltkVersion } from "./TreebankWordTokenizer.ts"
import { wordTokenize } from "./wordTokenize.ts"

/** Where `nltk.download("punkt_tab")` fetches NLTK's Punkt models (a zip with one folder per language). */
export const NLTK_PUNKT_TAB_URL = "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/tokenizers/punkt_tab.zip"

/** File name of the English parameters inside a cache dir (the JSON shape of {@link PunktParametersJson}). */
export const CACHED_PUNKT_FILE = "nltk/punkt_english.json"

/** A Punkt parameters file that cannot be read or does not have the expected shape. */
export class TokenizerDataError extends UserError<TokenizerDataError>()("TokenizerDataError", {
  path: Schema.String,
  reason: Schema.String
}, { exitCode: 2, message: (e) => `Punkt parameters ${e.path}: ${e.reason}` }) {}

/** Downloading NLTK's Punkt data failed (network, HTTP status, or an archive without English parameters). */
export class TokenizerDownloadError extends UserError<TokenizerDownloadError>()("TokenizerDownloadError", {
  url: Schema.String,
  reason: Schema.String
}, { exitCode: 1, message: (e) => `could not download NLTK Punkt data from ${e.url}: ${e.reason}; ${PUNKT_HINT}` }) {}

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/** How many distinct texts the tokenizer remembers (the oldest are forgotten first). */
export const DEFAULT_CACHE_SIZE = 100_000

/**
 * The NLTK-exact tokenizer for already loaded parameters. Several metrics tokenize the same responses
 * (specificity and length the original text, VAD and distinct the lower-cased one), so results are
 * remembered per text; the returned arrays are shared and must not be mutated (they are typed readonly).
 */
export const make = (
  params: PunktParameters,
  resource: TokenizerShape["resource"],
  version: NltkVersion = "3.8.1",
  cacheSize: number = DEFAULT_CACHE_SIZE
): TokenizerShape => {
  const cache = new Map<string, ReadonlyArray<string>>()
  return Tokenizer.of({
    wordTokenize: (text) => {
      const cached = cache.get(text)
      if (cached !== undefined) return cached
      const tokens = wordTokenize(text, params, version)
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!)
      cache.set(text, tokens)
      return tokens
    },
    sentTokenize: (text) => sentTokenize(text, params),
    resource
  })
}

const decodeParameters = Schema.decodeUnknown(Schema.parseJson(PunktParametersFromJson))

/** Reads Punkt parameters in the JSON shape of `punkt_english.json`, with the file's sha256. */
export const loadPunktFile = Effect.fn("NltkTokenizer.loadPunktFile")(function* (path: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs
    .readFileString(path)
    .pipe(Effect.mapError((error) => new TokenizerDataError({ path, reason: error.message })))
  const params = yield* decodeParameters(text).pipe(
    Effect.mapError((error) => new TokenizerDataError({ path, reason: ParseResult.TreeFormatter.formatErrorSync(error) }))
  )
  return { params, sha256: sha256(text) }
})

const extractEnglish = (url: string, archive: Uint8Array) => {
  const files = unzipSync(archive, { filter: (entry) => /(^|\/)english\/[^/]+$/.test(entry.name) })
  const read = (name: string): string => {
    const entry = Object.entries(files).find(([path]) => path.endsWith(`english/${name}`))
    if (entry === undefined) throw new Error(`the archive has no english/${name}`)
    return new TextDecoder("utf-8", { fatal: true }).decode(entry[1])
  }
  return Effect.try({
    try: () =>
      punktJsonFromTab({
        abbrevTypes: read("abbrev_types.txt"),
        collocations: read("collocations.tab"),
        sentStarters: read("sent_starters.txt"),
        orthoContext: read("ortho_context.tab")
      }),
    catch: (cause) =>
      new TokenizerDownloadError({
        url,
        reason: cause instanceof PunktTabLineError || cause instanceof Error ? cause.message : String(cause)
      })
  })
}

/**
 * Downloads NLTK's `punkt_tab` archive, converts its English parameters to the JSON shape and writes them
 * to `destination` atomically (temp file + rename), so an interrupted download never leaves a partial file.
 */
export const downloadPunkt = Effect.fn("NltkTokenizer.downloadPunkt")(function* (url: string, destination: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
  yield* Console.error(`Downloading NLTK's English Punkt parameters from ${url} …`)
  const archive = yield* client.get(url).pipe(
    Effect.flatMap((response) => response.arrayBuffer),
    Effect.scoped,
    Effect.mapError((error) => new TokenizerDownloadError({ url, reason: error.message }))
  )
  const json = yield* extractEnglish(url, new Uint8Array(archive))
  const text = JSON.stringify(new PunktParameters(json).toJson())
  const temp = `${destination}.${process.pid}.tmp`
  yield* Effect.gen(function* () {
    yield* fs.makeDirectory(path.dirname(destination), { recursive: true })
    yield* fs.writeFileString(temp, text)
    yield* fs.rename(temp, destination)
  }).pipe(Effect.mapError((error) => new TokenizerDataError({ path: destination, reason: error.message })))
  yield* Console.error(`Saved ${destination} (${archive.byteLength} bytes downloaded)`)
})

/** The tokenizer from a Punkt parameters file (e.g. `punkt_english.json`). */
export const layerFromFile = (
  path: string,
  version: NltkVersion = "3.8.1"
): Layer.Layer<Tokenizer, TokenizerDataError, FileSystem.FileSystem> =>
  Layer.effect(
    Tokenizer,
    Effect.map(loadPunktFile(path), ({ params, sha256 }) =>
      make(params, { name: "punkt_english.json", sha256 }, version))
  )

/**
 * Where the parameters come from: an explicit file, else the data folder's copy, else the cache dir, filled from
 * `url` on first use.
 */
export interface Options {
  readonly file?: string | undefined
  /** `EMPO_DATA_DIR`: its `nltk/punkt_english.json` is used when present. */
  readonly dataDir?: string | undefined
  readonly cacheDir: string
  readonly url?: string | undefined
  readonly version?: NltkVersion | undefined
}

/** The tokenizer, downloading NLTK's English Punkt data into `cacheDir` the first time it is needed. */
export const layer = (
  options: Options
): Layer.Layer<
  Tokenizer,
  TokenizerDataError | TokenizerDownloadError,
  FileSystem.FileSystem | Path.Path | HttpClient.HttpClient
> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      if (options.file !== undefined) return layerFromFile(options.file, options.version)
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      if (options.dataDir !== undefined) {
        const shared = path.join(options.dataDir, CACHED_PUNKT_FILE)
        if (yield* fs.exists(shared).pipe(Effect.orElseSucceed(() => false))) return layerFromFile(shared, options.version)
      }
      const cached = path.join(options.cacheDir, CACHED_PUNKT_FILE)
      const present = yield* fs.exists(cached).pipe(Effect.orElseSucceed(() => false))
      if (!present) yield* downloadPunkt(options.url ?? NLTK_PUNKT_TAB_URL, cached)
      return layerFromFile(cached, options.version)
    })
  )

/** Where the Punkt parameters would be read from without a download, or every place looked at. */
export type PunktLocation =
  | { readonly _tag: "Found"; readonly path: string; readonly from: "EMPO_PUNKT" | "EMPO_DATA_DIR" | "cache" }
  | { readonly _tag: "Missing"; readonly searched: ReadonlyArray<string>; readonly reason: string }

/**
 * Where {@link layerConfig} finds the Punkt parameters offline: `EMPO_PUNKT` (which must then exist), else
 * `$EMPO_DATA_DIR/nltk/punkt_english.json`, else the cache's copy. Used to check an experiment before it runs.
 */
export const locatePunkt: Effect.Effect<PunktLocation, never, FileSystem.FileSystem | Path.Path> = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const isFile = (file: string) => fs.stat(file).pipe(Effect.map((info) => info.type === "File"), Effect.orElseSucceed(() => false))
  const explicit = yield* Config.option(Config.nonEmptyString("EMPO_PUNKT")).pipe(Effect.orElseSucceed(() => Option.none<string>()))
  if (Option.isSome(explicit)) {
    return (yield* isFile(explicit.value))
      ? { _tag: "Found", path: explicit.value, from: "EMPO_PUNKT" } as const
      : { _tag: "Missing", searched: [explicit.value], reason: `EMPO_PUNKT names ${explicit.value}, which does not exist` } as const
  }
  const folders = yield* dataFolders
  const candidates = dataFileCandidates(folders, CACHED_PUNKT_FILE, path)
  for (const candidate of candidates) {
    if (yield* isFile(candidate)) {
      return { _tag: "Found", path: candidate, from: Option.isSome(folders.dataDir) && candidate === candidates[0] ? "EMPO_DATA_DIR" : "cache" } as const
    }
  }
  return { _tag: "Missing", searched: candidates, reason: `NLTK's Punkt parameters are in none of ${candidates.join(", ")}` } as const
})

/** What to do when {@link locatePunkt} finds nothing: the flag, the variable and the folders. */
export const PUNKT_HINT =
  "set EMPO_PUNKT to a punkt_english.json (`--punkt` of `empo eval` / `empo counts build`), or put it at $EMPO_DATA_DIR/nltk/punkt_english.json; " +
  "`empo eval` downloads NLTK's copy into the cache once when the network is reachable"

/**
 * {@link layer} configured from the environment: `EMPO_PUNKT` (a parameters file), `EMPO_DATA_DIR` (its
 * `nltk/punkt_english.json`), `EMPO_CACHE` (default `~/.cache/empo`) and `EMPO_PUNKT_URL` (default
 * {@link NLTK_PUNKT_TAB_URL}).
 */
export const layerConfig: Layer.Layer<
  Tokenizer,
  TokenizerDataError | TokenizerDownloadError,
  FileSystem.FileSystem | Path.Path | HttpClient.HttpClient
> = Layer.unwrapEffect(
  Effect.gen(function* () {
    // An empty variable counts as unset, as in dataFolders.
    const optional = (name: string) => Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
    const file = yield* optional("EMPO_PUNKT")
    const url = yield* optional("EMPO_PUNKT_URL")
    const { dataDir, cacheDir } = yield* dataFolders
    return layer({ file: Option.getOrUndefined(file), url: Option.getOrUndefined(url), dataDir: Option.getOrUndefined(dataDir), cacheDir })
  }).pipe(Effect.mapError((error) => new TokenizerDataError({ path: "EMPO_PUNKT", reason: `${String(error)}; ${PUNKT_HINT}` })))
)
