/**
 * The neural metrics' throughput through the real worker, batched vs one item at a time, measured in one run:
 *   npx tsx tools/bench/neural/bench.ts [--limit 2540] [--batch 64] [--encoder <dir|hub id>] [--checkpoints <dir>]
 * Scores the study's 2,540 baseline responses (../shared/data/predictions) with `epitome` (three bi-encoder
 * classifiers × response and gold turn) and `bertscore`. Default: a tiny RoBERTa built here (hidden 32, 2 layers)
 * with seeded random EPITOME heads, on CPU; on a CUDA host pass `--encoder roberta-large` (bertscore) and real
 * checkpoints. The one-at-a-time run is the original scorer's batch size 1, the baseline the ratio is against.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { WorkerClientLive } from "@empo/bridge"
import { sharedData } from "@empo/core/testing/sharedData"
import { callMethod, WorkerClient } from "@empo/core/Worker"
import { TinyEncoderMethod } from "@empo/metric-epitome"
import { readPredictions, scoreInWorker } from "@empo/metrics"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    limit: { type: "string", default: "2540" },
    batch: { type: "string", default: "64" },
    encoder: { type: "string" },
    bertModel: { type: "string" },
    layer: { type: "string" },
    checkpoints: { type: "string" }
  }
})

const program = Effect.gen(function*() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-bench-neural-"))
  const loaded = yield* readPredictions(sharedData("predictions", "baseline_zephyr-7b-sft-full.txt"))
  const items = loaded.items.slice(0, Number(values.limit))
  const worker = yield* WorkerClient
  let encoder = values.encoder
  if (encoder === undefined) {
    encoder = path.join(dir, "encoder")
    yield* callMethod(TinyEncoderMethod, { corpus: sharedData("epitome", "train.csv"), outputDir: encoder, hidden: 32, layers: 2, heads: 2, vocab: 2000, seed: 42 })
  }
  const bertModel = values.bertModel ?? encoder
  const layer = values.layer === undefined ? (values.bertModel === undefined && values.encoder === undefined ? 2 : undefined) : Number(values.layer)
  const checkpoints = values.checkpoints ?? "tiny:0"
  const batch = Number(values.batch)
  const runs = [
    { metric: "epitome", params: (batchSize: number) => ({ checkpoints, encoder, maxLength: 64, batchSize }) },
    { metric: "bertscore", params: (batchSize: number) => ({ model: bertModel, idf: false, rescale: false, batchSize, ...(layer === undefined ? {} : { layer }) }) }
  ]
  // Warm-up: builds the seeded checkpoints and loads torch/transformers once, outside the timed windows.
  for (const run of runs) yield* scoreInWorker(worker, run.metric, run.params(batch), items.slice(0, 4))
  console.log(`${items.length} baseline responses, encoder ${encoder}${values.encoder === undefined ? " (tiny, hidden 32, 2 layers)" : ""}`)
  for (const run of runs) {
    const timed = (batchSize: number) =>
      Effect.gen(function*() {
        const started = performance.now()
        const scored = yield* scoreInWorker(worker, run.metric, run.params(batchSize), items)
        return { seconds: (performance.now() - started) / 1000, scored }
      })
    const batched = yield* timed(batch)
    const single = yield* timed(1)
    const same = Object.keys(batched.scored.perItem).every((key) => {
      const a = batched.scored.perItem[key]!, b = single.scored.perItem[key]!
      return a.every((x, i) => (Number.isNaN(x) && Number.isNaN(b[i]!)) || Math.abs(x - b[i]!) <= 1e-6)
    })
    console.log(`  ${run.metric.padEnd(9)} batch ${String(batch).padStart(3)}: ${(items.length / batched.seconds).toFixed(1).padStart(8)} items/s (${batched.seconds.toFixed(2)} s)`)
    console.log(`  ${run.metric.padEnd(9)} batch   1: ${(items.length / single.seconds).toFixed(1).padStart(8)} items/s (${single.seconds.toFixed(2)} s)`)
    console.log(`  ${run.metric.padEnd(9)} speed-up ×${(single.seconds / batched.seconds).toFixed(2)}; batched = one-at-a-time (±1e-6): ${same}${batched.scored.meta["device"] === undefined ? "" : `; device ${batched.scored.meta["device"]}`}`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(WorkerClientLive()), Effect.provide(NodeContext.layer))).catch((error) => {
  console.error(error)
  process.exit(1)
})
