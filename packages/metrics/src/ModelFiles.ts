import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { MetricError, MetricResource } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"

export interface HashModelFilesOptions {
  /** Prefix of the resource names (default: the folder's base name; none for a list of files). */
  readonly label?: string
}

/**
 * The sha256 of every file a metric's model consists of, as {@link MetricResource}s for the metric's
 * `resources`: the runner's cache key includes them, so retraining or swapping a checkpoint (even one byte)
 * invalidates cached scores. `target` is a model folder (every file below it, sorted by relative path) or a
 * list of files. Files are streamed, never read whole. A missing or unreadable file is the input's fault.
 */
export const hashModelFiles = Effect.fn("hashModelFiles")(function* (
  metric: string,
  target: string | ReadonlyArray<string>,
  options: HashModelFilesOptions = {}
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const unreadable = (file: string) => (error: { readonly message: string }) =>
    new MetricError({ metric, reason: `cannot read model file ${file}: ${error.message}`, inputFault: true })

  const files: Array<{ readonly name: string; readonly file: string }> = []
  if (typeof target === "string") {
    const entries = yield* fs.readDirectory(target, { recursive: true }).pipe(Effect.mapError(unreadable(target)))
    const label = options.label ?? path.basename(target)
    for (const entry of [...entries].sort()) {
      const file = path.join(target, entry)
      const info = yield* fs.stat(file).pipe(Effect.mapError(unreadable(file)))
      if (info.type === "File") files.push({ name: `${label}/${entry.split(path.sep).join("/")}`, file })
    }
    if (files.length === 0) return yield* new MetricError({ metric, reason: `model folder ${target} has no files`, inputFault: true })
  } else {
    for (const file of target) files.push({ name: options.label === undefined ? path.basename(file) : `${options.label}/${path.basename(file)}`, file })
  }

  return yield* Effect.forEach(files, ({ name, file }) =>
    Effect.gen(function* () {
      const hash = createHash("sha256")
      yield* fs.stream(file).pipe(
        Stream.runForEach((chunk) => Effect.sync(() => hash.update(chunk))),
        Effect.mapError(unreadable(file))
      )
      return new MetricResource({ name, sha256: hash.digest("hex") })
    }))
})
