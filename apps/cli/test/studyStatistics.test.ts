import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import { MetricRegistry, MetricRunner, readPredictions, welchTTest } from "@empo/metrics"
import { contractEnvironment } from "@empo/metrics/testing/metricContract"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { metricPlugins } from "../src/plugins.ts"

// empo-method §5.3/§5.4/§6.2: the study's Welch t-tests (model vs human) on |diff_max_*| and on NIDF (all rows),
// recomputed from the plugins' per-item scores with @empo/metrics' welchTTest.
const layer = MetricRunner.layer.pipe(Layer.provideMerge(MetricRegistry.layer(metricPlugins)), Layer.provideMerge(contractEnvironment), Layer.provideMerge(NodeContext.layer))
const requests = [
  { id: "vad", params: { vadLexicon: sharedData("lexicons", "NRC-VAD-Lexicon.txt"), intensityLexicon: sharedData("lexicons", "NRC-Emotion-Intensity.txt") } },
  { id: "specificity", params: { counts: sharedData("empathetic_dialogues", "ed_counts.json") } }
]
const score = (file: string, human: boolean) =>
  Effect.gen(function* () {
    const { items } = yield* readPredictions(sharedData("predictions", file), { human })
    const { scores } = yield* (yield* MetricRunner).run(items, requests)
    return Object.fromEntries(scores.flatMap((s) => Object.entries(s.perItem)))
  })
const abs = (xs: ReadonlyArray<number>) => xs.map(Math.abs)
describe("§6.2 Welch t vs human", () => {
  it.effect("baseline and DPO: |diff_max| v/a/d/intensity and NIDF", () =>
    Effect.gen(function* () {
      const human = yield* score("baseline_zephyr-7b-sft-full.txt", true)
      const systems = [
        { file: "baseline_zephyr-7b-sft-full.txt", vad: [-6.365, -6.704, -4.255, -5.671], nidf: 1.712 },
        { file: "dpo_zephyr-7b-sft-full124_d270.txt", vad: [-3.663, -1.851, -4.373, -1.263], nidf: -26.440 }
      ]
      for (const system of systems) {
        const model = yield* score(system.file, false)
        const ts = ["diff_max_v", "diff_max_a", "diff_max_d", "diff_max_intensity"].map((c) => welchTTest(abs(model[c]!), abs(human[c]!)).t.toFixed(3))
        assert.deepStrictEqual(ts, system.vad.map((t) => t.toFixed(3)), system.file)
        const nidf = welchTTest(model["nidf"]!, human["nidf"]!).t
        assert.strictEqual(nidf.toFixed(3), system.nidf.toFixed(3), system.file)
      }
    }).pipe(Effect.provide(layer)), 300_000)
})
