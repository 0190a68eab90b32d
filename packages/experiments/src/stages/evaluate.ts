import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { MetricRunner, readPredictions } from "@empo/metrics"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { EvaluateStageSpec } from "../ExperimentSpec.ts"
import { Plugins } from "../Plugins.ts"
import { defineStage, defineStageKind, StageServices } from "../Stage.ts"
import { fileSystemFailure } from "../StageExecutors.ts"
import { asStageFailure, ensureDir, StageFiles } from "./shared.ts"

/** The resolved metrics (plugin params re-encoded), as hashed. */
export const EvaluateInputs = Schema.Struct({
  metrics: Schema.Array(Schema.Struct({ id: Schema.String, params: Schema.Unknown }))
})

/**
 * Scores the predictions with metric plugins. Python starts only when a configured metric declares a worker
 * module (and then once for the stage); the tokenizer is built only here, so training never waits on Punkt data.
 */
export const evaluateKind = defineStageKind({
  kind: "evaluate",
  artifactKind: "metrics",
  pool: "local",
  // Keys name their metric plugin (`vad.valence_mean`), not the stage.
  summaryKeys: "as-reported",
  inputs: EvaluateInputs,
  execute: (context) => Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runner = yield* MetricRunner
    const plugins = yield* Plugins
    const services = yield* StageServices
    const { metrics } = context.inputs
    yield* ensureDir(context.outputDir)
    const predictions = yield* readPredictions(path.join(context.upstream["predictions"]!, StageFiles.predictions), { format: "jsonl" })
    const modules = metrics.flatMap((m) => {
      const python = plugins.metrics.find((p) => p.manifest.id === m.id)?.manifest.python
      return python === undefined ? [] : [python]
    })
    const result = yield* runner.run(predictions.items, metrics.map((m) => ({ id: m.id, params: m.params })), {
      onProgress: (p) => p._tag === "MetricStarted" ? context.progress(`${p.metric} on ${p.items} items`) : Effect.void
    }).pipe(Effect.provide(services.tokenizer), Effect.provide(services.worker(modules)))
    yield* fs.writeFileString(path.join(context.outputDir, StageFiles.scores), JSON.stringify(result.scores, null, 2) + "\n").pipe(
      Effect.mapError(fileSystemFailure()))
    const itemIds = predictions.items.map((item) => item.id)
    return {
      summary: Object.fromEntries(result.scores.flatMap((s) => Object.entries(s.aggregate).map(([k, v]) => [`${s.metric}.${k}`, v]))),
      itemScores: result.scores.map((s) => ({ metric: s.metric, itemIds, perItem: s.perItem }))
    }
  }).pipe(Effect.mapError(asStageFailure("evaluate")))
})

/** `stages.evaluate`: metric plugins over the generations. */
export const evaluateStage = defineStage({
  manifest: { id: "evaluate", kind: "stage", version: "1", description: "metric plugins over the generated responses" },
  sections: { evaluate: EvaluateStageSpec },
  kinds: [evaluateKind],
  plan: (context) => {
    const { run } = context
    const predictions = context.role("generate")
    if (predictions === undefined || run.metrics.length === 0) return
    context.add("evaluate", context.once(["evaluate", predictions, ...run.metrics], () =>
      context.node("evaluate", { metrics: run.metrics }, { predictions })))
  }
})
