import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Path from "@effect/platform/Path"
import { type EvalItem, InputError, type MetricShape, parseParams, Tokenizer } from "@empo/core"
import { Plugins } from "@empo/experiments/Plugins"
import {
  bootstrapCorpusAggregates,
  cachingTokenizer,
  type Comparison,
  compareRuns,
  corpusAggregates,
  type MetricRequest,
  MetricRegistry,
  MetricRunner,
  type Predictions,
  PredictionsFormat,
  readPredictions,
  type RunProgress,
  type RunResult,
  summarize,
  writeResults
} from "@empo/metrics"
import { NltkTokenizer } from "@empo/text"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { MetricWorkerLive } from "../StageServicesLive.ts"
import { TokenizerLive } from "../MainLayer.ts"

const predictions = Options.text("predictions").pipe(
  Options.optional,
  Options.withDescription("predictions file: the study's ~-separated table, CSV, or `empo generate` JSONL")
)
const format = Options.choice("format", PredictionsFormat.literals).pipe(
  Options.withDefault("auto" as const),
  Options.withDescription("auto: .jsonl → jsonl, a ~ in the header → tilde, else csv")
)
const metrics = Options.text("metrics").pipe(
  Options.optional,
  Options.withDescription("comma-separated metric ids (an unknown id lists the known ones); default: every feature metric that applies (neural ones such as epitome and bertscore need their model named: --metrics and --param)")
)
const responseColumn = Options.text("response-column").pipe(
  Options.optional,
  Options.withDescription("column (or JSONL key) with the responses to score; default gens / response")
)
const human = Options.boolean("human").pipe(Options.withDescription("score the gold listener turns (gen_targets / target) instead"))
const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of a table"))
const out = Options.text("out").pipe(Options.optional, Options.withDescription("directory for per-item scores (scores.jsonl, scores.csv) and summary.json"))
const param = Options.text("param").pipe(
  Options.repeated,
  Options.withDescription("metric parameter as <metric>.<key>=<value> (numbers, true/false, JSON lists and objects, else text), e.g. vad.vadLexicon=NRC-VAD-Lexicon.txt; file params left out are read from EMPO_DATA_DIR, then $EMPO_CACHE (lexicons/…, empathetic_dialogues/ed_counts.json)")
)
const cacheDir = Options.text("cache-dir").pipe(Options.optional, Options.withDescription("metric result cache (default: $EMPO_CACHE/metrics, else ~/.cache/empo/metrics)"))
const noCache = Options.boolean("no-cache").pipe(Options.withDescription("neither read nor write cached metric results"))
const punkt = Options.text("punkt").pipe(
  Options.optional,
  Options.withDescription("Punkt parameters JSON (default: EMPO_PUNKT, else $EMPO_DATA_DIR/nltk/punkt_english.json, else NLTK's English data downloaded once into EMPO_CACHE)")
)
const compare = Options.boolean("compare").pipe(Options.withDescription("compare two predictions files given as arguments: deltas (B − A) with CIs and p-values"))
const unpaired = Options.boolean("unpaired").pipe(Options.withDescription("with --compare: Welch t and independent bootstrap even when both files score the same item ids"))
const corpusResamples = Options.integer("corpus-resamples").pipe(
  Options.withDefault(200),
  Options.withDescription("with --compare: bootstrap resamples for corpus-level numbers (distinct-n, diversity), each rescoring the resampled items; 0 = no interval")
)
const seed = Options.integer("seed").pipe(Options.withDefault(0), Options.withDescription("seed of the bootstrap and permutation test"))
const files = Args.text({ name: "file" }).pipe(Args.withDescription("with --compare: the two predictions files A and B"), Args.repeated)

const fail = (reason: string, field: string) => Effect.fail(new InputError({ reason, field }))

/** `vad.vadLexicon=path` → per-metric raw params (decoded later by each plugin's Schema). */
const parseMetricParams = (entries: ReadonlyArray<string>) =>
  parseParams(entries, { minDepth: { depth: 2, shape: "<metric>.<key>=<value>" } })

const hasSavedEpitome = (p: Predictions) => p.columns.includes("pred_ER_scores")

