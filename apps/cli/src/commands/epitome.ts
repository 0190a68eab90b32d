import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { WorkerClientLive } from "@empo/bridge"
import { InputError } from "@empo/core"
import { callMethod } from "@empo/core/Worker"
import { EpitomeTrainMethod, type Mechanism, mechanisms as allMechanisms } from "@empo/metric-epitome"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"

const data = Options.directory("data", { exists: "yes" }).pipe(Options.withDescription("EPITOME folder with train.csv, val.csv, test.csv (e.g. ../shared/data/epitome)"))
const encoder = Options.text("encoder").pipe(Options.withDescription("base RoBERTa: a local HF folder (e.g. from `empo model tiny-encoder`) or a hub id (roberta-base)"))
const out = Options.text("out").pipe(Options.withDescription("output folder: finetuned_{ER,IP,EX}.pth in the official layout + metrics.json"))
const mechanisms = Options.text("mechanisms").pipe(Options.withDefault("ER,IP,EX"), Options.withDescription("comma-separated subset of ER,IP,EX"))
const epochs = Options.integer("epochs").pipe(Options.withDefault(4), Options.withDescription("epochs per classifier (the original: 4)"))
const lr = Options.float("lr").pipe(Options.withDefault(2e-5), Options.withDescription("AdamW learning rate, linear decay (the original: 2e-5; a tiny random encoder needs ~1e-3)"))
const batchSize = Options.integer("batch-size").pipe(Options.withDefault(32), Options.withDescription("training batch size (the original: 32)"))
const maxLength = Options.integer("max-length").pipe(Options.withDefault(64), Options.withDescription("tokens per post, special tokens included"))
const seed = Options.integer("seed").pipe(Options.withDefault(12), Options.withDescription("seed of head initialisation and data order (the original: 12)"))
const limit = Options.integer("limit").pipe(Options.optional, Options.withDescription("train on the first N training rows only (quick runs)"))
const json = Options.boolean("json").pipe(Options.withDescription("print the training record as JSON"))

const parseMechanisms = (text: string) =>
  Effect.gen(function* () {
    const parts = text.split(",").map((m) => m.trim()).filter((m) => m !== "")
    const unknown = parts.filter((m) => !(allMechanisms as ReadonlyArray<string>).includes(m))
    if (parts.length === 0 || unknown.length > 0) {
      return yield* new InputError({ field: "--mechanisms", reason: `--mechanisms must list ER, IP and/or EX, got "${text}"` })
    }
    return [...new Set(parts)] as Array<Mechanism>
  })

const pct = (x: number) => x.toFixed(3)

const trainCommand = Command.make("train", { data, encoder, out, mechanisms, epochs, lr, batchSize, maxLength, seed, limit, json }, (flags) =>
  Effect.gen(function* () {
    const chosen = yield* parseMechanisms(flags.mechanisms)
    // The worker runs in <repo>/python: local paths travel absolute.
    const result = yield* callMethod(EpitomeTrainMethod, {
      data: path.resolve(flags.data),
      encoder: fs.existsSync(flags.encoder) || flags.encoder.startsWith(".") ? path.resolve(flags.encoder) : flags.encoder,
      outputDir: path.resolve(flags.out),
      mechanisms: chosen,
      epochs: flags.epochs,
      lr: flags.lr,
      batchSize: flags.batchSize,
      maxLength: flags.maxLength,
      seed: flags.seed,
      ...Option.match(flags.limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) })
    }, (event) => flags.json ? Effect.void : Console.error(`${event.mechanism} epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toFixed(4)}`))
    if (flags.json) return yield* Console.log(JSON.stringify(result))
    yield* Console.log(`EPITOME classifiers (${result.device}) → ${result.outputDir}`)
    yield* Console.log("mechanism  test acc  test macro-F1  majority acc  majority macro-F1  val macro-F1")
    for (const m of chosen) {
      const r = result.mechanisms[m]!
      yield* Console.log(`${m.padEnd(9)}  ${pct(r.test.accuracy).padStart(8)}  ${pct(r.test.macroF1).padStart(13)}  ${pct(r.majority.accuracy).padStart(12)}  ${pct(r.majority.macroF1).padStart(17)}  ${pct(r.val.macroF1).padStart(12)}`)
    }
    yield* Console.log(`metrics: ${result.outputDir}/metrics.json`)
  }).pipe(Effect.provide(WorkerClientLive()))).pipe(
  Command.withDescription("Train the EPITOME ER/IP/EX classifiers (level + rationale loss, as Sharma et al. 2020); checkpoints load in the `epitome` metric")
)

export const epitomeCommand = Command.make("epitome").pipe(
  Command.withDescription("EPITOME empathy classifiers (the `epitome` metric's models)"),
  Command.withSubcommands([trainCommand])
)
