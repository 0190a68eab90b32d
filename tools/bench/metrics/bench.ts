// Metric benchmark: `npx tsx tools/bench/metrics/bench.ts [predictions file]` (default: the study's 2,540 baseline
// responses from $EMPO_DATA_DIR or ../shared/data). Prints per-metric wall and CPU time, and times NLTK's Python
// word_tokenize (.venv, nltk 3.10.3 with the 3.8.1 quote rule, Punkt built from the same JSON) on the same texts
// in the same run. Targets: tokenizer ≥ 5× NLTK; VAD + specificity + distinct + length < 1 s; diversity < 10 s.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Metric, type MetricPlugin, Tokenizer } from "@empo/core"
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { plugin as distinct } from "@empo/metric-distinct"
import { plugin as diversity } from "@empo/metric-diversity"
import { plugin as epitomeSaved } from "@empo/metric-epitome-saved"
import { plugin as length } from "@empo/metric-length"
import { plugin as specificity } from "@empo/metric-specificity"
import { plugin as vad } from "@empo/metric-vad"
import { readPredictions } from "@empo/metrics"
import { WorkerClient, WorkerError } from "@empo/core/Worker"
import * as Layer from "effect/Layer"
import { NltkTokenizer, wordTokenize } from "@empo/text"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { execFileSync } from "node:child_process"
import * as os from "node:os"
import * as path from "node:path"

// The benchmarked metrics are feature metrics: none may reach the Python worker.
const featureMetricsOnly = Layer.succeed(WorkerClient, WorkerClient.of({
  request: (method) => new WorkerError({ method, kind: "missing", reason: "the metrics benchmark runs no Python" })
}))

const file = process.argv[2] ?? sharedData("predictions", "baseline_zephyr-7b-sft-full.txt")
const punkt = sharedData("nltk", "punkt_english.json")
const python = process.env["EMPO_PYTHON"] ?? path.join(repoRoot(), ".venv", "bin", "python")

const timed = <A>(f: () => A): { value: A; wall: number; cpu: number } => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const value = f()
  const cpu = process.cpuUsage(c0)
  return { value, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 }
}
const s = (x: number) => `${x.toFixed(3)} s`

const plugins: ReadonlyArray<[MetricPlugin, unknown]> = [
  [vad, { vadLexicon: sharedData("lexicons", "NRC-VAD-Lexicon.txt"), intensityLexicon: sharedData("lexicons", "NRC-Emotion-Intensity.txt") }],
  [specificity, { counts: sharedData("empathetic_dialogues", "ed_counts.json") }],
  [distinct, {}],
  [length, {}],
  [epitomeSaved, {}],
  [diversity, {}]
]

const program = Effect.gen(function* () {
  const { params: punktParams, sha256 } = yield* NltkTokenizer.loadPunktFile(punkt)
  const { items } = yield* readPredictions(file)
  const texts = items.map((i) => i.response)
  console.log(`file: ${file}`)
  console.log(`items: ${items.length}; machine: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`)

  // Tokenizer vs NLTK on the same texts, with the uncached function (the Tokenizer service memoizes per text);
  // best of 5 for ours (the first run includes JIT warm-up).
  const runs = Array.from({ length: 5 }, () => timed(() => texts.map((t) => wordTokenize(t, punktParams))))
  const ours = Math.min(...runs.map((r) => r.wall))
  const nltk = JSON.parse(execFileSync(python, [path.join(repoRoot(), "packages", "text", "python", "nltk_word_tokenize.py")], {
    input: JSON.stringify({ punkt, texts, quote_rule: "nltk-3.8.1" }),
    maxBuffer: 256 * 1024 * 1024
  }).toString()) as { tokens: Array<Array<string>>; seconds: number }
  const agree = nltk.tokens.filter((t, i) => JSON.stringify(t) === JSON.stringify(runs[0]!.value[i])).length
  console.log(`\ntokenizer (word_tokenize on ${texts.length} responses)`)
  console.log(`  @empo/text      ${s(ours)} (best of 5; first run ${s(runs[0]!.wall)})`)
  console.log(`  NLTK (Python)   ${s(nltk.seconds)}`)
  console.log(`  speed-up        ${(nltk.seconds / ours).toFixed(1)}×   (target ≥ 5×; identical output on ${agree}/${texts.length})`)

  // Each metric gets a fresh tokenizer, so none profits from another's memoized tokens.
  console.log(`\nmetrics (each with a fresh tokenizer; layer built, then score() once, no result cache)`)
  const times: Record<string, number> = {}
  for (const [plugin, raw] of plugins) {
    const params = yield* Schema.decodeUnknown(plugin.params)(raw)
    const fresh = NltkTokenizer.make(punktParams, { name: "punkt_english.json", sha256 })
    const metric = yield* Effect.provide(Metric, plugin.layer(params)).pipe(Effect.provideService(Tokenizer, fresh), Effect.provide(featureMetricsOnly))
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    yield* metric.score(items)
    const wall = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(c0)
    times[plugin.manifest.id] = wall
    console.log(`  ${plugin.manifest.id.padEnd(14)} ${s(wall)} wall, ${s((cpu.user + cpu.system) / 1e6)} cpu`)
  }
  const fast = ["vad", "specificity", "distinct", "length"].reduce((sum, id) => sum + times[id]!, 0)
  console.log(`\n  vad + specificity + distinct + length  ${s(fast)}   (target < 1 s)`)
  console.log(`  diversity                              ${s(times["diversity"]!)}   (target < 10 s; a careful incremental Python version needs ~6 min)`)
  console.log(`load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`)
})

Effect.runPromise(program.pipe(Effect.provide(NodeContext.layer))).catch((e) => {
  console.error(e)
  process.exitCode = 1
})
