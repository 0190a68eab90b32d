/**
 * What every plugin kind has in common (metric, optimizer, stage, executor), and the two ways a plugin lookup
 * fails. The catalogue that holds an app's plugins is `Plugins` in `@empo/experiments`.
 */
import * as Schema from "effect/Schema"
import { UserError } from "./Errors.ts"

/** The kinds of plugin an app's catalogue holds. */
export const PluginKind = Schema.Literal("metric", "optimizer", "stage", "executor")
export type PluginKind = typeof PluginKind.Type

/** The part of a manifest the catalogue reads: an id unique within its kind. */
export interface PluginManifestBase<K extends PluginKind = PluginKind> {
  readonly id: string
  readonly kind: K
}

/** Anything with a manifest: the element type of a catalogue slot. */
export interface PluginBase<K extends PluginKind = PluginKind> {
  readonly manifest: PluginManifestBase<K>
}

/** Two plugins of one kind claim the same id: a wiring bug in the app's plugin list. Exit code 1. */
export class DuplicatePluginError extends UserError<DuplicatePluginError>()("DuplicatePluginError", {
  kind: PluginKind,
  id: Schema.String
}, {
  exitCode: 1,
  message: (e) => `two ${e.kind} plugins share the id \`${e.id}\``
}) {}

/** No plugin of that kind has the id (a typo in a flag or a spec). Exit code 2; the message lists the known ids. */
export class UnknownPluginError extends UserError<UnknownPluginError>()("UnknownPluginError", {
  kind: PluginKind,
  id: Schema.String,
  known: Schema.Array(Schema.String)
}, {
  exitCode: 2,
  message: (e) => `unknown ${e.kind} \`${e.id}\`; known ${e.kind}s: ${e.known.length === 0 ? "(none)" : e.known.join(", ")}`
}) {}
