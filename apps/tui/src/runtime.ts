import * as NodeContext from "@effect/platform-node/NodeContext"
import type { Plugins } from "@empo/experiments/Plugins"
import { RunStore, type StoreError } from "@empo/store"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Launcher, type LauncherOptions } from "./data/Launcher.ts"
import { TableExport } from "./data/TableExport.ts"
import { TuiStore } from "./data/TuiStore.ts"

/** The services the screens' hooks run effects against. */
export type TuiServices = TuiStore | Launcher | TableExport

export type TuiRuntime = ManagedRuntime.ManagedRuntime<TuiServices, StoreError>

export interface TuiOptions extends LauncherOptions {
  /** The optimizer and metric plugins specs are validated against (the CLI's catalog). */
  readonly plugins: Layer.Layer<Plugins>
  /** Where compare exports are written. */
  readonly exportDir: string
}

/** The TUI's services over one SQLite file, opened alongside a runner that may be writing it (WAL). */
export const tuiLayer = (options: TuiOptions): Layer.Layer<TuiServices, StoreError> =>
  Layer.mergeAll(TuiStore.layer, Launcher.layer(options), TableExport.layer(options.exportDir)).pipe(
    Layer.provide(Layer.mergeAll(RunStore.layer(options.dbPath), options.plugins)),
    Layer.provide(NodeContext.layer)
  )

/** One runtime for the whole app; `renderTui` disposes it when Ink exits (closing the database). */
export const makeTuiRuntime = (layer: Layer.Layer<TuiServices, StoreError>): TuiRuntime => ManagedRuntime.make(layer)
