/**
 * `bertscore`: BERTScore P/R/F1 of the response against the gold turn, exactly as `bert_score` 0.3.13 computes
 * it (EmPO §5.2: `roberta-large`, layer 17, no idf, no rescaling). The model runs in the Python worker
 * (`python/empo_worker/metrics/bertscore.py`); the result's `meta.hash` is bert_score's hash string, so numbers
 * made with other settings are never compared silently.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { defineMetric, type EvalItem, keysWith, Metric, MetricError, MetricScores } from "@empo/core"
import { WorkerClient } from "@empo/core/Worker"
import { finiteMean, hashModelFiles, modelReferenceResources, scoreInWorker, workerPath } from "@empo/metrics"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

export const BertScoreParams = Schema.Struct({
  /** A hub id (bert_score's English default `roberta-large`), a local Hugging Face folder, or `tiny:<corpus>`. */
  model: Schema.optionalWith(Schema.NonEmptyString, { default: () => "roberta-large" }),
  /** `hidden_states[layer]` (0 = embeddings); absent: bert_score's per-model default (17 for roberta-large). */
  layer: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Weigh tokens by idf computed from the references being scored. */
  idf: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Rescale with `baseline`: `(x − b) / (1 − b)` for each of P, R, F. */
  rescale: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** A bert_score baseline CSV (`LAYER,P,R,F`, one row per layer). */
  baseline: Schema.optional(Schema.NonEmptyString),
  batchSize: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 64 })
}).pipe(Schema.filter((p) => !p.rescale || p.baseline !== undefined || "rescale needs `baseline` (a bert_score baseline CSV for the model)"))
export type BertScoreParams = typeof BertScoreParams.Type

const id = "bertscore"
const version = "1.0.0"

export const plugin = defineMetric({
  manifest: {
    id,
    kind: "metric",
    version,
    description: "BERTScore P/R/F1 of the response vs the gold turn, as bert_score 0.3.13 (EmPO §5.2: roberta-large L17, no idf)",
    keys: keysWith("higher", { p: "BERTScore P", r: "BERTScore R", f1: "FBERT" }),
    python: { name: "empo_worker.metrics", path: new URL("../../../python/", import.meta.url) },
    files: [{ param: "baseline" }],
    tokenizes: false
  },
  params: BertScoreParams,
  layer: (params: BertScoreParams) => Layer.effect(Metric, Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const baseline = params.baseline === undefined ? [] : yield* hashModelFiles(id, [params.baseline], { label: "baseline" })
    const resources = [...(yield* modelReferenceResources(id, params.model, "model")), ...baseline]
    const worker = yield* WorkerClient
    const workerParams = {
      ...params,
      model: yield* workerPath(params.model),
      ...(params.baseline === undefined ? {} : { baseline: yield* workerPath(params.baseline) })
    }
    const score = Effect.fn("bertscore.score")(function* (items: ReadonlyArray<EvalItem>) {
      if (items.length > 0 && items.every((item) => item.target === undefined)) {
        return yield* new MetricError({ metric: id, inputFault: true, reason: "needs the gold listener turn of each item as its reference (column `gen_targets`, JSONL key `target`)" })
      }
      const scored = yield* scoreInWorker(worker, id, workerParams, items).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))
      const aggregate = { p: finiteMean(scored.perItem["p"] ?? []), r: finiteMean(scored.perItem["r"] ?? []), f1: finiteMean(scored.perItem["f1"] ?? []) }
      return new MetricScores({ metric: id, version, params, resources, perItem: scored.perItem, aggregate, meta: scored.meta })
    })
    return Metric.of({ id, version, params, resources, score })
  }))
})
