import { InputError } from "@empo/core"
import * as Effect from "effect/Effect"

/** A CSV member of the release tarball, as bytes: the loader validates and decodes it like a CSV file. */
export interface TarMember {
  /** `<tarball>!<member path>`, so reports name both. */
  readonly name: string
  readonly bytes: Uint8Array
}

const SPLIT_FILES = new Set(["train.csv", "valid.csv", "test.csv"])

/**
 * Reads `train.csv`, `valid.csv` and `test.csv` from `empatheticdialogues.tar.gz` in memory (no
 * extraction to disk), in that order of appearance in the archive.
 */
export const readTarballCsvs = (file: string): Effect.Effect<Array<TarMember>, InputError> =>
  Effect.tryPromise({
    try: async () => {
      const members: Array<TarMember> = []
      // Loaded on use: every command (and the TUI) would otherwise parse tar at start-up.
      const tar = await import("tar")
      await tar.list({
        file,
        onReadEntry: (entry) => {
          const base = entry.path.replace(/^.*\//, "")
          if (entry.type !== "File" || !SPLIT_FILES.has(base)) {
            entry.resume()
            return
          }
          const chunks: Array<Buffer> = []
          entry.on("data", (c: Buffer) => chunks.push(c))
          entry.on("end", () => members.push({ name: `${file}!${entry.path}`, bytes: Buffer.concat(chunks) }))
        }
      })
      return members
    },
    catch: (cause) => new InputError({ reason: `cannot read the tarball: ${cause instanceof Error ? cause.message : String(cause)}`, file })
  }).pipe(
    Effect.filterOrFail(
      (members) => members.length > 0,
      () => new InputError({ reason: "the tarball holds none of train.csv, valid.csv, test.csv", file })
    )
  )
