import type { PlatformError } from "@effect/platform/Error"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { PlannedStage, StageKind } from "./Plan.ts"

/** What an executor gets: its stage, a private output folder, and its upstream stages' outputs. */
export interface StageContext {
  readonly stage: PlannedStage
  /**
   * A temporary folder that does not exist yet (the Python worker refuses to write into an existing one):
   * the executor or its worker creates it; the runner renames it into place only when the executor succeeds.
   */
  readonly outputDir: string
  /** Upstream output folders by role (`model`, `data`, `items`, `predictions`). */
  readonly inputs: Readonly<Record<string, string>>
  /** Appends a point to a metric series (batched into the store). */
  readonly metric: (key: string, step: number, value: number) => Effect.Effect<void>
  /** A one-line progress note for the terminal. */
  readonly progress: (message: string) => Effect.Effect<void>
}

/** What a finished stage reports besides its files. */
export interface StageResult {
  readonly summary?: Readonly<Record<string, number>>
}

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

/** Runs one kind of stage. */
export type StageExecutor = (context: StageContext) => Effect.Effect<StageResult, StageFailure>

/** The executor of every stage kind (real ones in the app, scripted ones in tests). */
export class StageExecutors extends Context.Tag("@empo/experiments/StageExecutors")<StageExecutors, Readonly<Record<StageKind, StageExecutor>>>() {}