const chooseMetrics = (requested: Option.Option<string>, loaded: Predictions, isHuman: boolean) =>
  Effect.gen(function* () {
    const plugins = yield* Plugins
    const ids = Option.match(requested, {
      // By default the feature metrics: a neural one (its manifest names a Python side) needs a model named with
      // --metrics and --param (epitome's checkpoints, bertscore's encoder), which a default cannot guess.
      onNone: () => plugins.metrics.filter((p) => p.manifest.python === undefined).map((p) => p.manifest.id)
        .filter((id) => id !== "epitome-saved" || (hasSavedEpitome(loaded) && !isHuman)),
      onSome: (list) => list.split(",").map((s) => s.trim()).filter((s) => s !== "")
    })
    if (ids.length === 0) return yield* fail("--metrics lists no metric", "metrics")
    if (isHuman && ids.includes("epitome-saved")) {
      return yield* fail("epitome-saved reads EPITOME levels saved for the model's responses; they do not describe the gold turns scored with --human", "metrics")
    }
    return ids
  })

/** Prints a metric run's progress on stderr (stdout stays the result). */
export const progress = (event: RunProgress) =>
  event._tag === "MetricStarted"
    ? Console.error(`  ${event.metric}: scoring ${event.items} items …`)
    : Console.error(`  ${event.metric}: done in ${(event.millis / 1000).toFixed(2)} s${event.cached ? " (cached)" : ""}`)

const fmt = (x: number) => Number.isInteger(x) ? String(x) : x.toFixed(4)

const renderSummary = (file: string, result: RunResult): string => {
  const lines = [`${file}: ${result.n} items`]
  for (const s of result.scores) {
    lines.push(`  ${s.metric}`)
    const width = Math.max(...Object.keys(s.aggregate).map((k) => k.length))
    for (const [key, value] of Object.entries(s.aggregate)) lines.push(`    ${key.padEnd(width)}  ${fmt(value)}`)
    // e.g. BERTScore's hash string: numbers made with other settings must not be compared silently.
    for (const [key, value] of Object.entries(s.meta ?? {})) lines.push(`    (${key}: ${value})`)
  }
  return lines.join("\n")
}

