// The shared metric contract through the real worker: a tiny RoBERTa built from the EPITOME posts and seeded
// random heads (`tiny:`), so the suite runs offline on CPU. Scoring against the original module is in
// python/tests/test_epitome.py; training and bad inputs in apps/cli/test/neuralMetrics.test.ts.
import { fileWorker } from "@empo/bridge/testing/fileWorker"
import { sharedData } from "@empo/core/testing/sharedData"
import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

// One worker for the whole file (the suite builds in one effect and scores in another).
const worker = await fileWorker()

metricContract(plugin, {
  params: { checkpoints: "tiny:0", encoder: `tiny:${sharedData("epitome", "train.csv")}`, batchSize: 2 },
  badParams: { checkpoints: "tiny:0", maxLength: 0 },
  worker,
  timeout: 240_000
})
