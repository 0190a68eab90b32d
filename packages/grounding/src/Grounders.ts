import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { DataFiles, resolveDataFile } from "@empo/core/DataFolder"
import { ED_EMOTIONS, type Emotion, Grounder, type GrounderShape, InputError, IoError, isEmotion } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as YAML from "yaml"
import { PLUTCHIK_1, PLUTCHIK_ORIGINAL } from "./Maps.ts"

/** The grounder ids `--grounder` accepts. */
export const GrounderId = Schema.Literal("plutchik-1", "plutchik-original", "user-map", "vad-distance", "random", "same-emotion")
export type GrounderId = typeof GrounderId.Type

/** Registry entry: what a grounder does and which extra input it needs. */
export interface GrounderInfo {
  readonly id: GrounderId
  readonly description: string
  readonly requires: "nothing" | "grounder-map" | "lexicon"
}

/** Every grounder, in `--help` order. */
export const GROUNDERS: ReadonlyArray<GrounderInfo> = [
  { id: "plutchik-1", requires: "nothing", description: "the EmPO study's map (plutchik_1): one opposite per label from Plutchik's wheel, dyads and proposed pairs" },
  { id: "plutchik-original", requires: "nothing", description: "the study's partial map (plutchik_original): only the 9 wheel opposites; the other 23 labels yield no pairs" },
  { id: "user-map", requires: "grounder-map", description: "a researcher's own theory from a YAML map `label: opposite` or `label: [opposite, …]` (--grounder-map)" },
  { id: "vad-distance", requires: "lexicon", description: "the label farthest from the prompt's label in NRC-VAD valence–arousal–dominance space (--lexicon; default: the data folder's lexicons/NRC-VAD-Lexicon.txt)" },
  { id: "random", requires: "nothing", description: "any other emotion (a baseline without theory)" },
  { id: "same-emotion", requires: "nothing", description: "the prompt's own emotion, other dialogues (a control)" }
]

/** The registry entry for an id, or an InputError that lists the known ids. */
export const lookupGrounder = (id: string): Effect.Effect<GrounderInfo, InputError> => {
  const info = GROUNDERS.find((g) => g.id === id)
  return info === undefined
    ? Effect.fail(new InputError({ reason: `unknown grounder ${JSON.stringify(id)}; known grounders: ${GROUNDERS.map((g) => g.id).join(", ")}`, field: "--grounder" }))
    : Effect.succeed(info)
}

/** A grounder from a total or partial label → opposites table. */
export const fromTable = (id: string, description: string, table: Readonly<Partial<Record<Emotion, ReadonlyArray<Emotion>>>>): GrounderShape => ({
  id,
  description,
  opposites: (emotion) => table[emotion] ?? []
})

const single = (map: Readonly<Partial<Record<Emotion, Emotion>>>) =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [k, [v]])) as Partial<Record<Emotion, ReadonlyArray<Emotion>>>

/** `plutchik-1`. */
export const plutchik1: GrounderShape = fromTable("plutchik-1", GROUNDERS[0]!.description, single(PLUTCHIK_1))
/** `plutchik-original`. */
export const plutchikOriginal: GrounderShape = fromTable("plutchik-original", GROUNDERS[1]!.description, single(PLUTCHIK_ORIGINAL))
/** `random`: every other label is an opposite; the sampler picks among their dialogues uniformly. */
export const randomOther: GrounderShape = fromTable("random", GROUNDERS[4]!.description, Object.fromEntries(ED_EMOTIONS.map((e) => [e, ED_EMOTIONS.filter((o) => o !== e)])))
/** `same-emotion`. */
export const sameEmotion: GrounderShape = fromTable("same-emotion", GROUNDERS[5]!.description, Object.fromEntries(ED_EMOTIONS.map((e) => [e, [e]])))

/**
 * Parses a user map. Accepted shapes: `label: opposite`, `label: [a, b]`, optionally under a top-level
 * `opposites:` key. Every key and label must be one of the 32 ED labels; errors name file:line and the
 * offending key or label. Labels not listed yield no pairs (like `plutchik-original`).
 */
