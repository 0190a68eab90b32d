import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import { sharedData } from "@empo/core/testing/sharedData"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { zipSync } from "fflate"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { NltkTokenizer, PunktParameters, Tokenizer } from "../src/index.ts"

const englishJson = JSON.parse(fs.readFileSync(sharedData("nltk", "punkt_english.json"), "utf8"))

// The archive NLTK publishes (`punkt_tab.zip`), rebuilt from the shared parameters in NLTK's tab format.
const punktTabZip = (): Uint8Array => {
  const params = new PunktParameters(englishJson).toJson()
  const enc = (text: string) => new TextEncoder().encode(text)
  return zipSync({
    "punkt_tab/README": enc("Punkt models\n"),
    "punkt_tab/german/abbrev_types.txt": enc("usw\n"),
    "punkt_tab/english/abbrev_types.txt": enc(params.abbrev_types.join("\n") + "\n"),
    "punkt_tab/english/collocations.tab": enc(params.collocations.map((pair) => pair.join("\t")).join("\n") + "\n"),
    "punkt_tab/english/sent_starters.txt": enc(params.sent_starters.join("\n") + "\n"),
    "punkt_tab/english/ortho_context.tab": enc(
      Object.entries(params.ortho_context).map(([word, flags]) => `${word}\t${flags}`).join("\n") + "\n"
    )
  })
}

// A real HTTP server on 127.0.0.1 for the scope of one test; it counts requests per path.
const serve = (body: Uint8Array) =>
  Effect.acquireRelease(
    Effect.async<{ server: http.Server; base: string; hits: Map<string, number> }>((resume) => {
      const hits = new Map<string, number>()
      const server = http.createServer((request, response) => {
        hits.set(request.url ?? "", (hits.get(request.url ?? "") ?? 0) + 1)
        if (request.url === "/punkt_tab.zip") {
          response.writeHead(200, { "content-type": "application/zip" })
          response.end(body)
        } else {
          response.writeHead(404)
          response.end()
        }
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits })))
    }),
    ({ server }) => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
  )

const Live = Layer.mergeAll(NodeContext.layer, FetchHttpClient.layer)
const sentence = "Mr. Smith can't stay. He's 'personal' about it!"

