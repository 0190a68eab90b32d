import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { Dialogue, DatasetFormat } from "./Dialogue.ts"
import type { InputError, IoError, MalformedRow } from "./Errors.ts"

/** Everything a source yields: dialogues (in order of first appearance) plus the rows it had to skip (file + line each). */
export interface DatasetLoad {
  readonly format: DatasetFormat
  readonly files: ReadonlyArray<string>
  readonly dialogues: ReadonlyArray<Dialogue>
  readonly utterances: number
  readonly malformed: ReadonlyArray<MalformedRow>
  /** Rows dropped by the study's `hit:` filter (empo-method §1.2 step 2); not malformed, just excluded. */
  readonly droppedHitRows?: number
}

/** Reads EmpatheticDialogues in one of its published shapes (raw release, pair-per-row derivative, HF export). */
export class DatasetSource extends Context.Tag("@empo/core/DatasetSource")<DatasetSource, {
  readonly format: DatasetFormat
  /** Loads every dialogue; with `strict`, the first malformed row fails the load. */
  readonly load: (options: { readonly strict: boolean }) => Effect.Effect<DatasetLoad, InputError | IoError>
}>() {}
