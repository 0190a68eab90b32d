import {
  DuplicatePluginError,
  type MetricKey,
  type MetricPlugin,
  type PluginBase,
  type PluginKind,
  trainingKeyOf,
  UnknownPluginError
} from "@empo/core"
import type { OptimizerPlugin } from "@empo/core/Optimizer"
import { MetricRegistry } from "@empo/metrics/MetricRegistry"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ExecutorPlugin } from "./Executor.ts"
import type { StagePlugin } from "./Stage.ts"
import { builtinStages } from "./stages/index.ts"

/** A stage plugin (see `Stage.ts`): its sections, node kinds and planning step. */
export type StagePluginEntry = StagePlugin

/** An executor plugin: one executor kind of the inventory (see `Executor.ts`, docs/executor-plugins.md). */
export type ExecutorPluginEntry = ExecutorPlugin

/** The plugins an app ships, by kind; what {@link Plugins.make} checks and indexes. */
export interface PluginCatalogue {
  readonly metrics: ReadonlyArray<MetricPlugin>
  readonly optimizers: ReadonlyArray<OptimizerPlugin>
  /** Stage plugins in planning order; absent = the built-in pipeline ({@link builtinStages}). */
  readonly stages?: ReadonlyArray<StagePluginEntry>
  readonly executors?: ReadonlyArray<ExecutorPluginEntry>
}

/** The element type of each kind's slot. */
export interface PluginOfKind {
  readonly metric: MetricPlugin
  readonly optimizer: OptimizerPlugin
  readonly stage: StagePluginEntry
  readonly executor: ExecutorPluginEntry
}

/** The run roles of training stages, in order: their summaries are `sft.<key>` and `preference.<key>`. */
export const trainingRoles = ["sft", "preference"] as const

/**
 * What a stored number means for comparisons: `<metric id>.<aggregate key>` from the metric's manifest,
 * `sft.<key>` and `preference.<key>` from the training table (`loss` lower, reward accuracies and margins higher);
 * undefined for keys nobody describes (no "best" is marked for them). Pure.
 */
export const metricKeyOf = (key: string, metrics: ReadonlyArray<MetricPlugin>): MetricKey | undefined => {
  const dot = key.indexOf(".")
  if (dot <= 0) return undefined
  const [prefix, rest] = [key.slice(0, dot), key.slice(dot + 1)]
  if ((trainingRoles as ReadonlyArray<string>).includes(prefix)) return trainingKeyOf(rest)
  const plugin = metrics.find((p) => p.manifest.id === prefix)
  return plugin === undefined || !Object.hasOwn(plugin.manifest.keys, rest) ? undefined : plugin.manifest.keys[rest]
}

/**
 * The app's one plugin catalogue (metric, optimizer, stage and executor plugins), checked for duplicate ids
 * when it is built. Every command, the TUI and the experiment planner look plugins up here; the CLI provides
 * it once in its composition root, so a test can run a command against another catalogue.
 */
export class Plugins extends Context.Tag("@empo/experiments/Plugins")<Plugins, {
  readonly optimizers: ReadonlyArray<OptimizerPlugin>
  readonly metrics: ReadonlyArray<MetricPlugin>
  readonly stages: ReadonlyArray<StagePluginEntry>
  readonly executors: ReadonlyArray<ExecutorPluginEntry>
  /** Ids of one kind, in catalogue order. */
  readonly ids: (kind: PluginKind) => ReadonlyArray<string>
  /** A plugin by kind and id; an unknown id fails listing the known ones. */
  readonly get: <K extends PluginKind>(kind: K, id: string) => Effect.Effect<PluginOfKind[K], UnknownPluginError>
  readonly metric: (id: string) => Effect.Effect<MetricPlugin, UnknownPluginError>
  readonly optimizer: (id: string) => Effect.Effect<OptimizerPlugin, UnknownPluginError>
  /** Direction and label of a stored metric key (see {@link metricKeyOf}). */
  readonly metricKey: (key: string) => MetricKey | undefined
}>() {
  static readonly make = (catalogue: PluginCatalogue): Effect.Effect<Plugins["Type"], DuplicatePluginError> =>
    Effect.gen(function* () {
      const slots: { readonly [K in PluginKind]: ReadonlyArray<PluginOfKind[K]> } = {
        metric: catalogue.metrics,
        optimizer: catalogue.optimizers,
        stage: catalogue.stages ?? builtinStages,
        executor: catalogue.executors ?? []
      }
      const index = new Map<PluginKind, Map<string, PluginBase>>()
      for (const kind of Object.keys(slots) as Array<PluginKind>) {
        const byId = new Map<string, PluginBase>()
        for (const plugin of slots[kind]) {
          if (byId.has(plugin.manifest.id)) return yield* new DuplicatePluginError({ kind, id: plugin.manifest.id })
          byId.set(plugin.manifest.id, plugin)
        }
        index.set(kind, byId)
      }
      // Stage plugins also share two namespaces: YAML sections under `stages:` and node kinds.
      const owners = new Map<string, string>()
      for (const plugin of slots.stage) {
        for (const name of [...Object.keys(plugin.sections ?? {}).map((k) => `section stages.${k}`), ...plugin.kinds.map((k) => `node kind ${k.kind}`)]) {
          const owner = owners.get(name)
          if (owner !== undefined) return yield* new DuplicatePluginError({ kind: "stage", id: `${plugin.manifest.id} (${name}, also owned by ${owner})` })
          owners.set(name, plugin.manifest.id)
        }
      }
      const ids = (kind: PluginKind): ReadonlyArray<string> => [...index.get(kind)!.keys()]
      const get = <K extends PluginKind>(kind: K, id: string): Effect.Effect<PluginOfKind[K], UnknownPluginError> => {
        const found = index.get(kind)!.get(id)
        return found === undefined
          ? Effect.fail(new UnknownPluginError({ kind, id, known: ids(kind) }))
          : Effect.succeed(found as PluginOfKind[K])
      }
      return Plugins.of({
        optimizers: slots.optimizer,
        metrics: slots.metric,
        stages: slots.stage,
        executors: slots.executor,
        ids,
        get,
        metric: Effect.fn("Plugins.metric")((id: string) => get("metric", id)),
        optimizer: Effect.fn("Plugins.optimizer")((id: string) => get("optimizer", id)),
        metricKey: (key) => metricKeyOf(key, slots.metric)
      })
    })

  /** The catalogue over an explicit plugin list (an app's `plugins.ts`). */
  static readonly layer = (catalogue: PluginCatalogue): Layer.Layer<Plugins, DuplicatePluginError> =>
    Layer.effect(Plugins, Plugins.make(catalogue))

  /** The metric registry over the catalogue's metric plugins (what `MetricRunner` runs). */
  static readonly metricRegistry: Layer.Layer<MetricRegistry, never, Plugins> = Layer.effect(
    MetricRegistry,
    // The catalogue already refused duplicate ids, so the registry cannot find one.
    Effect.flatMap(Plugins, (plugins) => MetricRegistry.make(plugins.metrics)).pipe(Effect.orDie)
  )
}

/** The stage plugins a catalogue plans with, in order. */
export const stagePluginsOf = (plugins: { readonly stages: ReadonlyArray<StagePlugin> }): ReadonlyArray<StagePlugin> => plugins.stages
