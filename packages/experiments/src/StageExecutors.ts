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

/** Runs one kind of stage. */
export type StageExecutor = (context: StageContext) => Effect.Effect<StageResult, StageFailure>

/** The executor of every stage kind (real ones in the app, scripted ones in tests). */
export class StageExecutors extends Context.Tag("@empo/experiments/StageExecutors")<StageExecutors, Readonly<Record<StageKind, StageExecutor>>>() {}
