import type { MetricPlugin } from "@empo/core"
import type { OptimizerPlugin } from "@empo/core/Optimizer"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type { StagePlugin } from "./Stage.ts"
import { builtinStages } from "./stages/index.ts"

/** The optimizer and metric plugins an app ships; specs are validated against them (phase 2). */
export class Plugins extends Context.Tag("@empo/experiments/Plugins")<Plugins, {
  readonly optimizers: ReadonlyArray<OptimizerPlugin>
  readonly metrics: ReadonlyArray<MetricPlugin>
  /** Stage plugins in planning order; the built-in pipeline when absent. */
  readonly stages?: ReadonlyArray<StagePlugin>
}>() {
  static readonly layer = (catalog: { readonly optimizers: ReadonlyArray<OptimizerPlugin>; readonly metrics: ReadonlyArray<MetricPlugin>; readonly stages?: ReadonlyArray<StagePlugin> }): Layer.Layer<Plugins> =>
    Layer.succeed(Plugins, Plugins.of(catalog))
}

/** The stage plugins a catalogue plans with, in order. */
export const stagePluginsOf = (plugins: { readonly stages?: ReadonlyArray<StagePlugin> | undefined }): ReadonlyArray<StagePlugin> =>
  plugins.stages ?? builtinStages
