// `empo eval --compare` on two small predictions files with the real distinct and VAD plugins: per-item and
// corpus values never share a name, corpus values get a bootstrap CI, and context-only rows print no NaN.
import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import { Plugins } from "@empo/experiments"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { metricPlugins, optimizerPlugins } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"

const catalogue = Plugins.layer({ metrics: metricPlugins, optimizers: optimizerPlugins })
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-eval-compare-"))
const prompts = ["I lost my job today.", "My dog got sick last night.", "I passed my exam!", "We are moving to a new city.", "My sister is visiting soon."]
const write = (name: string, reply: (i: number) => string) => {
  const file = path.join(dir, name)
  const rows = Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `q${i}`, prev: prompts[i % prompts.length], response: reply(i) }))
  fs.writeFileSync(file, `${rows.join("\n")}\n`)
  return file
}
const templated = write("a.jsonl", (i) => (i % 2 === 0 ? "I am so so sorry, so sorry to hear that." : "Sorry, sorry to hear that."))
const varied = write("b.jsonl", (i) => ["That is wonderful news, congratulations!", "Oh no, I hope things get better soon.", "How exciting, tell me more about it.", "That sounds really hard, are you okay?"][i % 4]! + ` (${i})`)
const args = (json: boolean) => [
  "eval", "--compare", templated, varied, "--metrics", "distinct,vad", "--no-cache", "--corpus-resamples", "50",
  "--punkt", sharedData("nltk", "punkt_english.json"),
  "--param", `vad.vadLexicon=${sharedData("lexicons", "NRC-VAD-Lexicon.txt")}`,
  "--param", `vad.intensityLexicon=${sharedData("lexicons", "NRC-Emotion-Intensity.txt")}`,
  ...(json ? ["--json"] : [])
]

interface ComparisonJson {
  readonly columns: ReadonlyArray<{ metric: string; column: string; pT: number }>
  readonly identical: ReadonlyArray<{ metric: string; column: string }>
  readonly aggregates: ReadonlyArray<{ metric: string; key: string; delta: number; ci: { low: number; high: number } | null }>
}

describe("empo eval --compare", () => {
  it.effect("names per-item and corpus distinct-n apart, gives corpus values a bootstrap CI, and lists identical context rows", () =>
    Effect.gen(function* () {
      const run = yield* empoInProcess(args(true), catalogue)
      assert.isTrue(Exit.isSuccess(run.exit), String(run.exit))
      const c = JSON.parse(run.stdout) as ComparisonJson
      const distinctColumns = c.columns.filter((x) => x.metric === "distinct").map((x) => x.column)
      assert.includeMembers(distinctColumns, ["item_distinct_1"])
      const corpus = c.aggregates.find((x) => x.metric === "distinct" && x.key === "distinct_1")!
      assert.isFalse(distinctColumns.includes("distinct_1"))
      assert.isAbove(corpus.delta, 0)
      assert.isNotNull(corpus.ci)
      assert.isAtMost(corpus.ci!.low, corpus.delta)
      assert.isAtLeast(corpus.ci!.high, corpus.delta)
      assert.includeMembers(c.identical.map((x) => x.column), ["context_max_v", "context_mean_v"])
      assert.isFalse(c.columns.some((x) => x.column.startsWith("context_")))
      const text = yield* empoInProcess(args(false), catalogue)
      assert.notInclude(text.stdout, "NaN")
      assert.match(text.stdout, /identical in A and B for every item \(same prompts\), no test: .*vad\.context_max_v/)
      assert.match(text.stdout, /\n {2}distinct\.distinct_1 +\S+ +\S+ +\S+ +\[-?\d/)
    }), 120_000)
})
