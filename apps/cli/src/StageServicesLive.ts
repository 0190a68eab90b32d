import { TrainingBackendLive, WorkerClientLive } from "@empo/bridge"
import { StageServices } from "@empo/experiments"
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
