import * as FileSystem from "@effect/platform/FileSystem"
import { metricKeyOf } from "@empo/experiments/Plugins"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { type NewRun, type RunId, RunStore, type StageId } from "@empo/store"
import * as Effect from "effect/Effect"
import type { MetricKeyOf } from "../src/Headline.ts"

/** Directions and labels from the real plugin manifests, as `empo report` gets them from the catalogue. */
export const keyOf: MetricKeyOf = (key) => metricKeyOf(key, [vad, specificity, distinct, length])

// Emotions of Empathetic Dialogues (labels as the items stage writes them).
const emotions = ["afraid", "grateful", "sad", "proud"]
const itemIds = Array.from({ length: 24 }, (_, i) => `hit:${1000 + i}_conv:${2000 + 2 * i}`)

/** A deterministic pseudo-random value in [0, 1) (so the fixture needs no RNG state). */
const noise = (a: number, b: number) => {
  const x = Math.sin(a * 12.9898 + b * 78.233) * 43758.5453
  return x - Math.floor(x)
}

export const configurations = [
  { optimizer: "dpo", beta: 0.1, seeds: [0, 1], quality: 0 },
  { optimizer: "dpo", beta: 0.5, seeds: [0, 1], quality: 0.06 },
  { optimizer: "kto", beta: 0.1, seeds: [0], quality: 0.03 }
] as const

/**
 * An experiment `sweep` as the runner would leave it: a shared dataset/model/SFT/items, then per run a preference
 * stage (DPO or KTO, TRL's logged keys), generations and an evaluation with summary and per-item scores; the
 * generation items file (with emotions) is written under `dir`.
 */
export const seedSweep = (dir: string) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const fs = yield* FileSystem.FileSystem
    yield* store.upsertExperiment({
      name: "sweep", description: "DPO at two β and KTO, two seeds", specFile: "experiments/sweep.yaml",
      spec: { name: "sweep", seeds: [0, 1], sweep: { grid: { "stages.preference.params.beta": [0.1, 0.5] } } }
    })
    const shared = [["dataset-sft", "dataset", "dataset-aaaa"], ["model", "tiny-model", "tiny-model-bbbb"], ["sft", "train", "train-cccc"], ["items", "items", "items-dddd"]] as const
    for (const [, kind, id] of shared) yield* store.registerStage({ id: id as StageId, kind, inputs: {}, outputDir: `${dir}/${id}` })
    const itemsPath = `${dir}/items.jsonl`
    yield* fs.writeFileString(itemsPath, itemIds.map((id, i) => JSON.stringify({ id, prompt: [], target: "t", prev: "p", emotion: emotions[i % emotions.length] })).join("\n") + "\n")
    yield* store.recordArtifact({ stageId: "items-dddd" as StageId, name: "items.jsonl", kind: "items", path: itemsPath, sha256: "d".repeat(64), size: 1000 })
    const data = yield* store.recordArtifact({ stageId: "dataset-aaaa" as StageId, name: "data.jsonl", kind: "dataset", path: `${dir}/data.jsonl`, sha256: "a".repeat(64), size: 2000 })
    yield* store.recordLineage("train-cccc" as StageId, [data.id])
    yield* store.appendMetricPoints(Array.from({ length: 20 }, (_, step) => ({
      stageId: "train-cccc" as StageId, key: "loss", step: step + 1, value: 7 - step * 0.08 + noise(step, 1) * 0.1, time: step
    })))
    yield* store.setSummaryMetrics("train-cccc" as StageId, { loss: 5.5 })
    let position = 0
    for (const [c, config] of configurations.entries()) {
      for (const seed of config.seeds) {
        const tag = `${c}${seed}`
        const runId = `run${tag}` as RunId
        const stages = { preference: `train-p${tag}`, generate: `generate-g${tag}`, evaluate: `evaluate-e${tag}` }
        yield* store.registerStage({ id: stages.preference as StageId, kind: "train", inputs: {}, outputDir: `${dir}/p${tag}` })
        yield* store.registerStage({ id: stages.generate as StageId, kind: "generate", inputs: {}, outputDir: `${dir}/g${tag}` })
        yield* store.registerStage({ id: stages.evaluate as StageId, kind: "evaluate", inputs: {}, outputDir: `${dir}/e${tag}` })
        const run: NewRun = {
          id: runId, experiment: "sweep", label: `${config.optimizer} tiny-cpu beta=${config.beta} seed=${seed}`, seed, position: position++, config: {},
          params: { seed, "stages.preference.optimizer": config.optimizer, "stages.preference.params.beta": config.beta, "model.kind": "tiny" },
          stages: [
            { stageId: "dataset-aaaa" as StageId, name: "dataset-sft" }, { stageId: "tiny-model-bbbb" as StageId, name: "model" },
            { stageId: "train-cccc" as StageId, name: "sft" }, { stageId: stages.preference as StageId, name: "preference" },
            { stageId: "items-dddd" as StageId, name: "items" }, { stageId: stages.generate as StageId, name: "generate" },
            { stageId: stages.evaluate as StageId, name: "evaluate" }
          ]
        }
        yield* store.registerRun(run)
        const keys = config.optimizer === "kto"
          ? ["loss", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins"]
          : ["loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"]
        yield* store.appendMetricPoints(keys.flatMap((key, k) => Array.from({ length: 10 }, (_, step) => ({
          stageId: stages.preference as StageId, key, step: step + 1, value: (key === "loss" ? 0.69 : 0) - step * 0.01 * (k + 1) + noise(step + seed, c + k) * 0.05, time: step
        }))))
        yield* store.recordArtifact({ stageId: stages.generate as StageId, name: "predictions.jsonl", kind: "predictions", path: `${dir}/g${tag}/predictions.jsonl`, sha256: `${tag}`.padEnd(64, "f"), size: 500 })
        // Per item: a signed VAD valence difference and NIDF; the configurations differ by `quality`.
        const diff = itemIds.map((_, i) => (noise(i, 7) - 0.5) * 0.4 + (i % 2 === 0 ? 1 : -1) * (0.2 - config.quality) + noise(i, seed) * 0.02)
        const nidf = itemIds.map((_, i) => 0.2 + noise(i, 3) * 0.1 + config.quality + noise(i, seed + 9) * 0.02)
        yield* store.recordItemScores(stages.evaluate as StageId, [
          { metric: "vad", itemIds, perItem: { diff_mean_v: diff } },
          { metric: "specificity", itemIds, perItem: { nidf } }
        ])
        const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
        yield* store.setSummaryMetrics(stages.evaluate as StageId, {
          "vad.diff_mean_v_abs_mean": mean(diff.map(Math.abs)), "vad.diff_mean_v_signed_mean": mean(diff), "vad.diff_mean_v_abs_sd": 0.1,
          "specificity.nidf_mean": mean(nidf), "distinct.distinct_1": 0.4 + config.quality + seed * 0.01, "length.tokens_mean": 12 + seed
        })
        yield* store.setRunStatus(runId, "completed")
      }
    }
  })
