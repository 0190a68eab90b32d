import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { TrainingBackendLive } from "@empo/bridge"
import { TinyModelRequest, TrainHyperParameters, TrainingBackend, TrainRequest } from "@empo/core/Training"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { DataFiles, dataFileCandidates, dataFolders, findDataFile } from "@empo/core/DataFolder"
import { Plugins } from "@empo/experiments/Plugins"
import { NltkTokenizer } from "@empo/text"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

// A handful of built-in exchanges, so the smoke run needs no data files and no download.
const EXCHANGES: ReadonlyArray<readonly [string, string]> = [
  ["I finally passed my driving test today!", "Congratulations! That must feel amazing after all the practice."],
  ["My dog passed away last week.", "I am so sorry for your loss. Dogs are family."],
  ["I got stuck in traffic for three hours.", "That sounds exhausting. Did you make it in time?"],
  ["My sister surprised me with a visit.", "How lovely! What did you two do together?"],
  ["I lost my wallet on the bus.", "Oh no, I hope someone turns it in. Did you cancel your cards?"],
  ["I was so nervous before my interview.", "That is normal. How do you think it went?"],
  ["Someone broke into my car last night.", "That is awful. Was anything taken?"],
  ["I am proud of my son for graduating.", "You should be! That is a big achievement for both of you."]
]

const json = Options.boolean("json").pipe(Options.withDescription("print the report as JSON on stdout"))

/** One data file a default needs: where it was found, or every place looked in. */
interface DataFileReport {
  readonly name: string
  readonly usedBy: string
  readonly found: string | null
  readonly searched: ReadonlyArray<string>
  readonly hint?: string
}

/**
 * The data files that defaults read (metric params, the vad-distance lexicon, Punkt), looked up as `empo run`
 * and `empo eval` do: the first check before a long run.
 */
export const dataFilesReport = Effect.gen(function* () {
  const path = yield* Path.Path
  const plugins = yield* Plugins
  const folders = yield* dataFolders
  const reports: Array<DataFileReport> = []
  const punkt = yield* NltkTokenizer.locatePunkt
  reports.push(punkt._tag === "Found"
    ? { name: "Punkt parameters", usedBy: "metrics that tokenize", found: punkt.path, searched: [] }
    : { name: "Punkt parameters", usedBy: "metrics that tokenize", found: null, searched: punkt.searched, hint: NltkTokenizer.PUNKT_HINT })
  const wanted = [
    ...plugins.metrics.flatMap((p) => (p.manifest.files ?? []).flatMap((f) =>
      f.dataFile === undefined ? [] : [{ dataFile: f.dataFile, usedBy: `${p.manifest.id}.${f.param}`, hint: f.hint }])),
    { dataFile: DataFiles.vadLexicon, usedBy: "data.lexicon of the vad-distance grounder", hint: undefined }
  ]
  for (const w of wanted) {
    const found = yield* findDataFile(w.dataFile)
    reports.push({
      name: w.dataFile, usedBy: w.usedBy, found: Option.getOrNull(found),
      searched: Option.isSome(found) ? [] : dataFileCandidates(folders, w.dataFile, path),
      ...(Option.isNone(found) && w.hint !== undefined ? { hint: w.hint } : {})
    })
  }
  return { dataDir: Option.getOrNull(folders.dataDir), cacheDir: folders.cacheDir, files: reports }
})

const renderDataFiles = (report: Effect.Effect.Success<typeof dataFilesReport>): string => [
  `data folder: ${report.dataDir ?? "(EMPO_DATA_DIR not set)"}; cache: ${report.cacheDir}`,
  ...report.files.map((f) => f.found !== null
    ? `  ok       ${f.name} (${f.usedBy}): ${f.found}`
    : `  missing  ${f.name} (${f.usedBy}): looked in ${f.searched.join(", ")}${f.hint === undefined ? "" : `; ${f.hint}`}`)
].join("\n")

export const doctorCommand = Command.make("doctor", { json }, (flags) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dataFiles = yield* dataFilesReport
    if (!flags.json) yield* Console.error(renderDataFiles(dataFiles))
    const backend = yield* TrainingBackend
    const versions = yield* backend.versions
    const runningFrom = process.env["EMPO_RUNNING_FROM"] ?? "sources"
    if (!flags.json) {
      yield* Console.error(`empo running from: ${runningFrom}`)
      yield* Console.error(`python ${versions.python} (${versions.executable})`)
      yield* Console.error(Object.entries(versions.packages).map(([name, v]) => `  ${name} ${v ?? "(not installed)"}`).join("\n"))
      yield* Console.error(`accelerator: ${versions.cuda ? versions.devices.join(", ") : "none (CPU)"}; torch threads ${versions.threads}`)
      yield* Console.error("smoke test: tiny model + 2 DPO steps through the bridge …")
    }
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "empo-doctor-" })
    const corpus = path.join(dir, "dialogues.jsonl")
    const pairs = path.join(dir, "pairs.jsonl")
    const message = (role: string, content: string) => ({ role, content })
    yield* fs.writeFileString(corpus, EXCHANGES.map(([u, a]) => JSON.stringify({ messages: [message("user", u), message("assistant", a)] }) + "\n").join(""))
    yield* fs.writeFileString(pairs, EXCHANGES.map(([u, a], i) =>
      JSON.stringify({ prompt: [message("user", u)], chosen: [message("assistant", a)], rejected: [message("assistant", EXCHANGES[(i + 3) % EXCHANGES.length]![1])] }) + "\n"
    ).join(""))
    const model = path.join(dir, "tiny")
    yield* backend.tinyModel(new TinyModelRequest({ corpus, outputDir: model, vocab: 400, hidden: 64, layers: 1 }))
    const events = yield* Stream.runCollect(backend.train(new TrainRequest({
      stage: "dpo",
      model,
      trainData: pairs,
      outputDir: path.join(dir, "dpo"),
      hyper: new TrainHyperParameters({ learningRate: 1e-3, batchSize: 4, maxSteps: 2, maxLength: 64, beta: 0.1 })
    })))
    const losses = [...events].flatMap((e) => (e._tag === "log" && e.loss !== undefined ? [e.loss] : []))
    const report = { runningFrom, ...versions, dataFiles, smoke: { stage: "dpo", steps: losses.length, losses } }
    if (flags.json) yield* Console.log(JSON.stringify(report, null, 2))
    else yield* Console.log(`ok: DPO losses ${losses.map((l) => l.toFixed(4)).join(", ")}`)
  }).pipe(Effect.scoped, Effect.provide(TrainingBackendLive))
).pipe(Command.withDescription("Check the data files defaults read (Punkt, NRC lexicons, ED counts: EMPO_DATA_DIR, then the cache) and the Python worker: interpreter, package versions, CUDA, and a 2-step DPO smoke training"))
