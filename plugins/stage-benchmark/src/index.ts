/**
 * The `benchmark` stage: lm-evaluation-harness (`lm_eval.simple_evaluate`) in the Python worker, on the run's
 * models — the base and SFT models once per sweep (content-addressed, so every run links to the same node) and each
 * run's preference model. Every `"<metric>,<filter>"` value of lm_eval's results and its stderr is a summary
 * metric; the whole results JSON and the evaluation's metadata (n-shot, sample counts, task versions and hashes,
 * lm_eval version) are the stage's files.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { callMethod, defineWorkerMethod, type PythonModule, type WorkerClient, type WorkerError } from "@empo/core/Worker"
import {
  defineStage,
  defineStageKind,
  fileSystemFailure,
  modelDeps,
  modelInputs,
  modelKey,
  StageFailure,
  StageServices
} from "@empo/experiments"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as Schema from "effect/Schema"
import { leaderboardBaseline, normaliseScore, normaliseStderr } from "./Leaderboard.ts"

export { leaderboardBaseline, normaliseScore, normaliseStderr } from "./Leaderboard.ts"

/** The worker module (`plugins/stage-benchmark/python/empo_benchmark.py`). */
export const benchmarkPython: PythonModule = { name: "empo_benchmark", path: new URL("../python/", import.meta.url) }

const PositiveInt = Schema.Int.pipe(Schema.positive())
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())
/** `auto` lets lm_eval find the largest batch that fits. */
export const BatchSize = Schema.Union(PositiveInt, Schema.Literal("auto"))
/** Which of the run's models are benchmarked (`context.models` roles). */
export const ModelRole = Schema.Literal("base", "sft", "preference")
/** `leaderboard` adds Open LLM Leaderboard v2-normalised scores (`<metric>_leaderboard`) beside the raw ones. */
export const Normalise = Schema.Literal("none", "leaderboard")

/** `stages.benchmark` of an experiment. */
export const BenchmarkStageSpec = Schema.Struct({
  /** lm_eval task, group or tag names (`mmlu`, `leaderboard`, a local task of `includePath`). */
  tasks: Schema.NonEmptyArray(Schema.String.pipe(Schema.minLength(1))),
  /**
   * A folder of local task YAML files (relative to the working directory). Checked when the experiment is loaded,
   * so `empo run --dry-run` already refuses a missing one with its line (exit 2).
   */
  includePath: Schema.optional(Schema.String.pipe(Schema.filter((p) => fs.existsSync(p) && fs.statSync(p).isDirectory()
    ? undefined : `no folder ${p} (relative to the working directory ${process.cwd()})`))),
  numFewshot: Schema.optional(NonNegativeInt),
  batchSize: Schema.optionalWith(BatchSize, { default: () => 1 }),
  /** Documents per task (an integer), or a fraction of them below 1: for smoke runs only. */
  limit: Schema.optional(Schema.Number.pipe(Schema.positive())),
  applyChatTemplate: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Seeds lm_eval's python, numpy, torch and few-shot sampling; absent = lm_eval's own defaults. */
  seed: Schema.optional(Schema.Int),
  device: Schema.optionalWith(Schema.String, { default: () => "cpu" }),
  dtype: Schema.optionalWith(Schema.String, { default: () => "auto" }),
  models: Schema.optionalWith(Schema.Array(ModelRole), { default: () => ["base", "sft", "preference"] as const }),
  normalise: Schema.optionalWith(Normalise, { default: () => "none" as const })
})
export type BenchmarkStageSpec = typeof BenchmarkStageSpec.Type

/** What `benchmark.run` takes. */
export const BenchmarkRequest = Schema.Struct({
  model: Schema.String,
  adapter: Schema.optional(Schema.String),
  tasks: Schema.Array(Schema.String),
  includePath: Schema.optional(Schema.String),
  numFewshot: Schema.optional(Schema.Int),
  batchSize: BatchSize,
  limit: Schema.optional(Schema.Number),
  applyChatTemplate: Schema.Boolean,
  seed: Schema.optional(Schema.Int),
  device: Schema.String,
  dtype: Schema.String
})
export type BenchmarkRequest = typeof BenchmarkRequest.Type

