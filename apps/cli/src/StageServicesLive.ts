import { TrainingBackendLive, WorkerClientLive } from "@empo/bridge"
import type { WorkerClient } from "@empo/core/Worker"
import { Plugins, StageServices } from "@empo/experiments"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { TokenizerLive } from "./MainLayer.ts"

/**
 * What stage executors use to reach Python and NLTK in `empo run` and the TUI's launches: a fresh worker per
 * training or generation stage, a lazily started one (serving the metric plugins' modules) per evaluation.
 */
export const StageServicesLive = Layer.succeed(StageServices, StageServices.of({
  trainingBackend: TrainingBackendLive,
  worker: (plugins) => WorkerClientLive({ plugins }),
  tokenizer: TokenizerLive
}))

/**
 * The worker `empo eval` scores Python metrics with: it serves every catalogue metric's module and starts only
 * when such a metric scores (a run of feature metrics never starts Python).
 */
export const MetricWorkerLive: Layer.Layer<WorkerClient, never, Plugins> = Layer.unwrapEffect(
  Effect.map(Plugins, (plugins) => WorkerClientLive({ plugins: plugins.metrics.flatMap((p) => p.manifest.python === undefined ? [] : [p.manifest.python]) }))
)
