/**
 * `epitome`: diff-EPITOME (EmPO §5.1). Three EPITOME bi-encoder classifiers (Sharma et al. 2020; checkpoints in
 * the official `finetuned_{ER,IP,EX}.pth` layout, or trained by `empo epitome train`) give the level 0/1/2 of
 * the response and of the gold turn, each read against the user turn before it; `diff_M = (pred − gold)²`.
 * The model runs in the Python worker (`python/empo_worker/metrics/epitome.py`).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { defineMetric, type EvalItem, keysWith, Metric, MetricError, MetricScores } from "@empo/core"
import { defineWorkerMethod, WorkerClient } from "@empo/core/Worker"
import { finiteMean, hashModelFiles, modelReferenceResources, scoreInWorker, tinyPrefix, workerPath } from "@empo/metrics"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

export const mechanisms = ["ER", "IP", "EX"] as const
export type Mechanism = (typeof mechanisms)[number]

export const EpitomeParams = Schema.Struct({
  /**
   * A folder with `finetuned_ER.pth`, `finetuned_IP.pth` and `finetuned_EX.pth`; or `tiny:<seed>`, classifiers
   * with seeded random heads on `encoder` built on the fly (real forward passes, meaningless levels: CPU demos).
   */
  checkpoints: Schema.NonEmptyString,
  /**
   * The base RoBERTa whose config and tokenizer the checkpoints fit: a hub id (`roberta-base`), a local HF folder,
   * or `tiny:<corpus>` (a tiny RoBERTa the worker builds from that text file once and caches).
   */
  encoder: Schema.optionalWith(Schema.NonEmptyString, { default: () => "roberta-base" }),
  /** Truncation of each text in tokens, special tokens included (EmPO: 64). */
  maxLength: Schema.optionalWith(Schema.Int.pipe(Schema.between(4, 512)), { default: () => 64 }),
  batchSize: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 16 })
})
export type EpitomeParams = typeof EpitomeParams.Type

const id = "epitome"
const version = "1.0.0"

/** The checkpoint file of mechanism `m` in `folder`. */
export const checkpointFile = (path: Path.Path, folder: string, m: Mechanism) => path.join(folder, `finetuned_${m}.pth`)

/** The three checkpoint files of a folder, hashed; a missing folder or file is an input fault naming it. */
const checkpointFiles = (fs: FileSystem.FileSystem, path: Path.Path, folder: string) =>
  Effect.gen(function* () {
    const fail = (reason: string) => new MetricError({ metric: id, reason, inputFault: true })
    const isFolder = yield* fs.stat(folder).pipe(Effect.map((info) => info.type === "Directory"), Effect.orElseSucceed(() => false))
    if (!isFolder) return yield* fail(`checkpoint folder not found: ${folder}`)
    const files = mechanisms.map((m) => checkpointFile(path, folder, m))
    for (const file of files) {
      if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) {
        return yield* fail(`checkpoint folder ${folder} is missing ${path.basename(file)} (it needs finetuned_ER.pth, finetuned_IP.pth and finetuned_EX.pth)`)
      }
    }
    return yield* hashModelFiles(id, files, { label: "checkpoints" })
  }).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))

const levelKeys = Object.fromEntries(mechanisms.flatMap((m) => ["pred", "gt"].flatMap((kind) =>
  [0, 1, 2].map((level) => [`${kind}_${m}_n${level}`, `${kind === "pred" ? "" : "gold "}${m} level-${level} count`] as const))))

