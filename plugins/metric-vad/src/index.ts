import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { DataFiles, resolveDataFile } from "@empo/core/DataFolder"
import { defineMetric, Metric, MetricError, MetricResource, MetricScores, type EvalItem } from "@empo/core/Metric"
import { Tokenizer } from "@empo/core/Tokenizer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import { LexiconLineError, parseIntensityLexicon, parseVadLexicon } from "./Lexicons.ts"
import { aggregateVad, VAD_COLUMNS, VAD_KEYS, vadProfile, vadRow, type VadColumn } from "./scoreVad.ts"

export * from "./Lexicons.ts"
export * from "./scoreVad.ts"

const ID = "vad"
const VERSION = "1.0.0"

/**
 * Where the NRC lexicons are (they cannot be downloaded for you: their terms of use must be accepted). Absent:
 * `lexicons/…` of the data folder (`EMPO_DATA_DIR`, then the cache), never the working directory.
 */
export const VadParams = Schema.Struct({
  vadLexicon: Schema.optional(Schema.NonEmptyString),
  intensityLexicon: Schema.optional(Schema.NonEmptyString)
})
export type VadParams = typeof VadParams.Type

const NRC_HINT = "the NRC lexicons are free for research from NRC Canada (saifmohammad.com) under their terms of use"

/** The data-folder file each lexicon param defaults to. */
const defaultFile: Record<keyof VadParams, string> = { vadLexicon: DataFiles.vadLexicon, intensityLexicon: DataFiles.intensityLexicon }

/** The lexicon a param names, else the data folder's copy. */
const lexiconPath = (params: VadParams, param: keyof VadParams) =>
  params[param] !== undefined
    ? Effect.succeed(params[param])
    : resolveDataFile(defaultFile[param]).pipe(Effect.mapError((error) =>
      new MetricError({ metric: ID, reason: `no \`${param}\` param: ${error.message}; ${NRC_HINT}`, inputFault: true })))

const readLexicon = <A>(param: keyof VadParams, path: string, parse: (text: string) => A) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) =>
        new MetricError({
          metric: ID,
          reason: `cannot read lexicon ${path} (param \`${param}\`): ${error.message}; ${NRC_HINT}`,
          inputFault: true
        }))
    )
    const lexicon = yield* Effect.try({
      try: () => parse(text),
      catch: (error) =>
        new MetricError({
          metric: ID,
          reason: error instanceof LexiconLineError
            ? `${path}:${error.line}: ${error.reason} (field \`${error.field}\`)`
            : `${path}: ${String(error)}`,
          inputFault: true
        })
    })
    const resource = new MetricResource({
      name: paths.basename(path),
      sha256: createHash("sha256").update(text, "utf8").digest("hex")
    })
    return { lexicon, resource }
  })

const makeVadMetric = Effect.fn("VadMetric.make")(function* (params: VadParams) {
  const tokenizer = yield* Tokenizer
  const vad = yield* readLexicon("vadLexicon", yield* lexiconPath(params, "vadLexicon"), parseVadLexicon)
  const intensity = yield* readLexicon("intensityLexicon", yield* lexiconPath(params, "intensityLexicon"), parseIntensityLexicon)
  const lexicons = { vad: vad.lexicon, intensity: intensity.lexicon }
  const resources = [vad.resource, intensity.resource, new MetricResource(tokenizer.resource)]

  // The study lower-cases the whole text before tokenizing (`word_tokenize(text.lower())`).
  const profile = (text: string) => vadProfile(tokenizer.wordTokenize(text.toLowerCase()), lexicons)

  const score = Effect.fn("VadMetric.score")(function* (items: ReadonlyArray<EvalItem>) {
    // Predictions without a `prevs` column read with every context empty; differences to nothing are not scores.
    if (items.length > 0 && items.every((item) => item.context === "")) {
      return yield* new MetricError({
        metric: ID, inputFault: true,
        reason: "needs the user turn before each response (column `prevs`, JSONL key `prev`); every item's is empty"
      })
    }
    const columns = Object.fromEntries(VAD_COLUMNS.map((name) => [name, [] as Array<number>])) as Record<VadColumn, Array<number>>
    for (const item of items) {
      const row = vadRow(profile(item.context), profile(item.response))
      for (const name of VAD_COLUMNS) columns[name].push(row[name])
    }
    return new MetricScores({ metric: ID, version: VERSION, params, resources, perItem: columns, aggregate: aggregateVad(columns) })
  })

  return Metric.of({ id: ID, version: VERSION, params, resources, score })
})

/** The `vad` metric plugin. */
export const plugin = defineMetric<VadParams>({
  manifest: {
    id: ID,
    kind: "metric",
    version: VERSION,
    description: "Valence/arousal/dominance and emotion intensity of the context (prev) minus the response, NRC lexicons (EmPO §5.3)",
    keys: VAD_KEYS,
    files: [
      { param: "vadLexicon", dataFile: DataFiles.vadLexicon, hint: NRC_HINT },
      { param: "intensityLexicon", dataFile: DataFiles.intensityLexicon, hint: NRC_HINT }
    ]
  },
  params: VadParams,
  layer: (params) => Layer.effect(Metric, makeVadMetric(params))
})
