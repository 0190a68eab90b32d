import { defineOptimizer, defineTrlOptimizer, Optimizer, positiveParam, trlOptimizerLayer, trlParams } from "@empo/core/Optimizer"
import { TrainingBackend } from "@empo/core/Training"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fs from "node:fs/promises"

/**
 * KTO params: the common TRL fields, β and the desirable/undesirable weights; batches need ≥ 2 rows. Weights left
 * unset get TRL's recommended balance for the training data (see {@link recommendedKtoWeights}).
 */
export const KtoParams = trlParams({
  beta: positiveParam(0.1),
  desirableWeight: Schema.optional(Schema.Number.pipe(Schema.positive())),
  undesirableWeight: Schema.optional(Schema.Number.pipe(Schema.positive()))
}).pipe(
  Schema.filter((params) =>
    params.batchSize >= 2 || {
      path: ["batchSize"],
      message: "KTO needs batchSize ≥ 2: its KL term pairs each completion with another one from the same batch"
    }
  )
)
export type KtoParams = typeof KtoParams.Type

export interface KtoLabelCounts {
  readonly desirable: number
  readonly undesirable: number
}

/**
 * TRL's KTO guidance: keep `desirableWeight·nDesirable / (undesirableWeight·nUndesirable)` in [1, 4/3]. Data with
 * fewer desirable rows (the workbench's 1 chosen : k rejected) up-weights the desirable loss, data with many more
 * desirable rows down-weights it via the undesirable one; either way the ratio lands on 1. Balanced data keeps 1, 1.
 */
export const recommendedKtoWeights = (counts: KtoLabelCounts): { readonly desirableWeight: number; readonly undesirableWeight: number } => {
  const { desirable, undesirable } = counts
  if (desirable === 0 || undesirable === 0) return { desirableWeight: 1, undesirableWeight: 1 }
  const ratio = desirable / undesirable
  if (ratio < 1) return { desirableWeight: undesirable / desirable, undesirableWeight: 1 }
  if (ratio > 4 / 3) return { desirableWeight: 1, undesirableWeight: desirable / undesirable }
  return { desirableWeight: 1, undesirableWeight: 1 }
}

/** Counts `label: true` / `label: false` rows of a KTO JSONL file; rows it cannot read are left to the worker to report. */
export const countKtoLabels = (file: string): Effect.Effect<KtoLabelCounts> =>
  Effect.promise(() => fs.readFile(file, "utf8").catch(() => "")).pipe(
    Effect.map((text) => {
      let desirable = 0
      let undesirable = 0
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue
        try {
          const label = (JSON.parse(line) as { label?: unknown }).label
          if (label === true) desirable++
          else if (label === false) undesirable++
        } catch {
          // malformed rows: the worker refuses them with file and line
        }
      }
      return { desirable, undesirable }
    })
  )

const base = defineTrlOptimizer("kto", {
  description: "KTO (TRL KTOTrainer) on unpaired desirable/undesirable completions",
  params: KtoParams,
  presetsDir: new URL("../presets/", import.meta.url)
})

/**
 * Kahneman-Tversky optimization (TRL KTOTrainer) on unpaired `{prompt, completion, label}` rows. Preference
 * pairs are refused (file, line and the conversion to use are named), never silently split. When neither weight
 * is given, the training data's label counts choose them (TRL's recommended range).
 */
export const ktoOptimizer = defineOptimizer<KtoParams>({
  ...base,
  layer: (params: KtoParams): Layer.Layer<Optimizer, never, TrainingBackend> =>
    params.desirableWeight !== undefined || params.undesirableWeight !== undefined
      ? trlOptimizerLayer("kto", "kto", params)
      : Layer.effect(
        Optimizer,
        Effect.gen(function*() {
          const backend = yield* TrainingBackend
          const balanced = (weights: ReturnType<typeof recommendedKtoWeights>) =>
            Effect.provide(Optimizer, trlOptimizerLayer("kto", "kto", { ...params, ...weights })).pipe(
              Effect.provideService(TrainingBackend, backend))
          return Optimizer.of({
            id: "kto",
            stage: "kto",
            params,
            train: (job) =>
              Stream.unwrap(
                countKtoLabels(job.trainData).pipe(
                  Effect.flatMap((counts) => balanced(recommendedKtoWeights(counts))),
                  Effect.map((optimizer) => optimizer.train(job))
                )
              )
          })
        })
      )
})