export const plugin = defineMetric({
  manifest: {
    id,
    kind: "metric",
    version,
    description: "diff-ER/IP/EX (EmPO §5.1): EPITOME bi-encoder classifiers (official checkpoints or `empo epitome train`) on the response vs the gold turn",
    keys: {
      ...keysWith("lower", { diff_ER: "diff-ER", diff_IP: "diff-IP", diff_EX: "diff-EX", diff_mean: "diff-EPITOME" }),
      ...keysWith("none", {
        pred_ER: "ER level", pred_IP: "IP level", pred_EX: "EX level", gt_ER: "ER level (gold)", gt_IP: "IP level (gold)", gt_EX: "EX level (gold)",
        ...levelKeys
      })
    },
    python: { name: "empo_worker.metrics", path: new URL("../../../python/", import.meta.url) },
    tokenizes: false
  },
  params: EpitomeParams,
  layer: (params: EpitomeParams) => Layer.effect(Metric, Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const fail = (reason: string) => new MetricError({ metric: id, reason, inputFault: true })
    const encoderResources = yield* modelReferenceResources(id, params.encoder, "encoder")
    const worker = yield* WorkerClient
    const checkpointResources = params.checkpoints.startsWith(tinyPrefix)
      ? yield* modelReferenceResources(id, params.checkpoints, "checkpoints")
      : yield* checkpointFiles(fs, path, params.checkpoints)
    const resources = [...checkpointResources, ...encoderResources]
    const workerParams = { ...params, checkpoints: yield* workerPath(params.checkpoints), encoder: yield* workerPath(params.encoder) }
    const score = Effect.fn("epitome.score")(function* (items: ReadonlyArray<EvalItem>) {
      // Checked here so that a file the metric cannot use never starts Python.
      if (items.length > 0 && items.every((item) => item.context === "")) {
        return yield* fail("needs the user turn before each response (column `prevs`, JSONL key `prev`); every item's is empty")
      }
      if (items.length > 0 && items.every((item) => item.target === undefined)) {
        return yield* fail("needs the gold listener turn of each item (column `gen_targets`, JSONL key `target`) to compare levels with")
      }
      const scored = yield* scoreInWorker(worker, id, workerParams, items).pipe(Effect.provideService(FileSystem.FileSystem, fs), Effect.provideService(Path.Path, path))
      const aggregate: Record<string, number> = {}
      for (const m of mechanisms) {
        for (const kind of ["diff", "pred", "gt"]) aggregate[`${kind}_${m}`] = finiteMean(scored.perItem[`${kind}_${m}`] ?? [])
        for (const kind of ["pred", "gt"]) {
          const levels = scored.perItem[`${kind}_${m}`] ?? []
          for (const level of [0, 1, 2]) aggregate[`${kind}_${m}_n${level}`] = levels.filter((x) => x === level).length
        }
      }
      aggregate["diff_mean"] = (aggregate["diff_ER"]! + aggregate["diff_IP"]! + aggregate["diff_EX"]!) / 3
      return new MetricScores({ metric: id, version, params, resources, perItem: scored.perItem, aggregate, meta: scored.meta })
    })
    return Metric.of({ id, version, params, resources, score })
  }))
})

const Split = Schema.Struct({ accuracy: Schema.Number, macroF1: Schema.Number, n: Schema.Int })

/** One mechanism's training record: test/val accuracy and macro-F1 against the majority-class baseline. */
export const MechanismRecord = Schema.Struct({
  train: Schema.Struct({ n: Schema.Int, levelCounts: Schema.Array(Schema.Int) }),
  val: Split,
  test: Split,
  majority: Schema.Struct({ level: Schema.Int, accuracy: Schema.Number, macroF1: Schema.Number }),
  epochs: Schema.Array(Schema.Struct({ epoch: Schema.Int, loss: Schema.Number })),
  checkpoint: Schema.String
})

/** `epitomeTrain`: the three (or the chosen) classifiers trained on EPITOME data, checkpoints in the official layout. */
export const EpitomeTrainMethod = defineWorkerMethod({
  name: "epitomeTrain",
  request: Schema.Struct({
    data: Schema.String,
    encoder: Schema.String,
    outputDir: Schema.String,
    mechanisms: Schema.Array(Schema.Literal(...mechanisms)),
    epochs: Schema.Int,
    lr: Schema.Number,
    batchSize: Schema.Int,
    maxLength: Schema.Int,
    seed: Schema.Int,
    limit: Schema.optional(Schema.Int)
  }),
  response: Schema.Struct({
    outputDir: Schema.String,
    device: Schema.String,
    mechanisms: Schema.Record({ key: Schema.String, value: MechanismRecord })
  }),
  event: Schema.Struct({ mechanism: Schema.String, epoch: Schema.Int, epochs: Schema.Int, loss: Schema.Number })
})

/** `tinyEncoder`: a tiny RoBERTa folder (random seeded weights, byte-level BPE trained on a corpus) for CPU runs. */
export const TinyEncoderMethod = defineWorkerMethod({
  name: "tinyEncoder",
  request: Schema.Struct({
    corpus: Schema.String, outputDir: Schema.String, hidden: Schema.Int, layers: Schema.Int, heads: Schema.Int, vocab: Schema.Int, seed: Schema.Int
  }),
  response: Schema.Struct({ outputDir: Schema.String, parameters: Schema.Int, vocabSize: Schema.Int, texts: Schema.Int })
})
