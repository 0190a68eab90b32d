import type { MetricPlugin } from "@empo/core"
import type { OptimizerPlugin } from "@empo/core/Optimizer"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/** The optimizer and metric plugins an app ships; specs are validated against them (phase 2). */
export class Plugins extends Context.Tag("@empo/experiments/Plugins")<Plugins, {
  readonly optimizers: ReadonlyArray<OptimizerPlugin>
  readonly metrics: ReadonlyArray<MetricPlugin>
}>() {
  static readonly layer = (catalog: { readonly optimizers: ReadonlyArray<OptimizerPlugin>; readonly metrics: ReadonlyArray<MetricPlugin> }): Layer.Layer<Plugins> =>
    Layer.succeed(Plugins, Plugins.of(catalog))
}