/** lm_eval's result, its own dicts unchanged (`results`, `versions`, `n-shot`, `n-samples`, `configs`, …). */
export const LmEvalOutput = Schema.Struct({
  results: Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
}, Schema.Record({ key: Schema.String, value: Schema.Unknown }))
export type LmEvalOutput = typeof LmEvalOutput.Type

export const BenchmarkEvent = Schema.Struct({ phase: Schema.String, message: Schema.String })

export const benchmarkRun = defineWorkerMethod({ name: "benchmark.run", request: BenchmarkRequest, response: LmEvalOutput, event: BenchmarkEvent })

/** Runs one evaluation in the worker, each phase handed to `onProgress`. */
export const runBenchmark = (
  request: BenchmarkRequest,
  onProgress: (message: string) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<LmEvalOutput, WorkerError, WorkerClient> => callMethod(benchmarkRun, request, (event) => onProgress(event.message))

/**
 * lm_eval's `"<metric>,<filter>"` values (stderrs included: `acc_stderr,none`) as `<task>.<metric>` keys, with the
 * filter appended when it is not `none` (`gsm8k.exact_match.strict-match`); non-numeric values (`"N/A"` stderrs,
 * aliases) are left out. With `leaderboard`, tasks of the leaderboard also get `<metric>_leaderboard` (and its
 * `_stderr`) rescaled against their random baseline.
 */
export const benchmarkSummary = (output: LmEvalOutput, normalise: typeof Normalise.Type = "none"): Record<string, number> => {
  const summary: Record<string, number> = {}
  for (const [task, values] of Object.entries(output.results)) {
    const baseline = normalise === "leaderboard" ? leaderboardBaseline(task) : undefined
    for (const [name, value] of Object.entries(values)) {
      const comma = name.indexOf(",")
      if (comma <= 0 || typeof value !== "number" || !Number.isFinite(value)) continue
      const [metric, filter] = [name.slice(0, comma), name.slice(comma + 1)]
      const suffix = filter === "none" ? "" : `.${filter}`
      summary[`${task}.${metric}${suffix}`] = value
      if (baseline === undefined) continue
      const stderr = metric.endsWith("_stderr")
      const base = stderr ? metric.slice(0, -"_stderr".length) : metric
      summary[`${task}.${base}_leaderboard${stderr ? "_stderr" : ""}${suffix}`] = stderr ? normaliseStderr(value, baseline) : normaliseScore(value, baseline)
    }
  }
  return summary
}

/** The evaluation's metadata the stage keeps beside the results (what the numbers depend on). */
export const benchmarkMetadata = (output: LmEvalOutput) => ({
  lm_eval_version: output["lm_eval_version"] ?? null,
  versions: output["versions"] ?? null,
  "n-shot": output["n-shot"] ?? null,
  "n-samples": output["n-samples"] ?? null,
  task_hashes: output["task_hashes"] ?? null,
  config: output["config"] ?? null,
  transformers_version: output["transformers_version"] ?? null
})

/** File names in the stage's output folder. */
export const BenchmarkFiles = { results: "results.json", metadata: "benchmark.json" } as const

/** A benchmark node's inputs, as hashed: the model reference (when not a stage) and lm_eval's settings. */
export const BenchmarkInputs = Schema.Struct({
  model: Schema.optional(Schema.String),
  tasks: Schema.Array(Schema.String),
  includePath: Schema.NullOr(Schema.String),
  numFewshot: Schema.NullOr(Schema.Int),
  batchSize: BatchSize,
  limit: Schema.NullOr(Schema.Number),
  applyChatTemplate: Schema.Boolean,
  seed: Schema.NullOr(Schema.Int),
  device: Schema.String,
  dtype: Schema.String,
  normalise: Normalise
})
export type BenchmarkInputs = typeof BenchmarkInputs.Type

const failed = (error: { readonly message: string; readonly traceback?: string | undefined }) =>
  new StageFailure({ reason: `benchmark: ${error.message}`, ...(error.traceback === undefined ? {} : { stderrTail: error.traceback }) })

export const benchmarkKind = defineStageKind({
  kind: "benchmark",
  artifactKind: "benchmark",
  pool: "compute",
  inputs: BenchmarkInputs,
  execute: (context) => Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const services = yield* StageServices
    const i = context.inputs
    const io = Effect.mapError(fileSystemFailure())
    const model = context.upstream["model"] ?? i.model
    if (model === undefined) return yield* new StageFailure({ reason: "benchmark: the node has no model (neither an upstream stage nor a reference)" })
    // The worker runs in python/: relative paths are the user's, so they are resolved here.
    const local = (p: string) => (fs.exists(p).pipe(Effect.orElseSucceed(() => false), Effect.map((found) => found ? path.resolve(p) : p)))
    const output = yield* runBenchmark({
      model: yield* local(model), tasks: i.tasks, batchSize: i.batchSize, applyChatTemplate: i.applyChatTemplate, device: i.device, dtype: i.dtype,
      ...(i.includePath === null ? {} : { includePath: path.resolve(i.includePath) }),
      ...(i.numFewshot === null ? {} : { numFewshot: i.numFewshot }),
      ...(i.limit === null ? {} : { limit: i.limit }),
      ...(i.seed === null ? {} : { seed: i.seed })
    }, context.progress).pipe(Effect.provide(services.worker([benchmarkPython])), Effect.mapError(failed))
    yield* io(fs.makeDirectory(context.outputDir, { recursive: true }))
    yield* io(fs.writeFileString(path.join(context.outputDir, BenchmarkFiles.results), JSON.stringify(output, null, 2) + "\n"))
    yield* io(fs.writeFileString(path.join(context.outputDir, BenchmarkFiles.metadata), JSON.stringify(benchmarkMetadata(output), null, 2) + "\n"))
    return { summary: benchmarkSummary(output, i.normalise) }
  })
})