export const parseUserMap = (text: string, file: string): Partial<Record<Emotion, ReadonlyArray<Emotion>>> | InputError => {
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true })
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range
    return range === undefined ? undefined : lineCounter.linePos(range[0]).line
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    return new InputError({ reason: `invalid YAML: ${e.message.split("\n")[0]}`, file, line: e.linePos?.[0].line ?? 1 })
  }
  let root: unknown = doc.contents
  if (YAML.isMap(root) && root.items.length === 1 && YAML.isScalar(root.items[0]!.key) && root.items[0]!.key.value === "opposites") root = root.items[0]!.value
  if (!YAML.isMap(root)) return new InputError({ reason: "expected a mapping `label: opposite` (or `label: [opposite, …]`)", file, line: lineOf(root) ?? 1 })
  const table: Partial<Record<Emotion, Array<Emotion>>> = {}
  for (const pair of root.items) {
    const key = YAML.isScalar(pair.key) ? pair.key.value : undefined
    const keyLine = lineOf(pair.key) ?? 1
    if (!isEmotion(key)) return new InputError({ reason: `unknown emotion label ${JSON.stringify(key)} as a key (expected one of the 32 ED labels)`, file, line: keyLine, field: String(key) })
    const values = YAML.isSeq(pair.value) ? pair.value.items : [pair.value]
    const opposites: Array<Emotion> = []
    for (const node of values) {
      const label = YAML.isScalar(node) ? node.value : undefined
      if (!isEmotion(label)) {
        return new InputError({ reason: `unknown opposite label ${JSON.stringify(label ?? null)} for ${key} (expected one of the 32 ED labels)`, file, line: lineOf(node) ?? keyLine, field: key })
      }
      if (!opposites.includes(label)) opposites.push(label)
    }
    table[key] = opposites
  }
  return table
}

/** NRC-VAD coordinates of a label and the lexicon term they came from. */
export interface VadPoint {
  readonly term: string
  readonly vad: readonly [number, number, number]
}

/**
 * Terms tried, in order, for a label missing from the lexicon. Only `anticipating` is missing from
 * NRC-VAD v1; it falls back to Plutchik's own name for the emotion, `anticipation`. Generic fallbacks
 * (for other lexicons) strip -ing/-ed and try the stem, stem+e and stem+ion.
 */
export const VAD_FALLBACK_TERMS: Readonly<Partial<Record<Emotion, ReadonlyArray<string>>>> = { anticipating: ["anticipation", "anticipate"] }

const candidatesFor = (label: Emotion): Array<string> => {
  const stem = label.replace(/(ing|ed)$/, "")
  return [label, ...(VAD_FALLBACK_TERMS[label] ?? []), `${stem}e`, stem, `${stem}ion`]
}

/** Reads the 32 labels' VAD points from an NRC-VAD style file (`term\tvalence\tarousal\tdominance`). */
export const parseVadLexicon = (text: string, file: string): Record<Emotion, VadPoint> | InputError => {
  const wanted = new Set(ED_EMOTIONS.flatMap(candidatesFor))
  const found = new Map<string, readonly [number, number, number]>()
  let lineNo = 0
  for (const line of text.split("\n")) {
    lineNo++
    const tab = line.indexOf("\t")
    if (tab < 0) continue
    const term = line.slice(0, tab)
    if (!wanted.has(term)) continue
    const parts = line.slice(tab + 1).trim().split("\t").map(Number)
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) {
      return new InputError({ reason: `expected three numbers (valence, arousal, dominance) after ${JSON.stringify(term)}`, file, line: lineNo, field: term })
    }
    found.set(term, [parts[0]!, parts[1]!, parts[2]!])
  }
  const points: Partial<Record<Emotion, VadPoint>> = {}
  for (const label of ED_EMOTIONS) {
    const term = candidatesFor(label).find((t) => found.has(t))
    if (term === undefined) return new InputError({ reason: `the lexicon has no entry for the label ${label} nor its fallbacks (${candidatesFor(label).slice(1).join(", ")})`, file, field: label })
    points[label] = { term, vad: found.get(term)! }
  }
  return points as Record<Emotion, VadPoint>
}

