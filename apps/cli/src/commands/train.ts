import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { TrainingBackendLive } from "@empo/bridge"
import { parseParams } from "@empo/core"
import { Optimizer, resolveOptimizerParams, TrainJob } from "@empo/core/Optimizer"
import { TrainEvent } from "@empo/core/Training"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Plugins } from "@empo/experiments/Plugins"
import { makeTrainProgress } from "./trainProgress.ts"

const stage = Options.text("stage").pipe(Options.withDescription("training stage = optimizer plugin id: sft, dpo, ipo, kto, or an added plugin's (an unknown id lists the known ones)"))
const model = Options.text("model").pipe(Options.withDescription("base model: a local HF folder (full model or LoRA adapter) or a hub id"))
const data = Options.file("data", { exists: "yes" }).pipe(Options.withDescription("training JSONL: {messages} (sft), {prompt, chosen, rejected} (dpo/ipo), {prompt, completion, label} (kto)"))
const evalData = Options.file("eval-data", { exists: "yes" }).pipe(Options.optional, Options.withDescription("evaluation JSONL, same format (evaluated at the end, and every --param evalSteps=N)"))
const out = Options.text("out").pipe(Options.withDescription("output folder; must not exist (checkpoints go to <out>.checkpoints)"))
const preset = Options.text("preset").pipe(Options.optional, Options.withDescription("named preset of the plugin, e.g. full124 (sft), d270 (dpo), tiny-cpu"))
const param = Options.text("param").pipe(
  Options.repeated,
  Options.withDescription("override a param: --param learningRate=5e-4 --param lora.r=8 (numbers, true/false, JSON lists and objects, else text)")
)
const resume = Options.directory("resume", { exists: "yes" }).pipe(Options.optional, Options.withDescription("resume from a checkpoint-N folder"))
const seed = Options.integer("seed").pipe(Options.withDefault(42), Options.withDescription("training seed (data order, initialisation of new heads, sampling)"))
const json = Options.boolean("json").pipe(Options.withDescription("print every event as NDJSON on stdout instead of a progress bar"))

const encodeEvent = Schema.encodeSync(TrainEvent)

export const trainCommand = Command.make(
  "train",
  { stage, model, data, evalData, out, preset, param, resume, seed, json },
  (flags) =>
    Effect.gen(function*() {
      const plugin = yield* (yield* Plugins).optimizer(flags.stage)
      const overrides = yield* parseParams(flags.param)
      const params = yield* resolveOptimizerParams(plugin, { preset: Option.getOrUndefined(flags.preset), overrides })
      const job = new TrainJob({
        model: flags.model,
        trainData: flags.data,
        outputDir: flags.out,
        seed: flags.seed,
        ...Option.match(flags.evalData, { onNone: () => ({}), onSome: (evalData) => ({ evalData }) }),
        ...Option.match(flags.resume, { onNone: () => ({}), onSome: (resumeFrom) => ({ resumeFrom }) })
      })
      const progress = makeTrainProgress()
      yield* Effect.gen(function*() {
        const optimizer = yield* Optimizer
        yield* optimizer.train(job).pipe(
          Stream.runForEach((event) => flags.json ? Console.log(JSON.stringify(encodeEvent(event))) : Effect.sync(() => progress(event)))
        )
      }).pipe(Effect.provide(plugin.layer(params)), Effect.provide(TrainingBackendLive))
    })
).pipe(Command.withDescription("Train one stage (SFT, DPO, IPO or KTO) with TRL through the Python worker"))