const renderComparison = (a: string, b: string, c: Comparison, corpusResamples: number): string => {
  const lines = [`A = ${a} (${c.nA} items), B = ${b} (${c.nB} items); ${c.paired ? "paired by item id" : "unpaired"}; deltas are B − A`]
  const header = ["metric.column (item mean)", "mean A", "mean B", "delta", "95% CI", c.paired ? "p perm" : "", c.paired ? "p t (paired)" : "p t (Welch)", c.paired ? "d_z" : "d"]
  const rows = c.columns.map((x) => [
    `${x.metric}.${x.column}`, fmt(x.meanA), fmt(x.meanB), fmt(x.delta), `[${fmt(x.ci.low)}, ${fmt(x.ci.high)}]`,
    x.pPermutation === null ? "" : x.pPermutation.toPrecision(3), x.pT.toPrecision(3), fmt(x.effectSize)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()
  lines.push(line(header), ...rows.map(line))
  if (c.identical.length > 0) {
    lines.push(`identical in A and B for every item (same prompts), no test: ${c.identical.map((x) => `${x.metric}.${x.column}`).join(", ")}`)
  }
  const corpus = corpusAggregates(c)
  if (corpus.length > 0) {
    lines.push(`corpus-level (95% CI: bootstrap over items, ${corpusResamples} resamples, each rescored):`)
    const cells = corpus.map((x) => [
      `${x.metric}.${x.key}`, fmt(x.a), fmt(x.b), fmt(x.delta), x.ci === null ? "(no interval)" : `[${fmt(x.ci.low)}, ${fmt(x.ci.high)}]`
    ])
    const corpusWidths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
    for (const r of cells) lines.push(`  ${r.map((cell, i) => cell.padEnd(corpusWidths[i]!)).join("  ").trimEnd()}`)
  }
  return lines.join("\n")
}

/** The metric result cache: $EMPO_CACHE/metrics, else ~/.cache/empo/metrics. */
export const defaultCacheDir = Effect.gen(function* () {
  const path = yield* Path.Path
  const home = yield* Config.string("HOME").pipe(Config.withDefault("."))
  const cache = yield* Config.string("EMPO_CACHE").pipe(Config.withDefault(path.join(home, ".cache", "empo")))
  return path.join(cache, "metrics")
}).pipe(Effect.orElseSucceed(() => ".empo-cache/metrics"))

/** The metric runner `eval` scores with (also `compare --human-reference`): the catalogue's metrics, Python on demand. */
export const MetricRunnerLive = (punkt: Option.Option<string>) =>
  MetricRunner.layer.pipe(
    Layer.provideMerge(Plugins.metricRegistry),
    Layer.provideMerge(MetricWorkerLive),
    // Cached per text: --compare's bootstrap rescores the same responses many times.
    Layer.provideMerge(Layer.effect(Tokenizer, Effect.map(Tokenizer, cachingTokenizer)).pipe(
      Layer.provide(Option.match(punkt, { onNone: () => TokenizerLive, onSome: (file) => NltkTokenizer.layerFromFile(file) }))
    ))
  )

export const evalCommand = Command.make(
  "eval",
  { predictions, format, metrics, responseColumn, human, json, out, param, cacheDir, noCache, punkt, compare, unpaired, corpusResamples, seed, files },
  (flags) =>
    Effect.gen(function* () {
      const runner = yield* MetricRunner
      const params = yield* parseMetricParams(flags.param)
      const cache = flags.noCache ? undefined : Option.isSome(flags.cacheDir) ? flags.cacheDir.value : yield* defaultCacheDir
      const readOptions = { format: flags.format, responseColumn: Option.getOrUndefined(flags.responseColumn), human: flags.human }

      const score = (file: string) =>
        Effect.gen(function* () {
          yield* Console.error(`reading ${file} …`)
          const loaded = yield* readPredictions(file, readOptions)
          yield* Console.error(`  ${loaded.items.length} items (${loaded.format}, scoring \`${loaded.responseColumn}\`)`)
          const ids = yield* chooseMetrics(flags.metrics, loaded, flags.human)
          const requests: Array<MetricRequest> = ids.map((id) => ({ id, params: params[id] ?? {} }))
          const result = yield* runner.run(loaded.items, requests, { cacheDir: cache, onProgress: progress })
          return { items: loaded.items as ReadonlyArray<EvalItem>, result, requests }
        })

      if (flags.compare) {
        if (flags.files.length !== 2) return yield* fail(`--compare needs exactly two predictions files (got ${flags.files.length})`, "compare")
        const [a, b] = flags.files as [string, string]
        const runA = yield* score(a)
        const runB = yield* score(b)
        yield* Console.error("comparing (bootstrap 2000 resamples, permutation test 10000 sign flips) …")
        const perItem = compareRuns(runA.items, runA.result.scores, runB.items, runB.result.scores, { seed: flags.seed, unpaired: flags.unpaired })
        // Corpus numbers are rescored on resampled items; a metric scored in Python would start it hundreds of times.
        const registry = yield* MetricRegistry
        const rescored: Array<MetricShape> = []
        for (const request of runA.requests) {
          if ((yield* registry.plugin(request.id)).manifest.python !== undefined) continue
          if (!corpusAggregates(perItem).some((x) => x.metric === request.id)) continue
          rescored.push(yield* registry.build(request))
        }
        if (rescored.length > 0 && flags.corpusResamples > 0) {
          yield* Console.error(`bootstrapping corpus-level numbers of ${rescored.map((m) => m.id).join(", ")} (${flags.corpusResamples} resamples) …`)
        }
        const comparison = yield* bootstrapCorpusAggregates(perItem, runA.items, runB.items, rescored, { seed: flags.seed, resamples: flags.corpusResamples })
        yield* Console.log(flags.json ? JSON.stringify({ a, b, ...comparison }, null, 2) : renderComparison(a, b, comparison, flags.corpusResamples))
        return
      }
      if (flags.files.length > 0) return yield* fail(`unexpected argument ${flags.files[0]} (use --predictions <file>, or --compare A B)`, "predictions")
      if (Option.isNone(flags.predictions)) return yield* fail("give --predictions <file> (or --compare A B)", "predictions")
      const file = flags.predictions.value
      const { items, result } = yield* score(file)
      if (Option.isSome(flags.out)) {
        const written = yield* writeResults(flags.out.value, items, result)
        yield* Console.error(`wrote ${written.join(", ")}`)
      }
      yield* Console.log(flags.json ? JSON.stringify(summarize(result)) : renderSummary(file, result))
    }).pipe(Effect.provide(MetricRunnerLive(flags.punkt)))
).pipe(
  Command.withDescription(
    "Score a predictions file with metric plugins (summary table or --json, per-item scores with --out), or compare two with --compare A B"
  )
)