describe("NltkTokenizer", () => {
  it.scoped("downloads NLTK's English Punkt data on first use, caches it, and tokenizes like the shared file", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const cacheDir = yield* fsx.makeTempDirectoryScoped()
      const { base, hits } = yield* serve(punktTabZip())
      const options = { cacheDir, url: `${base}/punkt_tab.zip` }

      const downloaded = yield* Tokenizer.pipe(Effect.provide(NltkTokenizer.layer(options)))
      const again = yield* Tokenizer.pipe(Effect.provide(NltkTokenizer.layer(options)))
      const fromShared = yield* Tokenizer.pipe(
        Effect.provide(NltkTokenizer.layerFromFile(sharedData("nltk", "punkt_english.json")))
      )

      assert.strictEqual(hits.get("/punkt_tab.zip"), 1)
      assert.deepStrictEqual(downloaded.wordTokenize(sentence), fromShared.wordTokenize(sentence))
      assert.deepStrictEqual(downloaded.wordTokenize(sentence), [
        "Mr.", "Smith", "ca", "n't", "stay", ".", "He", "'s", "'personal", "'", "about", "it", "!"
      ])
      assert.deepStrictEqual(downloaded.sentTokenize(sentence), ["Mr. Smith can't stay.", "He's 'personal' about it!"])
      assert.strictEqual(again.resource.sha256, downloaded.resource.sha256)
      const cached = JSON.parse(yield* fsx.readFileString(`${cacheDir}/${NltkTokenizer.CACHED_PUNKT_FILE}`))
      assert.deepStrictEqual(cached, new PunktParameters(englishJson).toJson())
      assert.deepStrictEqual((yield* fsx.readDirectory(`${cacheDir}/nltk`)), ["punkt_english.json"])
    }).pipe(Effect.provide(Live)))

  it.scoped("a failed download is a TokenizerDownloadError and leaves nothing in the cache", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const cacheDir = yield* fsx.makeTempDirectoryScoped()
      const { base } = yield* serve(punktTabZip())
      const missing = yield* Tokenizer.pipe(
        Effect.provide(NltkTokenizer.layer({ cacheDir, url: `${base}/missing.zip` })),
        Effect.flip
      )
      assert.strictEqual(missing._tag, "TokenizerDownloadError")
      assert.include(missing.message, "missing.zip")
      assert.isFalse(yield* fsx.exists(`${cacheDir}/${NltkTokenizer.CACHED_PUNKT_FILE}`))
    }).pipe(Effect.provide(Live)))

  it.scoped("an archive without English parameters is reported", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const cacheDir = yield* fsx.makeTempDirectoryScoped()
      const { base } = yield* serve(zipSync({ "punkt_tab/README": new Uint8Array([65]) }))
      const error = yield* Tokenizer.pipe(
        Effect.provide(NltkTokenizer.layer({ cacheDir, url: `${base}/punkt_tab.zip` })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "TokenizerDownloadError")
      assert.include(error.message, "english/abbrev_types.txt")
    }).pipe(Effect.provide(Live)))

  it.effect("remembers tokens per text, and layerConfig reads EMPO_PUNKT", () =>
    Effect.gen(function* () {
      const tokenizer = yield* Tokenizer
      const first = tokenizer.wordTokenize(sentence)
      assert.strictEqual(tokenizer.wordTokenize(sentence), first)
      assert.deepStrictEqual(tokenizer.wordTokenize(sentence.toLowerCase())[0], "mr.")
      const bounded = NltkTokenizer.make(new PunktParameters(englishJson), tokenizer.resource, "3.8.1", 2)
      const a = bounded.wordTokenize("a")
      bounded.wordTokenize("b")
      bounded.wordTokenize("c")
      assert.notStrictEqual(bounded.wordTokenize("a"), a)
      assert.deepStrictEqual(bounded.wordTokenize("a"), a)
    }).pipe(
      Effect.provide(NltkTokenizer.layerConfig.pipe(Layer.provide(Live))),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_PUNKT", sharedData("nltk", "punkt_english.json")]])))
    ))

  it.scoped("layerConfig reads $EMPO_DATA_DIR/nltk/punkt_english.json before the cache and never downloads it; locatePunkt says where", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const cacheDir = yield* fsx.makeTempDirectoryScoped()
      const dataDir = sharedData()
      const config = (entries: ReadonlyArray<readonly [string, string]>) => ConfigProvider.fromMap(new Map([["EMPO_CACHE", cacheDir], ["HOME", cacheDir], ...entries]))
      // An unreachable URL: a download attempt would fail the layer.
      const offline = ["EMPO_PUNKT_URL", "http://127.0.0.1:9/punkt_tab.zip"] as const
      const tokenizer = yield* Tokenizer.pipe(
        Effect.provide(NltkTokenizer.layerConfig.pipe(Layer.provide(Live))),
        Effect.withConfigProvider(config([["EMPO_DATA_DIR", dataDir], offline]))
      )
      assert.deepStrictEqual(tokenizer.wordTokenize("Mr. Smith isn't here."), ["Mr.", "Smith", "is", "n't", "here", "."])
      assert.isFalse(yield* fsx.exists(`${cacheDir}/${NltkTokenizer.CACHED_PUNKT_FILE}`))
      const found = yield* NltkTokenizer.locatePunkt.pipe(Effect.withConfigProvider(config([["EMPO_DATA_DIR", dataDir]])))
      assert.deepStrictEqual(found, { _tag: "Found", path: sharedData("nltk", "punkt_english.json"), from: "EMPO_DATA_DIR" })
      const missing = yield* NltkTokenizer.locatePunkt.pipe(Effect.withConfigProvider(config([])))
      assert.strictEqual(missing._tag, "Missing")
      assert.include(missing._tag === "Missing" ? missing.reason : "", `${cacheDir}/nltk/punkt_english.json`)
      const wrongFile = yield* NltkTokenizer.locatePunkt.pipe(Effect.withConfigProvider(config([["EMPO_PUNKT", `${cacheDir}/nope.json`]])))
      assert.include(wrongFile._tag === "Missing" ? wrongFile.reason : "", "EMPO_PUNKT names")
      const failed = yield* Tokenizer.pipe(Effect.provide(NltkTokenizer.layerConfig.pipe(Layer.provide(Live))), Effect.withConfigProvider(config([offline])), Effect.flip)
      assert.include(failed.message, "EMPO_PUNKT")
      assert.include(failed.message, "--punkt")
    }).pipe(Effect.provide(Live)))

  it.scoped("a malformed parameters file is a TokenizerDataError naming the file and the field", () =>
    Effect.gen(function* () {
      const fsx = yield* FileSystem.FileSystem
      const dir = yield* fsx.makeTempDirectoryScoped()
      const file = `${dir}/punkt.json`
      yield* fsx.writeFileString(file, JSON.stringify({ ...englishJson, ortho_context: { the: "often" } }))
      const error = yield* Tokenizer.pipe(Effect.provide(NltkTokenizer.layerFromFile(file)), Effect.flip)
      assert.strictEqual(error._tag, "TokenizerDataError")
      assert.include(error.message, file)
      assert.include(error.message, "ortho_context")
      assert.strictEqual(error.exitCode, 2)
    }).pipe(Effect.provide(Live)))
})
