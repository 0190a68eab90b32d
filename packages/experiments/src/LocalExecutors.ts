import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { Tokenizer } from "@empo/core/Tokenizer"
import { Optimizer, TrainJob } from "@empo/core/Optimizer"
import { DecodingParameters, GenerateRequest, TinyModelRequest, TrainingBackend, type TrainingError } from "@empo/core/Training"
import { ItemsOptions, writeGenerationItems } from "@empo/data"
import { BuildOptions, buildDataset } from "@empo/grounding"
import { MetricRunner, readPredictions } from "@empo/metrics"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { ResolvedMetric, ResolvedTrainStage } from "./Plan.ts"
import { Plugins } from "./Plugins.ts"
import { fileSystemFailure, type StageContext, type StageExecutor, StageExecutors, StageFailure, type StageResult } from "./StageExecutors.ts"

/** File names inside a stage's output folder. */
export const StageFiles = { data: "data.jsonl", items: "items.jsonl", predictions: "predictions.jsonl", scores: "scores.json" } as const

const datasetKind = { preference: "dpo", kto: "kto", sft: "sft" } as const

// The bridge puts a dead worker's last stderr lines into the message; the store keeps them as the stage's tail.
const failWith = (what: string) => (error: { readonly message: string; readonly traceback?: string | undefined }) => {
  const marker = error.message.indexOf("last stderr:")
  const tail = error.traceback ?? (marker < 0 ? undefined : error.message.slice(marker + "last stderr:".length).trim())
  return new StageFailure({ reason: `${what}: ${marker < 0 ? error.message : error.message.slice(0, marker).replace(/[;\s]+$/, "")}`, ...(tail === undefined ? {} : { stderrTail: tail }) })
}

type Environment = MetricRunner | Plugins | FileSystem.FileSystem | Path.Path
type LocalExecutor<R = Environment> = (context: StageContext) => Effect.Effect<StageResult, StageFailure, R>

const modelOf = (context: StageContext): string =>
  context.inputs["model"] ?? String(context.stage.inputs["model"])

/**
 * The real executors: the data layer builds datasets and items, the Python worker (through
 * `TrainingBackend` and the optimizer plugins) builds, trains and generates, and the metrics runner scores.
 */
