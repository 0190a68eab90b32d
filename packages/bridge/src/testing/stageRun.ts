/** Test-only helpers shared by the optimizer plugins' end-to-end tests (real worker, real TRL, tiny model). */
import { sharedData } from "@empo/core/testing/sharedData"
import { Optimizer, type OptimizerPlugin, resolveOptimizerParams, TrainJob } from "@empo/core/Optimizer"
import { TinyModelRequest, TrainEvent, TrainHyperParameters, TrainingBackend, TrainRequest } from "@empo/core/Training"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { writeTrainingSets } from "./trainingSets.ts"

/** A temp dir with a tiny model, an SFT'd copy of it (`sft`), and the training sets. */
export const prepareSftModel = (sftSteps = 16) =>
  Effect.gen(function*() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-stage-"))
    const sets = writeTrainingSets(sharedData("empathetic_dialogues", "val.csv"), dir)
    const backend = yield* TrainingBackend
    yield* backend.tinyModel(new TinyModelRequest({ corpus: sharedData("empathetic_dialogues", "val.csv"), outputDir: path.join(dir, "tiny"), vocab: 1000, hidden: 64 }))
    yield* Stream.runDrain(backend.train(new TrainRequest({
      stage: "sft",
      model: path.join(dir, "tiny"),
      trainData: sets.sft,
      outputDir: path.join(dir, "sft"),
      hyper: new TrainHyperParameters({ learningRate: 1e-3, batchSize: 8, maxSteps: sftSteps, maxLength: 128 })
    })))
    return { dir, sets, sft: path.join(dir, "sft") }
  })

/** Runs a plugin (preset + overrides) on a job and collects its events. */
export const runPlugin = <P>(plugin: OptimizerPlugin<P>, preset: string, overrides: Record<string, unknown>, job: TrainJob) =>
  Effect.gen(function*() {
    const params = yield* resolveOptimizerParams(plugin, { preset, overrides }).pipe(Effect.provide(NodeContext.layer))
    const events = yield* Effect.gen(function*() {
      const optimizer = yield* Optimizer
      return yield* Stream.runCollect(optimizer.train(job))
    }).pipe(Effect.provide(plugin.layer(params)))
    return Chunk.toReadonlyArray(events)
  })

/** Mean of the first and last `k` logged losses. */
export const lossTrend = (events: ReadonlyArray<TrainEvent>, k = 5) => {
  const losses = events.flatMap((e) => (e._tag === "log" && e.loss !== undefined ? [e.loss] : []))
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
  return { first: mean(losses.slice(0, k)), last: mean(losses.slice(-k)), count: losses.length }
}

/** Every event re-checked against the Schema, in protocol order: started, …, finished. */
export const assertWellFormed = (events: ReadonlyArray<TrainEvent>): boolean =>
  events.every((e) => Schema.is(TrainEvent)(e)) && events[0]?._tag === "started" && events[events.length - 1]?._tag === "finished"

export { TrainJob }