/** The role of a model's benchmark node in a run: `bench` for the run's final model, `bench-<role>` for the others. */
export const benchmarkRole = (modelRole: string, final: boolean): string => (final ? "bench" : `bench-${modelRole}`)

export const benchmarkStage = defineStage({
  manifest: { id: "benchmark", kind: "stage", version: "1", description: "lm-evaluation-harness benchmarks (MMLU, Open LLM Leaderboard, local tasks) of the run's models" },
  sections: { benchmark: BenchmarkStageSpec },
  kinds: [benchmarkKind],
  plan: (context) => {
    const found = context.section("benchmark")
    if (found === undefined) return
    const spec = found.decoded as BenchmarkStageSpec
    const section = found.encoded
    const last = context.models.at(-1)
    // The final model first: a node it shares with an earlier role (no training) is then named `bench`.
    const wanted = context.models.filter((m) => (spec.models as ReadonlyArray<string>).includes(m.role))
      .sort((a, b) => Number(b === last) - Number(a === last))
    for (const m of wanted) {
      const stage = context.once(["benchmark", ...modelKey(m.source), section], () =>
        context.node("benchmark", {
          ...modelInputs(m.source),
          tasks: spec.tasks, includePath: spec.includePath ?? null, numFewshot: spec.numFewshot ?? null, batchSize: spec.batchSize,
          limit: spec.limit ?? null, applyChatTemplate: spec.applyChatTemplate, seed: spec.seed ?? null, device: spec.device,
          dtype: spec.dtype, normalise: spec.normalise
        }, modelDeps(m.source)))
      context.add(benchmarkRole(m.role, m === last), stage)
    }
  }
})
