import type { PlatformError } from "@effect/platform/Error"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { StageKind } from "./Plan.ts"
import { Plugins, stagePluginsOf } from "./Plugins.ts"
import type { StageContext, StageEnvironment, StageResult } from "./Stage.ts"

export type { StageContext, StageResult } from "./Stage.ts"

/** A stage did not complete. `stderrTail` is the last lines a worker printed, kept in the store. */
export class StageFailure extends Schema.TaggedError<StageFailure>()("StageFailure", {
  reason: Schema.String,
  stderrTail: Schema.optional(Schema.String)
}) {}

const verbs: Record<string, string> = {
  makeDirectory: "create", makeTempDirectory: "create", makeTempDirectoryScoped: "create", writeFile: "write", truncate: "write",
  readFile: "read", open: "open", readDirectory: "list", stat: "read", readLink: "read", realPath: "resolve",
  remove: "remove", rename: "move", copy: "copy", copyFile: "copy", symlink: "link", link: "link"
}

/** The OS's reason for a file-system failure, e.g. `ENOSPC: no space left on device` (Node's message less its
 * trailing `, syscall 'path'`, which the caller says better). */
export const osReason = (error: PlatformError): string => {
  if (error._tag === "BadArgument") return error.description ?? error.message
  const cause = error.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  const raw = typeof cause?.message === "string" ? cause.message : error.description ?? error.reason
  const syscallAt = error.syscall === undefined ? -1 : raw.lastIndexOf(`, ${error.syscall}`)
  const reason = syscallAt > 0 ? raw.slice(0, syscallAt) : raw
  return typeof cause?.code === "string" && !reason.startsWith(cause.code) ? `${cause.code}: ${reason}` : reason
}

/** `cannot write /x/log.txt: ENOSPC: no space left on device`; `action` overrides the operation and path. */
export const describeFileSystemError = (error: PlatformError, action?: string): string => {
  const what = action ?? (error._tag === "BadArgument" ? error.method
    : `${verbs[error.method] ?? error.method} ${String(error.pathOrDescriptor ?? "")}`.trim())
  return `cannot ${what}: ${osReason(error)}`
}

/** A stage's own file operation failed (its output folder, log or artifacts): fails that stage only. */
export const fileSystemFailure = (action?: string) => (error: PlatformError): StageFailure =>
  new StageFailure({ reason: describeFileSystemError(error, action) })

/** Runs one node; `context.inputs` is the node's raw (hashed) inputs until its kind's Schema decodes them. */
export type StageExecutor = (context: StageContext) => Effect.Effect<StageResult, StageFailure>

/**
 * The executor of each node kind, by kind: the catalogue's stage plugins in the app ({@link StageExecutors.fromCatalog}),
 * scripted ones in tests. `undefined` for a kind nobody executes (the runner fails that stage, naming it).
 */
export class StageExecutors extends Context.Tag("@empo/experiments/StageExecutors")<StageExecutors, (kind: StageKind) => StageExecutor | undefined>() {
  /** Executors from a fixed table (tests). */
  static readonly fromRecord = (executors: Readonly<Record<string, StageExecutor>>): Layer.Layer<StageExecutors> =>
    Layer.succeed(StageExecutors, (kind) => executors[kind])

  /**
   * The catalogue's executors: each decodes its node's inputs with its kind's Schema (a stored node whose inputs no
   * longer decode fails typed, naming the field) and runs with the app's services.
   */
  static readonly fromCatalog: Layer.Layer<StageExecutors, never, StageEnvironment> = Layer.effect(StageExecutors, Effect.gen(function* () {
    const services = yield* Effect.context<StageEnvironment>()
    const plugins = yield* Plugins
    const kinds = new Map(stagePluginsOf(plugins).flatMap((p) => p.kinds.map((k) => [k.kind, k] as const)))
    return (kind) => {
      const definition = kinds.get(kind)
      if (definition === undefined) return undefined
      const decode = Schema.decodeUnknown(definition.inputs)
      return (context) => decode(context.stage.inputs).pipe(
        Effect.mapError((e) => new StageFailure({ reason: `inputs of ${context.stage.id}: ${ParseResult.TreeFormatter.formatErrorSync(e)}` })),
        Effect.flatMap((inputs) => definition.execute({ ...context, inputs })),
        Effect.provide(services)
      )
    }
  }))
}