/** For each label, the other label farthest in Euclidean VAD distance (ties: earlier in label order). */
export const farthestByVad = (points: Readonly<Record<Emotion, VadPoint>>): Record<Emotion, Emotion> => {
  const out: Partial<Record<Emotion, Emotion>> = {}
  for (const e of ED_EMOTIONS) {
    let best: Emotion | undefined
    let bestDistance = -1
    for (const o of ED_EMOTIONS) {
      if (o === e) continue
      const [a, b] = [points[e].vad, points[o].vad]
      const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])
      if (d > bestDistance) {
        bestDistance = d
        best = o
      }
    }
    out[e] = best!
  }
  return out as Record<Emotion, Emotion>
}

/** What building a grounder needs: its id and, for `user-map`/`vad-distance`, a file. */
export class GrounderOptions extends Schema.Class<GrounderOptions>("GrounderOptions")({
  grounder: Schema.String,
  grounderMap: Schema.optional(Schema.String),
  lexicon: Schema.optional(Schema.String)
}) {}

/** Builds the grounder an id (and its file) stands for. */
export const makeGrounder = Effect.fn("Grounders.makeGrounder")(function*(options: GrounderOptions) {
  const info = yield* lookupGrounder(options.grounder)
  const fs = yield* FileSystem.FileSystem
  const readText = (file: string, flag: string) =>
    fs.readFileString(file).pipe(Effect.catchTags({
      SystemError: (e) => e.reason === "NotFound" ? Effect.fail(new InputError({ reason: "file not found", file, field: flag })) : Effect.fail(new IoError({ operation: "read", path: file, cause: e })),
      BadArgument: (e) => Effect.fail(new IoError({ operation: "read", path: file, cause: e }))
    }))
  if (options.grounderMap !== undefined && info.id !== "user-map") {
    return yield* new InputError({ reason: `--grounder-map is only used with --grounder user-map (got ${info.id})`, field: "--grounder-map" })
  }
  switch (info.id) {
    case "plutchik-1":
      return plutchik1
    case "plutchik-original":
      return plutchikOriginal
    case "random":
      return randomOther
    case "same-emotion":
      return sameEmotion
    case "user-map": {
      if (options.grounderMap === undefined) return yield* new InputError({ reason: "--grounder user-map needs --grounder-map <file.yaml>", field: "--grounder-map" })
      const table = parseUserMap(yield* readText(options.grounderMap, "--grounder-map"), options.grounderMap)
      if (table instanceof InputError) return yield* table
      return fromTable("user-map", `${info.description}: ${options.grounderMap}`, table)
    }
    case "vad-distance": {
      // Without a lexicon, the data folder's NRC-VAD copy (EMPO_DATA_DIR, then the cache), never the working directory.
      const lexicon = options.lexicon ?? (yield* resolveDataFile(DataFiles.vadLexicon).pipe(Effect.mapError((e) =>
        new InputError({ reason: `the vad-distance grounder needs an NRC-VAD lexicon (\`data.lexicon\` of an experiment, --lexicon of \`empo data build\`): ${e.message}`, field: "lexicon" }))))
      const points = parseVadLexicon(yield* readText(lexicon, "lexicon"), lexicon)
      if (points instanceof InputError) return yield* points
      const farthest = farthestByVad(points)
      return fromTable("vad-distance", `${info.description}: ${lexicon}`, single(farthest))
    }
  }
})

/** The {@link Grounder} service for the given options. */
export const layer = (options: GrounderOptions): Layer.Layer<Grounder, InputError | IoError, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Grounder, makeGrounder(options).pipe(Effect.map((g) => Grounder.of(g))))
