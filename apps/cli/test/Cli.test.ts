import { assert, describe, it } from "@effect/vitest"
import { defineMetric, type EvalItem, Metric, MetricScores } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { Plugins } from "@empo/experiments/Plugins"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { vi } from "vitest"
import { runEmpo } from "../src/Cli.ts"
import { metricPlugins, optimizerPlugins, PluginsLive } from "../src/plugins.ts"

// A metric plugin that is not in the app's list: the share of responses containing a mark (default "!").
const exclaim = defineMetric({
  manifest: {
    id: "exclaim", kind: "metric", version: "1.0.0", description: "responses with an exclamation mark (test plugin)",
    keys: { exclaim_rate: { direction: "none", label: "!" } }
  },
  params: Schema.Struct({ mark: Schema.optionalWith(Schema.String, { default: () => "!" }) }),
  layer: (params) =>
    Layer.succeed(Metric, Metric.of({
      id: "exclaim", version: "1.0.0", params, resources: [],
      score: (items: ReadonlyArray<EvalItem>) =>
        Effect.sync(() => {
          const flags = items.map((i): number => (i.response.includes(params.mark) ? 1 : 0))
          return new MetricScores({ metric: "exclaim", version: "1.0.0", params, resources: [], perItem: { exclaim: flags }, aggregate: { exclaim_rate: flags.reduce((s, x) => s + x, 0) / flags.length } })
        })
    }))
})

const withToy = Plugins.layer({ metrics: [...metricPlugins, exclaim], optimizers: optimizerPlugins })

const predictions = () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-cli-")), "preds.txt")
  fs.writeFileSync(file, "~prevs~gens\n0~I got the job~Wow, congratulations!\n1~My cat is ill~I am sorry.\n2~We won~Great?\n3~Hi~Hello!\n")
  return file
}

/** Runs `empo …` in this process against a catalogue, with what it prints on stdout. */
const empo = (args: ReadonlyArray<string>, catalogue: Parameters<typeof runEmpo>[1]) =>
  Effect.gen(function* () {
    const printed: Array<string> = []
    const log = vi.spyOn(console, "log").mockImplementation((...parts: Array<unknown>) => void printed.push(parts.join(" ")))
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined)
    const exit = yield* Effect.exit(runEmpo(["node", "empo", ...args], catalogue))
    log.mockRestore()
    error.mockRestore()
    return { exit, stdout: printed.join("\n") }
  })

/** The error a run failed with (as bin.ts reports it), or a test failure when it succeeded. */
const failure = (exit: Exit.Exit<unknown, unknown>) => {
  const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  if (Option.isNone(error)) return assert.fail(`expected a failure, got ${JSON.stringify(exit).slice(0, 400)}`)
  return error.value as { readonly _tag: string; readonly message: string; readonly exitCode: number }
}

describe("runEmpo with another plugin catalogue", () => {
  it.effect("`empo eval` scores with a toy metric plugin added to the catalogue, params through --param", () =>
    Effect.gen(function* () {
      const file = predictions()
      const args = (metrics: string, ...extra: Array<string>) =>
        ["eval", "--predictions", file, "--metrics", metrics, "--punkt", sharedData("nltk", "punkt_english.json"), "--no-cache", "--json", ...extra]
      const { exit, stdout } = yield* empo(args("exclaim,length"), withToy)
      assert.strictEqual(exit._tag, "Success")
      const summary = JSON.parse(stdout) as { n: number; metrics: Record<string, Record<string, number>> }
      assert.strictEqual(summary.n, 4)
      assert.strictEqual(summary.metrics["exclaim"]!["exclaim_rate"], 0.5)
      assert.isAbove(summary.metrics["length"]!["tokens_mean"]!, 1)
      const question = yield* empo(args("exclaim", "--param", "exclaim.mark=?"), withToy)
      assert.strictEqual((JSON.parse(question.stdout) as { metrics: Record<string, Record<string, number>> }).metrics["exclaim"]!["exclaim_rate"], 0.25)
    }))

  it.effect("the app's own catalogue does not know the toy metric and says which it knows", () =>
    Effect.gen(function* () {
      const { exit } = yield* empo(["eval", "--predictions", predictions(), "--metrics", "exclaim", "--punkt", sharedData("nltk", "punkt_english.json"), "--no-cache"], PluginsLive)
      const error = failure(exit)
      assert.strictEqual(error._tag, "UnknownPluginError")
      assert.strictEqual(error.exitCode, 2)
      assert.strictEqual(error.message, "unknown metric `exclaim`; known metrics: vad, specificity, diversity, distinct, length, epitome-saved, epitome, bertscore")
    }))

  it.effect("`empo train` looks its stage up in the catalogue; a catalogue with a repeated id is refused", () =>
    Effect.gen(function* () {
      const file = predictions()
      const train = yield* empo(["train", "--stage", "ppo", "--model", "m", "--data", file, "--out", path.join(path.dirname(file), "out")], PluginsLive)
      assert.strictEqual(failure(train.exit).message, "unknown optimizer `ppo`; known optimizers: sft, dpo, ipo, kto")
      const badParam = yield* empo(["train", "--stage", "dpo", "--model", "m", "--data", file, "--out", path.join(path.dirname(file), "out"), "--param", "maxSteps"], PluginsLive)
      assert.include(failure(badParam.exit).message, "--param maxSteps: expected key=value")
      const duplicate = yield* empo(["eval", "--predictions", file], Plugins.layer({ metrics: [exclaim, exclaim], optimizers: [] }))
      assert.strictEqual(failure(duplicate.exit).message, "two metric plugins share the id `exclaim`")
    }))
})
