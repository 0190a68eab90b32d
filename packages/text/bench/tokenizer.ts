// Times wordTokenize against NLTK's Python word_tokenize on the same texts, in the same run.
// Usage (repo root): npx tsx packages/text/bench/tokenizer.ts [predictions file] [column]
// Needs EMPO_DATA_DIR or ../shared/data, and .venv/bin/python with nltk (or EMPO_PYTHON).
// Both wall and CPU time are printed: on a shared 2-core machine CPU time is the steadier figure.
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { PunktParameters, wordTokenize } from "../src/index.ts"
import { predictionColumn } from "../src/testing/predictions.ts"

const file = process.argv[2] ?? sharedData("predictions", "baseline_zephyr-7b-sft-full.txt")
const column = process.argv[3] ?? "gens"
const punkt = sharedData("nltk", "punkt_english.json")
const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")
const texts = predictionColumn(file, column)
const params = new PunktParameters(JSON.parse(fs.readFileSync(punkt, "utf8")))

interface Timing {
  readonly wall: number
  readonly cpu: number
}
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

const runs: Array<Timing> = []
let tokens = 0
for (let run = 0; run < 7; run++) {
  const wall = performance.now()
  const cpu = process.cpuUsage()
  tokens = 0
  for (const text of texts) tokens += wordTokenize(text, params).length
  const used = process.cpuUsage(cpu)
  runs.push({ wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 })
}
const cold = runs[0]!
const warm = runs.slice(2)
const ours = { wall: median(warm.map((r) => r.wall)), cpu: median(warm.map((r) => r.cpu)) }

const nltkRuns = [0, 1, 2].map((): Timing => {
  const output = execFileSync(python, [path.join(import.meta.dirname, "..", "python", "nltk_word_tokenize.py")], {
    input: JSON.stringify({ punkt, texts }),
    maxBuffer: 1 << 28
  })
  const { seconds, cpu_seconds } = JSON.parse(output.toString("utf8"))
  return { wall: seconds * 1000, cpu: cpu_seconds * 1000 }
})
const nltk = { wall: median(nltkRuns.map((r) => r.wall)), cpu: median(nltkRuns.map((r) => r.cpu)) }

const ms = (t: Timing) => `${t.wall.toFixed(1)} ms wall / ${t.cpu.toFixed(1)} ms CPU`
console.log(`texts: ${texts.length} (${path.basename(file)}, column ${column}), tokens: ${tokens}`)
console.log(`@empo/text wordTokenize, first (cold) run: ${ms(cold)}`)
console.log(`@empo/text wordTokenize, median of 5 warm runs: ${ms(ours)}`)
console.log(`NLTK word_tokenize (Python, tokenizing only), median of 3 runs: ${ms(nltk)}`)
console.log(
  `speed-up vs NLTK: warm ${(nltk.wall / ours.wall).toFixed(1)}x wall, ${(nltk.cpu / ours.cpu).toFixed(1)}x CPU; ` +
    `cold ${(nltk.wall / cold.wall).toFixed(1)}x wall, ${(nltk.cpu / cold.cpu).toFixed(1)}x CPU (target >= 5x)`
)
