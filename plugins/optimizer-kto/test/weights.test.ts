import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { Optimizer, resolveOptimizerParams, TrainJob } from "@empo/core/Optimizer"
import { TrainingBackend, type TrainRequest } from "@empo/core/Training"
import { Effect, Layer, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { countKtoLabels, ktoOptimizer, recommendedKtoWeights } from "../src/index.ts"

// KTO rows as `empo data build --kind kto` writes them: one desirable and three undesirable completions per prompt.
const ktoFile = (desirable: number, undesirable: number) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-kto-")), "kto.jsonl")
  const row = (label: boolean) => JSON.stringify({ prompt: [{ role: "user", content: "hi" }], completion: [{ role: "assistant", content: "hello" }], label })
  fs.writeFileSync(file, [...Array.from({ length: desirable }, () => row(true)), ...Array.from({ length: undesirable }, () => row(false))].join("\n") + "\n")
  return file
}

/** The requests the plugin hands the training backend (the weights TRL will get). */
const requestsFor = (overrides: Record<string, unknown>, trainData: string) =>
  Effect.gen(function*() {
    const requests: Array<TrainRequest> = []
    const recording = Layer.succeed(TrainingBackend, TrainingBackend.of({
      train: (request) => Stream.fromEffect(Effect.sync(() => void requests.push(request))).pipe(Stream.drain),
      generate: () => Stream.die("not used"),
      tinyModel: () => Effect.die("not used"),
      versions: Effect.die("not used")
    }))
    const params = yield* resolveOptimizerParams(ktoOptimizer, { preset: "study-7b", overrides }).pipe(Effect.provide(NodeContext.layer))
    yield* Effect.gen(function*() {
      const optimizer = yield* Optimizer
      yield* Stream.runDrain(optimizer.train(TrainJob.make({ model: "m", trainData, outputDir: "out" })))
    }).pipe(Effect.provide(ktoOptimizer.layer(params).pipe(Layer.provide(recording))))
    return requests.map((r) => [r.hyper.desirableWeight, r.hyper.undesirableWeight])
  })

describe("KTO desirable/undesirable weights (TRL: desirable·n_d / (undesirable·n_u) in [1, 4/3])", () => {
  it("recommendedKtoWeights balances 1:3 data with desirableWeight 3 and keeps in-range data at 1, 1", () => {
    assert.deepStrictEqual(recommendedKtoWeights({ desirable: 100, undesirable: 300 }), { desirableWeight: 3, undesirableWeight: 1 })
    assert.deepStrictEqual(recommendedKtoWeights({ desirable: 300, undesirable: 100 }), { desirableWeight: 1, undesirableWeight: 3 })
    assert.deepStrictEqual(recommendedKtoWeights({ desirable: 120, undesirable: 100 }), { desirableWeight: 1, undesirableWeight: 1 })
    assert.deepStrictEqual(recommendedKtoWeights({ desirable: 0, undesirable: 10 }), { desirableWeight: 1, undesirableWeight: 1 })
  })

  it.effect("countKtoLabels counts `label` true / false rows of a KTO JSONL file", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* countKtoLabels(ktoFile(2, 6)), { desirable: 2, undesirable: 6 })
    }))

  it.effect("1:3 data with no weights given trains with desirableWeight 3; given weights are passed as they are", () =>
    Effect.gen(function*() {
      const data = ktoFile(4, 12)
      assert.deepStrictEqual(yield* requestsFor({}, data), [[3, 1]])
      assert.deepStrictEqual(yield* requestsFor({ desirableWeight: 1.5 }, data), [[1.5, undefined]])
      assert.deepStrictEqual(yield* requestsFor({}, ktoFile(5, 5)), [[1, 1]])
    }))
})
