// The shared metric contract through the real worker with a tiny RoBERTa built from the EPITOME posts (`tiny:`),
// offline on CPU. Exactness against the formula is in python/tests/test_bertscore.py.
import { fileWorker } from "@empo/bridge/testing/fileWorker"
import { sharedData } from "@empo/core/testing/sharedData"
import { metricContract } from "@empo/metrics/testing/metricContract"
import { plugin } from "../src/index.ts"

// One worker for the whole file (the suite builds in one effect and scores in another).
const worker = await fileWorker()

metricContract(plugin, {
  params: { model: `tiny:${sharedData("epitome", "train.csv")}`, layer: 2, idf: true },
  badParams: { rescale: true },
  worker,
  timeout: 240_000
})
