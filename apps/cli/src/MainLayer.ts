import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Downloader } from "@empo/data"
import { NltkTokenizer } from "@empo/text"
import * as Layer from "effect/Layer"

// The CLI's composition root: every service a command needs is provided here and nowhere else.
export const MainLayer = Layer.mergeAll(NodeContext.layer)

// Downloads go through Node's built-in fetch: no second HTTP stack to load at every start.
const HttpClientLive = FetchHttpClient.layer

// Provided only by commands that tokenize: building it may download NLTK's Punkt data on first use.
export const TokenizerLive = NltkTokenizer.layerConfig.pipe(Layer.provide(HttpClientLive))

// Provided only by `empo data download` (cache dir: $EMPO_CACHE, else ~/.cache/empo).
export const DownloaderLive = Downloader.layer.pipe(Layer.provide(HttpClientLive))