export const LocalExecutors = (
  /** Built once per stage, so each stage gets its own worker process and a crash stays inside its stage. */
  backendLayer: Layer.Layer<TrainingBackend, TrainingError>,
  /** Built only when an evaluate stage runs, so training and generation never wait on tokenizer data. */
  tokenizerLayer: Layer.Layer<Tokenizer, { readonly message: string }, FileSystem.FileSystem | Path.Path>
): Layer.Layer<StageExecutors, never, Environment> => Layer.effect(StageExecutors, Effect.gen(function* () {
  const services = yield* Effect.context<Environment>()
  const plugins = yield* Plugins
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path

  const ensureDir = (dir: string) => fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(fileSystemFailure()))

  const dataset: LocalExecutor = (context) => Effect.gen(function* () {
    yield* ensureDir(context.outputDir)
    const i = context.stage.inputs as Record<string, any>
    const out = path.join(context.outputDir, StageFiles.data)
    const manifest = yield* buildDataset(BuildOptions.make({
      source: i.source, format: i.format, split: i.split, kind: datasetKind[i.kind as keyof typeof datasetKind],
      ...(i.kind === "sft" ? {} : { grounder: i.grounder }),
      ...(i.grounderMap === undefined ? {} : { grounderMap: i.grounderMap }),
      ...(i.lexicon === undefined ? {} : { lexicon: i.lexicon }),
      ...(i.systemPrompt === undefined ? {} : { systemPrompt: i.systemPrompt }),
      negatives: i.negatives, mode: i.mode, seed: i.seed, out
    })).pipe(Effect.mapError(failWith("dataset")))
    if (typeof i.limit === "number") {
      const text = yield* fs.readFileString(out).pipe(Effect.mapError(fileSystemFailure()))
      const rows = text.split("\n").filter((line) => line !== "")
      yield* fs.writeFileString(out, rows.slice(0, i.limit).join("\n") + "\n").pipe(Effect.mapError(fileSystemFailure()))
    }
    yield* context.progress(`${manifest.rows} ${manifest.kind} rows${typeof i.limit === "number" ? `, first ${Math.min(i.limit, manifest.rows)} kept` : ""}`)
    return { summary: { "dataset.rows": Math.min(manifest.rows, typeof i.limit === "number" ? i.limit : Infinity) } }
  })

  const tinyModel: LocalExecutor<Environment | TrainingBackend> = (context) => Effect.gen(function* () {
    const backend = yield* TrainingBackend
    const i = context.stage.inputs as Record<string, number>
    const info = yield* backend.tinyModel(TinyModelRequest.make({
      corpus: path.join(context.inputs["corpus"]!, StageFiles.data), outputDir: context.outputDir,
      layers: i["layers"]!, hidden: i["hidden"]!, heads: i["heads"]!, vocab: i["vocab"]!, maxPositions: i["maxPositions"]!, seed: i["seed"]!
    })).pipe(Effect.mapError(failWith("tiny model")))
    yield* context.progress(`${info.parameters} parameters, vocabulary ${info.vocabSize}`)
    return { summary: { "model.parameters": info.parameters } }
  })

  const train: LocalExecutor<Environment | TrainingBackend> = (context) => Effect.gen(function* () {
    const resolved = context.stage.inputs as unknown as ResolvedTrainStage & { readonly seed: number }
    const plugin = plugins.optimizers.find((p) => p.manifest.id === resolved.optimizer)
    if (plugin === undefined) return yield* new StageFailure({ reason: `optimizer plugin ${resolved.optimizer} is not installed` })
    const params = yield* Schema.decodeUnknown(plugin.params)(resolved.params).pipe(Effect.mapError((e) => new StageFailure({ reason: `params of ${resolved.optimizer}: ${e.message}` })))
    const optimizer = yield* Effect.provide(Optimizer, plugin.layer(params))
    const job = TrainJob.make({ model: modelOf(context), trainData: path.join(context.inputs["data"]!, StageFiles.data), outputDir: context.outputDir, seed: resolved.seed })
    let summary: Record<string, number> = {}
    yield* optimizer.train(job).pipe(
      Stream.runForEach((event) => {
        switch (event._tag) {
          case "started":
            return context.progress(`${event.stage} on ${event.device}: ${event.trainRows} rows, ${event.totalSteps} steps`)
          case "log":
            return Effect.forEach(Object.entries(event.metrics), ([key, value]) => context.metric(key, event.step, value), { discard: true }).pipe(
              Effect.zipRight(context.progress(`step ${event.step}${event.loss === undefined ? "" : ` loss ${event.loss.toFixed(4)}`}`)))
          case "eval":
            return Effect.forEach(Object.entries(event.metrics), ([key, value]) => context.metric(key, event.step, value), { discard: true })
          case "checkpoint":
            return Effect.void
          case "finished":
            return Effect.sync(() => {
              summary = Object.fromEntries(Object.entries(event.metrics).map(([k, v]) => [`train.${k}`, v]))
            })
        }
      }),
      Effect.mapError((e) => failWith(resolved.optimizer)({ message: e.message, traceback: (e as TrainingError).traceback }))
    )
    return { summary }
  })

  const items: LocalExecutor = (context) => Effect.gen(function* () {
    yield* ensureDir(context.outputDir)
    const i = context.stage.inputs as Record<string, any>
    const manifest = yield* writeGenerationItems(ItemsOptions.make({
      source: i.source, format: i.format, split: i.split, out: path.join(context.outputDir, StageFiles.items),
      ...(i.limit === null ? {} : { limit: i.limit }),
      ...(i.systemPrompt === null ? {} : { systemPrompt: i.systemPrompt })
    })).pipe(Effect.mapError(failWith("generation items")))
    return { summary: { "items.count": manifest.items } }
  })

  const generate: LocalExecutor<Environment | TrainingBackend> = (context) => Effect.gen(function* () {
    yield* ensureDir(context.outputDir)
    const backend = yield* TrainingBackend
    const i = context.stage.inputs as Record<string, any>
    const decoding = yield* Schema.decodeUnknown(DecodingParameters)(i.decoding).pipe(Effect.mapError((e) => new StageFailure({ reason: `decoding: ${e.message}` })))
    let seconds = 0
    yield* backend.generate(GenerateRequest.make({
      model: modelOf(context), items: path.join(context.inputs["items"]!, StageFiles.items),
      output: path.join(context.outputDir, StageFiles.predictions), batchSize: i.batchSize, decoding, seed: i.seed
    })).pipe(
      Stream.runForEach((event) =>
        event._tag === "progress" ? context.progress(`${event.done}/${event.total} generated`)
        : event._tag === "finished" ? Effect.sync(() => { seconds = event.seconds })
        : Effect.void),
      Effect.mapError(failWith("generate"))
    )
    return { summary: { "generate.seconds": seconds } }
  })

  const evaluate: StageExecutor = (context) => Effect.gen(function* () {
    const metrics = (context.stage.inputs as { readonly metrics: ReadonlyArray<ResolvedMetric> }).metrics
    const runner = yield* MetricRunner
    yield* ensureDir(context.outputDir)
    const predictions = yield* readPredictions(path.join(context.inputs["predictions"]!, StageFiles.predictions), { format: "jsonl" })
    const result = yield* runner.run(predictions.items, metrics.map((m) => ({ id: m.id, params: m.params })), {
      onProgress: (p) => p._tag === "MetricStarted" ? context.progress(`${p.metric} on ${p.items} items`) : Effect.void
    })
    yield* fs.writeFileString(path.join(context.outputDir, StageFiles.scores), JSON.stringify(result.scores, null, 2) + "\n").pipe(
      Effect.mapError(fileSystemFailure()))
    return { summary: Object.fromEntries(result.scores.flatMap((s) => Object.entries(s.aggregate).map(([k, v]) => [`${s.metric}.${k}`, v]))) }
  }).pipe(Effect.provide(tokenizerLayer), Effect.mapError((e) => e instanceof StageFailure ? e : failWith("evaluate")(e)), Effect.provide(services))

  const withWorker = (executor: LocalExecutor<Environment | TrainingBackend>): LocalExecutor => (context) =>
    executor(context).pipe(Effect.provide(backendLayer), Effect.mapError((e) => e instanceof StageFailure ? e : failWith("python worker")(e)))
  const provided = (executor: LocalExecutor): StageExecutor => (context) => executor(context).pipe(Effect.provide(services))
  return StageExecutors.of({
    dataset: provided(dataset), "tiny-model": provided(withWorker(tinyModel)), train: provided(withWorker(train)),
    items: provided(items), generate: provided(withWorker(generate)), evaluate
  })
}))
