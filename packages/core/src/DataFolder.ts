/**
 * Where third-party data files (NRC lexicons, ED counts, NLTK's Punkt parameters) are found when a param or flag
 * does not name one: `$EMPO_DATA_DIR/<relative>`, then the cache `$EMPO_CACHE/<relative>` (default
 * `~/.cache/empo`). Never the working directory, so a command works the same from any folder.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { UserError } from "./Errors.ts"

/** The data files the workbench knows by name, relative to a data folder (the layout of the shared data). */
export const DataFiles = {
  vadLexicon: "lexicons/NRC-VAD-Lexicon.txt",
  intensityLexicon: "lexicons/NRC-Emotion-Intensity.txt",
  edCounts: "empathetic_dialogues/ed_counts.json",
  punkt: "nltk/punkt_english.json"
} as const

/** The folders defaults are looked up in: `EMPO_DATA_DIR` when set, then the cache dir. */
export interface DataFolders {
  readonly dataDir: Option.Option<string>
  readonly cacheDir: string
}

/** Reads `EMPO_DATA_DIR`, `EMPO_CACHE` and `HOME` through `Config` (so tests can set them). */
export const dataFolders: Effect.Effect<DataFolders, never, Path.Path> = Effect.gen(function* () {
  const path = yield* Path.Path
  const read = (name: string) => Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
  const dataDir = Option.map(yield* read("EMPO_DATA_DIR"), (dir) => path.resolve(dir))
  const home = Option.getOrElse(yield* read("HOME"), () => ".")
  const cacheDir = path.resolve(Option.getOrElse(yield* read("EMPO_CACHE"), () => path.join(home, ".cache", "empo")))
  return { dataDir, cacheDir }
})

/** The candidate paths of a data file, in lookup order. */
export const dataFileCandidates = (folders: DataFolders, relative: string, path: Path.Path): ReadonlyArray<string> =>
  [...Option.toArray(folders.dataDir), folders.cacheDir].map((dir) => path.join(dir, relative))

/** A data file a default needed is in none of the data folders. Exit code 2: the setup is at fault. */
export class DataFileNotFoundError extends UserError<DataFileNotFoundError>()("DataFileNotFoundError", {
  file: Schema.String,
  searched: Schema.Array(Schema.String),
  dataDirSet: Schema.Boolean
}, {
  exitCode: 2,
  message: (e) =>
    `${e.file} not found (looked in ${e.searched.join(", ")})${e.dataDirSet ? "" : "; set EMPO_DATA_DIR to the data folder"}`
}) {}

const isFile = (fs: FileSystem.FileSystem, file: string) =>
  fs.stat(file).pipe(Effect.map((info) => info.type === "File"), Effect.orElseSucceed(() => false))

/** The first existing candidate of a data file, or none. */
export const findDataFile = Effect.fn("DataFolder.find")(function* (relative: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const folders = yield* dataFolders
  for (const candidate of dataFileCandidates(folders, relative, path)) {
    if (yield* isFile(fs, candidate)) return Option.some(candidate)
  }
  return Option.none<string>()
})

/** The data file at `relative` in `EMPO_DATA_DIR`, else in the cache; fails naming every place it looked. */
export const resolveDataFile = Effect.fn("DataFolder.resolve")(function* (relative: string) {
  const path = yield* Path.Path
  const found = yield* findDataFile(relative)
  if (Option.isSome(found)) return found.value
  const folders = yield* dataFolders
  return yield* new DataFileNotFoundError({
    file: relative, searched: dataFileCandidates(folders, relative, path), dataDirSet: Option.isSome(folders.dataDir)
  })
})
