import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { IoError } from "@empo/core"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"

/** Lowercase hex sha256 of bytes or text. */
export const sha256Hex = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex")

/**
 * Writes several files all-or-nothing as far as a crash allows: each goes to `.<name>.tmp` beside its
 * target first, and only when every temp file is written are they renamed into place (same directory,
 * so rename is atomic). Temp files are removed if anything fails.
 */
export const writeFilesAtomically = Effect.fn("writeFilesAtomically")(function*(files: ReadonlyArray<{ readonly path: string; readonly content: string }>) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const temps = files.map((f) => ({ ...f, temp: path.join(path.dirname(f.path), `.${path.basename(f.path)}.tmp`) }))
  const cleanup = Effect.forEach(temps, (t) => fs.remove(t.temp).pipe(Effect.ignore), { discard: true })
  yield* Effect.gen(function*() {
    for (const t of temps) {
      yield* fs.makeDirectory(path.dirname(t.path), { recursive: true }).pipe(Effect.mapError((cause) => new IoError({ operation: "create directory", path: path.dirname(t.path), cause })))
      yield* fs.writeFileString(t.temp, t.content).pipe(Effect.mapError((cause) => new IoError({ operation: "write", path: t.temp, cause })))
    }
    for (const t of temps) {
      yield* fs.rename(t.temp, t.path).pipe(Effect.mapError((cause) => new IoError({ operation: "rename into", path: t.path, cause })))
    }
  }).pipe(Effect.onError(() => cleanup))
})

/** sha256 of each input file, for manifests. */
export const hashFiles = Effect.fn("hashFiles")(function*(files: ReadonlyArray<string>) {
  const fs = yield* FileSystem.FileSystem
  return yield* Effect.forEach(files, (file) => {
    // Tarball members are named `<tarball>!<member>`; hash the tarball itself.
    const onDisk = file.includes("!") ? file.slice(0, file.indexOf("!")) : file
    return fs.readFile(onDisk).pipe(
      Effect.map((bytes) => ({ path: file, sha256: sha256Hex(bytes) })),
      Effect.mapError((cause) => new IoError({ operation: "read", path: onDisk, cause }))
    )
  })
})
