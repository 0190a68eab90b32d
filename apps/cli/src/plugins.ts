import type { DuplicatePluginError, MetricPlugin } from "@empo/core"
import type { OptimizerPlugin } from "@empo/core/Optimizer"
import { builtinStages } from "@empo/experiments"
import { Plugins, type StagePluginEntry } from "@empo/experiments/Plugins"
import { plugin as bertscore } from "@empo/metric-bertscore"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as diversity } from "@empo/metric-diversity"
import { plugin as epitome } from "@empo/metric-epitome"
import { plugin as epitomeSaved } from "@empo/metric-epitome-saved"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { sshExecutor } from "@empo/executor-ssh"
import { slurmExecutor } from "@empo/executor-slurm"
import { rayExecutor } from "@empo/executor-ray"
import { dpoOptimizer } from "@empo/optimizer-dpo"
import { ipoOptimizer } from "@empo/optimizer-ipo"
import { ktoOptimizer } from "@empo/optimizer-kto"
import { sftOptimizer } from "@empo/optimizer-sft"
import { benchmarkStage } from "@empo/stage-benchmark"
import type * as Layer from "effect/Layer"

// The app's built-in plugins, listed explicitly (no scanning, no dynamic import). A new metric plugin is
// one folder under plugins/ plus one entry here.
export const metricPlugins: ReadonlyArray<MetricPlugin> = [vad, specificity, diversity, distinct, length, epitomeSaved, epitome, bertscore]

// Training stages; the plugin id is the `--stage` value of `empo train`.
export const optimizerPlugins: ReadonlyArray<OptimizerPlugin> = [sftOptimizer, dpoOptimizer, ipoOptimizer, ktoOptimizer]

// Stage plugins in planning order: the built-in pipeline, then stages that plan from the models it left.
export const stagePlugins: ReadonlyArray<StagePluginEntry> = [...builtinStages, benchmarkStage]

/** The catalogue every command looks plugins up in (provided once, by bin.ts through `runEmpo`). */
// Executor kinds of the inventory (`empo run --executor NAME`); one plugin per kind.
export const executorPlugins = [sshExecutor, slurmExecutor, rayExecutor]

export const PluginsLive: Layer.Layer<Plugins, DuplicatePluginError> = Plugins.layer({ metrics: metricPlugins, optimizers: optimizerPlugins, stages: stagePlugins, executors: executorPlugins })
