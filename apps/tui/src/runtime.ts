import * as NodeContext from "@effect/platform-node/NodeContext"
import type { DuplicatePluginError } from "@empo/core"
import type { Plugins } from "@empo/experiments/Plugins"
import { type NotARunStoreError, RunStore, type StoreError } from "@empo/store"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Launcher, type LauncherOptions } from "./data/Launcher.ts"
import { ReportExport } from "./data/ReportExport.ts"
import { TableExport } from "./data/TableExport.ts"
import { TuiStore } from "./data/TuiStore.ts"

/** The services the screens' hooks run effects against (the plugin catalogue too: metric directions). */
export type TuiServices = TuiStore | Launcher | TableExport | ReportExport | Plugins

/** Why the TUI could not start: an unopenable store, or a plugin list with a repeated id. */
export type TuiStartError = StoreError | NotARunStoreError | DuplicatePluginError

export type TuiRuntime = ManagedRuntime.ManagedRuntime<TuiServices, TuiStartError>

export interface TuiOptions extends LauncherOptions {
  /** The plugin catalogue specs are validated against and metric directions come from (the CLI's). */
  readonly plugins: Layer.Layer<Plugins, DuplicatePluginError>
  /** Where compare exports (and reports, under reports/<experiment>/) are written. */
  readonly exportDir: string
}

/** The TUI's services over one SQLite file, opened alongside a runner that may be writing it (WAL). */
export const tuiLayer = (options: TuiOptions): Layer.Layer<TuiServices, TuiStartError> =>
  Layer.mergeAll(TuiStore.layer, Launcher.layer(options), TableExport.layer(options.exportDir), ReportExport.layer(options.exportDir)).pipe(
    Layer.provide(RunStore.layer(options.dbPath)),
    Layer.provideMerge(options.plugins),
    Layer.provide(NodeContext.layer)
  )

/** One runtime for the whole app; `renderTui` disposes it when Ink exits (closing the database). */
export const makeTuiRuntime = (layer: Layer.Layer<TuiServices, TuiStartError>): TuiRuntime => ManagedRuntime.make(layer)
