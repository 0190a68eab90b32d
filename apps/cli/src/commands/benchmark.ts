import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { WorkerClientLive } from "@empo/bridge"
import { UserError } from "@empo/core/Errors"
import { benchmarkPython, benchmarkSummary, type LmEvalOutput, Normalise, runBenchmark } from "@empo/stage-benchmark"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** A flag value that is not what the flag takes. Exit code 2. */
export class BenchmarkFlagError extends UserError<BenchmarkFlagError>()("BenchmarkFlagError", {
  flag: Schema.String,
  reason: Schema.String
}, { exitCode: 2, message: (e) => `--${e.flag}: ${e.reason}` }) {}

const model = Options.text("model").pipe(Options.withDescription("a local model folder or a hub id"))
const adapter = Options.text("adapter").pipe(Options.optional, Options.withDescription("a LoRA adapter folder evaluated on top of --model (lm_eval's peft=)"))
const tasks = Options.text("tasks").pipe(Options.withDescription("comma-separated lm_eval tasks, groups or tags (mmlu, leaderboard, a task of --include-path)"))
const includePath = Options.text("include-path").pipe(Options.optional, Options.withDescription("a folder of local task YAML files"))
const numFewshot = Options.integer("num-fewshot").pipe(Options.optional, Options.withDescription("few-shot examples per prompt (default: each task's own)"))
const limit = Options.float("limit").pipe(Options.optional, Options.withDescription("only the first N documents per task (a fraction below 1: that share); for smoke runs"))
const batchSize = Options.text("batch-size").pipe(Options.withDefault("1"), Options.withDescription("documents per forward pass, or auto"))
const device = Options.text("device").pipe(Options.withDefault("cpu"), Options.withDescription("torch device (cpu, cuda, cuda:1, mps)"))
const dtype = Options.text("dtype").pipe(Options.withDefault("auto"), Options.withDescription("model dtype (auto, float32, bfloat16, float16)"))
const seed = Options.integer("seed").pipe(Options.optional, Options.withDescription("seeds lm_eval's random, numpy, torch and few-shot sampling (default: lm_eval's)"))
const applyChatTemplate = Options.boolean("apply-chat-template").pipe(Options.withDescription("format prompts with the tokenizer's chat template"))
const normalise = Options.choice("normalise", Normalise.literals).pipe(Options.withDefault("none" as const),
  Options.withDescription("leaderboard: also show Open LLM Leaderboard v2-normalised scores"))
const json = Options.boolean("json").pipe(Options.withDescription("print lm_eval's result dicts unchanged ({results, n-samples, versions, …}) as JSON"))

const parseBatchSize = (value: string): Effect.Effect<number | "auto", BenchmarkFlagError> =>
  value === "auto" ? Effect.succeed("auto")
  : /^[1-9][0-9]*$/.test(value) ? Effect.succeed(Number(value))
  : Effect.fail(new BenchmarkFlagError({ flag: "batch-size", reason: `expected a positive integer or auto, got ${JSON.stringify(value)}` }))

/** `task  metric  value ± stderr` lines, filters after the metric. */
export const renderBenchmark = (output: LmEvalOutput, summary: Readonly<Record<string, number>>): string => {
  const nShot = (output["n-shot"] ?? {}) as Record<string, unknown>
  const rows: Array<[string, string, string, string]> = [["task", "metric", "value", "n-shot"]]
  for (const task of Object.keys(output.results)) {
    for (const [key, value] of Object.entries(summary)) {
      if (!key.startsWith(`${task}.`)) continue
      const metric = key.slice(task.length + 1)
      if (metric.split(".")[0]!.endsWith("_stderr")) continue
      const [name, ...filter] = metric.split(".")
      const stderr = summary[[`${task}.${name}_stderr`, ...filter].join(".")]
      rows.push([task, metric, `${value.toFixed(4)}${stderr === undefined ? "" : ` ± ${stderr.toFixed(4)}`}`, String(nShot[task] ?? "")])
    }
  }
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n")
}

export const benchmarkCommand = Command.make(
  "benchmark",
  { model, adapter, tasks, includePath, numFewshot, limit, batchSize, device, dtype, seed, applyChatTemplate, normalise, json },
  (flags) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const taskList = flags.tasks.split(",").map((t) => t.trim()).filter((t) => t !== "")
      if (taskList.length === 0) return yield* new BenchmarkFlagError({ flag: "tasks", reason: "name at least one task" })
      const batch = yield* parseBatchSize(flags.batchSize)
      // The worker runs in python/: a path that exists here is made absolute; a hub id (or a missing path, which
      // the worker refuses by name) is passed as given.
      const local = (p: string) => fs.exists(p).pipe(Effect.orElseSucceed(() => false), Effect.map((found) => (found ? path.resolve(p) : p)))
      const request = {
        model: yield* local(flags.model), tasks: taskList, batchSize: batch, applyChatTemplate: flags.applyChatTemplate, device: flags.device, dtype: flags.dtype,
        ...(Option.isSome(flags.adapter) ? { adapter: yield* local(flags.adapter.value) } : {}),
        ...(Option.isSome(flags.includePath) ? { includePath: yield* local(flags.includePath.value) } : {}),
        ...Option.match(flags.numFewshot, { onNone: () => ({}), onSome: (numFewshot) => ({ numFewshot }) }),
        ...Option.match(flags.limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) }),
        ...Option.match(flags.seed, { onNone: () => ({}), onSome: (seed) => ({ seed }) })
      }
      const output = yield* runBenchmark(request, (message) => (flags.json ? Effect.void : Console.error(message))).pipe(
        Effect.provide(WorkerClientLive({ plugins: [benchmarkPython] })))
      yield* Console.log(flags.json ? JSON.stringify(output, null, 2) : renderBenchmark(output, benchmarkSummary(output, flags.normalise)))
    })
).pipe(Command.withDescription("Evaluate one model (or base + LoRA adapter) on lm-evaluation-harness tasks, outside a sweep"))
