import * as Path from "@effect/platform/Path"
import { Optimizer, TrainJob } from "@empo/core/Optimizer"
import type { TrainingError } from "@empo/core/Training"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { TrainStageSpec } from "../ExperimentSpec.ts"
import type { ResolvedTrainStage } from "../Plan.ts"
import { Plugins, trainingRoles } from "../Plugins.ts"
import { defineStage, defineStageKind, modelDeps, modelInputs, modelKey } from "../Stage.ts"
import { StageFailure } from "../StageExecutors.ts"
import { planDataset } from "./dataset.ts"
import { failWith, modelPath, StageFiles, withTrainingBackend } from "./shared.ts"

/** A training node's inputs: the resolved optimizer stage (plugin params re-encoded) and the seed, as hashed. */
export const TrainInputs = Schema.Struct({
  /** The starting model when it is a reference; an upstream model stage is a dependency instead. */
  model: Schema.optional(Schema.String),
  optimizer: Schema.String,
  preset: Schema.NullOr(Schema.String),
  trainStage: Schema.String,
  dataFormat: Schema.Literal("sft", "preference", "kto"),
  params: Schema.Unknown,
  seed: Schema.Int
})

/** Trains the model with an optimizer plugin (TRL in the worker), resuming from the stage's own checkpoints. */
export const trainKind = defineStageKind({
  kind: "train",
  artifactKind: "model",
  pool: "compute",
  inputs: TrainInputs,
  execute: (context) => Effect.gen(function* () {
    const path = yield* Path.Path
    const plugins = yield* Plugins
    const i = context.inputs
    const plugin = plugins.optimizers.find((p) => p.manifest.id === i.optimizer)
    if (plugin === undefined) return yield* new StageFailure({ reason: `optimizer plugin ${i.optimizer} is not installed` })
    const params = yield* Schema.decodeUnknown(plugin.params)(i.params).pipe(
      Effect.mapError((e) => new StageFailure({ reason: `params of ${i.optimizer}: ${e.message}` })))
    const optimizer = yield* Effect.provide(Optimizer, plugin.layer(params))
    const job = TrainJob.make({
      model: modelPath(context.upstream, i), trainData: path.join(context.upstream["data"]!, StageFiles.data),
      outputDir: context.outputDir, checkpointDir: context.checkpointDir, seed: i.seed
    })
    let summary: Record<string, number> = {}
    yield* optimizer.train(job).pipe(
      Stream.runForEach((event) => {
        switch (event._tag) {
          case "started":
            return context.progress(`${event.stage} on ${event.device}: ${event.trainRows} rows, ${event.totalSteps} steps` +
              (event.resumedFromStep === undefined ? "" : `, resumed from step ${event.resumedFromStep}`))
          case "log":
            return Effect.forEach(Object.entries(event.metrics), ([key, value]) => context.metric(key, event.step, value), { discard: true }).pipe(
              Effect.zipRight(context.progress(`step ${event.step}${event.loss === undefined ? "" : ` loss ${event.loss.toFixed(4)}`}`)))
          case "eval":
            return Effect.forEach(Object.entries(event.metrics), ([key, value]) => context.metric(key, event.step, value), { discard: true })
          case "checkpoint":
            return Effect.void
          case "finished":
            return Effect.sync(() => {
              summary = { ...event.metrics }
            })
        }
      }),
      Effect.mapError((e) => failWith(i.optimizer)({ message: e.message, traceback: (e as TrainingError).traceback }))
    )
    return { summary }
  }).pipe(withTrainingBackend)
})

/**
 * Training stages: `stages.sft` then `stages.preference`, each an optimizer plugin with a preset and params (resolved
 * by the loader), each starting from the model before it and reading the dataset of its plugin's row format.
 */
export const trainStage = defineStage({
  manifest: { id: "train", kind: "stage", version: "1", description: "SFT and preference training (optimizer plugins driving TRL)" },
  sections: { sft: TrainStageSpec, preference: TrainStageSpec },
  kinds: [trainKind],
  plan: (context) => {
    const { run } = context
    for (const role of trainingRoles) {
      const resolved = run[role]
      if (resolved === undefined) continue
      const data = planDataset(context, resolved.dataFormat as "sft" | "preference" | "kto")
      const from = context.model
      const stage = context.once(["train", ...modelKey(from), resolved, run.config.seed, data], () =>
        context.node("train", { ...modelInputs(from), ...(resolved satisfies ResolvedTrainStage), seed: run.config.seed }, { ...modelDeps(from), data }))
      context.model = { stage: context.add(role, stage) }
      context.models.push({ role, source: context.model })
    }
  }
})
