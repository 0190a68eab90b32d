import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { repoRoot, sharedDataDir } from "@empo/core/testing/sharedData"
import { DatasetManifest } from "@empo/grounding"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { plugin as epitome } from "@empo/metric-epitome"
import { plugin as bertscore } from "@empo/metric-bertscore"
import { dpoOptimizer } from "@empo/optimizer-dpo"
import { ktoOptimizer } from "@empo/optimizer-kto"
import { sftOptimizer } from "@empo/optimizer-sft"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Plugins } from "../src/Plugins.ts"
import { loadExperiment } from "../src/SpecLoader.ts"
import { datasetKind, StageFiles } from "../src/stages/index.ts"

const quickstart = path.join(repoRoot(), "experiments/quickstart.yaml")
const Env = Layer.merge(NodeContext.layer, Plugins.layer({ optimizers: [sftOptimizer, dpoOptimizer, ktoOptimizer], metrics: [vad, specificity, distinct, length, epitome, bertscore] }))
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

describe("dataset stages write a manifest that is true to their file", () => {
  it.scopedLive("every dataset stage of the quickstart: rows and sha256 of data.jsonl match its manifest", () =>
    Effect.gen(function* () {
      const plan = yield* loadExperiment(quickstart)
      const datasets = [...plan.stages.values()].filter((s) => s.kind === "dataset")
      assert.isAtLeast(datasets.length, 3) // SFT corpus, preference pairs, KTO examples
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
      for (const stage of datasets) {
        const inputs = yield* Schema.decodeUnknown(datasetKind.inputs)(stage.inputs)
        const outputDir = path.join(dir, stage.id)
        yield* datasetKind.execute({
          stage, inputs, outputDir, checkpointDir: `${outputDir}.checkpoints`, upstream: {},
          metric: () => Effect.void, progress: () => Effect.void
        })
        const file = path.join(outputDir, StageFiles.data)
        const manifest = Schema.decodeUnknownSync(Schema.parseJson(DatasetManifest))(fs.readFileSync(`${file}.manifest.json`, "utf8"))
        const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
        assert.strictEqual(manifest.rows, lines.length, `${stage.id}: rows`)
        assert.strictEqual(manifest.output.sha256, sha256(file), `${stage.id}: sha256`)
        if (inputs.limit !== undefined) assert.isAtMost(lines.length, inputs.limit, `${stage.id}: limit`)
      }
    }).pipe(
      Effect.provide(Env),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()]])))
    ), 60_000)
})
