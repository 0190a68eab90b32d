import { DataFiles, dataFileCandidates, dataFolders, findDataFile } from "@empo/core/DataFolder"
import { loadPreset, resolveOptimizerParams } from "@empo/core/Optimizer"
import { locatePunkt, PUNKT_HINT, type PunktLocation } from "@empo/text/NltkTokenizer"
import type { ParamValue, StageId } from "@empo/store"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as YAML from "yaml"
import { DataSpec, ExecutorSpec, ExperimentSpec, ModelSpec, RunConfig, StagesSpec } from "./ExperimentSpec.ts"
import { makeContentHasher, setPath } from "./internal/canonical.ts"
import { makeTupleMemo } from "./internal/memo.ts"
import { closestName } from "./internal/didYouMean.ts"
import { type ExperimentPlan, flattenParams, makeRunLabeler, makeStagePlanner, type PlannedRun, type PlannedStage, type ResolvedMetric, type ResolvedTrainStage, runId } from "./Plan.ts"
import { Plugins, stagePluginsOf } from "./Plugins.ts"
import type { StagePlugin } from "./Stage.ts"
import { SpecError, SpecIssue } from "./SpecError.ts"
import { type Assignment, expandSweep, isExcluded } from "./Sweep.ts"

type PathKey = string | number

/**
 * Parses YAML (duplicate keys refused) keeping positions: the document and `at(path)` → line and column, or one
 * {@link SpecIssue} per syntax error. What experiment files and executor inventories share.
 */
export const parseYaml = (text: string):
  | { readonly doc: YAML.Document.Parsed; readonly at: (path: ReadonlyArray<PathKey>) => { line: number; column: number } }
  | { readonly issues: [SpecIssue, ...Array<SpecIssue>] } => {
  const lines = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const [first, ...rest] = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0])
    return new SpecIssue({ line: pos.line, column: pos.col, field: "", message: `YAML syntax: ${e.message.split("\n")[0]}` })
  })
  if (first !== undefined) return { issues: [first, ...rest] }
  return { doc, at: (path) => locate(doc, lines, path) }
}

/**
 * Finds where a field path lives in the YAML: a scalar's value, a collection's key (so `sweep.zip:` points
 * at its own line), or for a missing field the key of its deepest existing ancestor. 1-based line and column.
 */
export const locate = (doc: YAML.Document.Parsed, lines: YAML.LineCounter, path: ReadonlyArray<PathKey>): { line: number; column: number } => {
  let node: unknown = doc.contents
  let offset = (doc.contents as YAML.Node | null)?.range?.[0] ?? 0
  for (const key of path) {
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => (YAML.isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(key))
      if (pair === undefined) break
      const keyNode = pair.key as YAML.Node | null
      const valueNode = pair.value as YAML.Node | null
      offset = (YAML.isScalar(valueNode) ? valueNode.range?.[0] : keyNode?.range?.[0]) ?? offset
      node = valueNode
    } else if (YAML.isSeq(node) && typeof key === "number" && node.items[key] !== undefined) {
      const item = node.items[key] as YAML.Node
      offset = item.range?.[0] ?? offset
      node = item
    } else {
      break
    }
  }
  const pos = lines.linePos(offset)
  return { line: pos.line, column: pos.col }
}

// `Expected "valid", actual "vaild"`: a literal (one member of a union of literals) that the value is not.
const literalMismatch = /^Expected ("(?:[^"\\]|\\.)*"|-?\d[\d.e+-]*|true|false|null), actual ([\s\S]*)$/
const typeMismatch = /^Expected ([\s\S]+), actual ([\s\S]*)$/
const excessKey = /^is unexpected, expected: ([\s\S]*)$/

const unquote = (text: string): string => (text.startsWith("\"") ? JSON.parse(text) as string : text)

const didYouMean = (name: string, known: ReadonlyArray<string>): string => {
  const close = closestName(name, known)
  return close === undefined ? "" : `; did you mean ${close}?`
}

/** `; did you mean x?` for a likely typo, else the known names (or nothing when there are none). */
const suggestion = (name: string, known: ReadonlyArray<string>): string =>
  closestName(name, known) !== undefined ? didYouMean(name, known) : known.length > 0 ? `; known: ${known.join(", ")}` : ""

/** What one field of the file is: the last named segment of its path (`grounder`, `split`), else "value". */
const nounOf = (path: ReadonlyArray<PathKey>): string => {
  const last = path.at(-1)
  return typeof last === "string" ? last : "value"
}

type FlatIssue = { readonly _tag: string; readonly path: ReadonlyArray<PathKey>; readonly message: string }

// One issue of Effect's flat list as a sentence a user can act on.
const sentenceOf = (issue: FlatIssue): string => {
  if (issue._tag === "Unexpected") {
    const known = excessKey.exec(issue.message)?.[1]?.split(" | ").map(unquote) ?? []
    return `unknown ${issue.path.includes("params") ? "parameter" : "field"}${suggestion(String(issue.path.at(-1) ?? ""), known)}`
  }
  if (issue._tag === "Missing") return "required, but the file does not set it"
  const mismatch = typeMismatch.exec(issue.message)
  return mismatch === null ? issue.message : `expected ${mismatch[1]}, got ${mismatch[2]}`
}

/**
 * Every problem of a decode as one located sentence per field: a union of literals (`grounder`, `split`) reads
 * `unknown grounder "x"; known: …` once instead of one line per alternative, an unknown key suggests the
 * closest known one, and a union member that failed only on the value's type is dropped when another got
 * further (the mapping form of a metric reference, not "expected string").
 */
export const issuesFromParseError = (
  error: ParseResult.ParseError,
  at: (path: ReadonlyArray<PathKey>) => { line: number; column: number },
  prefix: ReadonlyArray<PathKey> = []
): Array<SpecIssue> => {
  const flat: Array<FlatIssue> = ParseResult.ArrayFormatter.formatErrorSync(error)
    // An optional block that fails reports both its inner problem and "Expected undefined"; keep the inner one.
    .filter((issue, _, all) => !(issue.message.startsWith("Expected undefined") && all.length > 1))
    .map((issue) => ({ _tag: issue._tag, message: issue.message, path: [...prefix, ...issue.path.map((k) => (typeof k === "symbol" ? String(k) : k))] }))
  const byField = new Map<string, Array<FlatIssue>>()
  for (const issue of flat) byField.set(issue.path.join("."), [...(byField.get(issue.path.join(".")) ?? []), issue])
  const fields = [...byField.keys()]
  const out: Array<SpecIssue> = []
  for (const [field, group] of byField) {
    const deeper = fields.some((f) => f !== field && (field === "" || f.startsWith(`${field}.`)))
    const issues = deeper ? group.filter((i) => !(i._tag === "Type" && typeMismatch.test(i.message))) : group
    const path = group[0]!.path
    const literals = issues.map((i) => (i._tag === "Type" ? literalMismatch.exec(i.message) : null))
    if (issues.length > 0 && literals.every((m) => m !== null)) {
      const known = [...new Set(literals.map((m) => unquote(m![1]!)))]
      const actual = literals[0]![2]!
      const message = actual.startsWith("\"")
        ? `unknown ${nounOf(path)} ${actual}; known: ${known.join(", ")}${didYouMean(unquote(actual), known)}`
        : `expected one of ${known.join(", ")}, got ${actual}`
      out.push(new SpecIssue({ ...at(path), field, message }))
      continue
    }
    for (const issue of issues) out.push(new SpecIssue({ ...at(path), field, message: sentenceOf(issue) }))
  }
  return out
}

const interpolation = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** Expands `${VAR}` and `${VAR:-default}` from the environment (through `Config`, so tests can set it). */
const interpolate = (text: string): Effect.Effect<{ readonly value: string; readonly missing: ReadonlyArray<string> }> =>
  Effect.gen(function* () {
    const missing: Array<string> = []
    let value = text
    for (const match of [...text.matchAll(interpolation)]) {
      const [whole, name, fallback] = match
      const found = yield* Config.option(Config.string(name!)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      const replacement = Option.isSome(found) && found.value !== "" ? found.value : fallback
      if (replacement === undefined) missing.push(name!)
      value = value.replace(whole, replacement ?? "")
    }
    return { value, missing }
  })

/** Expands `${VAR}` in every string of the parsed YAML, reporting unset variables by field path. */
const interpolateAll = (
  value: unknown,
  at: ReadonlyArray<PathKey>,
  onMissing: (path: ReadonlyArray<PathKey>, names: ReadonlyArray<string>) => void
): Effect.Effect<unknown> =>
  Effect.gen(function* () {
    if (typeof value === "string") {
      const { value: expanded, missing } = yield* interpolate(value)
      if (missing.length > 0) onMissing(at, missing)
      return expanded
    }
    if (Array.isArray(value)) return yield* Effect.forEach(value, (v, i) => interpolateAll(v, [...at, i], onMissing))
    if (value !== null && typeof value === "object") {
      const entries = yield* Effect.forEach(Object.entries(value), ([k, v]) => Effect.map(interpolateAll(v, [...at, k], onMissing), (x) => [k, x] as const))
      return Object.fromEntries(entries)
    }
    return value
  })

// The plugin's Schema sees the params it will get (the preset overlaid with the file's), with every error
// reported: a file param is located on its own line, a value that came from the preset at `preset`.
const paramIssues = (
  schema: Schema.Schema<any, any>,
  params: { readonly preset: { readonly name: string; readonly values: Readonly<Record<string, unknown>> } | undefined; readonly file: Readonly<Record<string, unknown>> },
  stage: ReadonlyArray<PathKey>,
  where: (path: ReadonlyArray<PathKey>) => { line: number; column: number }
): Effect.Effect<ReadonlyArray<SpecIssue>> =>
  Schema.decodeUnknown(schema)({ ...params.preset?.values, ...params.file }, { onExcessProperty: "error", errors: "all" }).pipe(
    Effect.as([]),
    Effect.catchTag("ParseError", (error) =>
      Effect.succeed(issuesFromParseError(error, where, [...stage, "params"]).map((issue) => {
        const key = issue.field.split(".")[stage.length + 1]
        const fromPreset = params.preset !== undefined && key !== undefined && !(key in params.file) && key in params.preset.values
        return fromPreset
          ? new SpecIssue({ ...where([...stage, "preset"]), field: [...stage, "preset"].join("."), message: `preset ${params.preset!.name} sets ${key}: ${issue.message}` })
          : issue
      })))
  )

/**
 * The `stages:` Schema of a catalogue: every section a stage plugin owns, optional, unknown sections refused. The
 * built-in catalogue decodes exactly as {@link StagesSpec}; a plugin's own sections are added beside them.
 */
export const stagesSchemaOf = (stagePlugins: ReadonlyArray<StagePlugin>): Schema.Schema<any, any> => {
  const builtin = new Set(Object.keys(StagesSpec.fields))
  const extra = Object.fromEntries(stagePlugins.flatMap((p) => Object.entries(p.sections ?? {}))
    .filter(([key]) => !builtin.has(key))
    .map(([key, schema]) => [key, Schema.optional(schema)]))
  return Object.keys(extra).length === 0 ? StagesSpec : Schema.Struct({ ...StagesSpec.fields, ...extra })
}

const experimentSchemaOf = (stages: Schema.Schema<any, any>): Schema.Schema<ExperimentSpec, any> =>
  stages === StagesSpec ? ExperimentSpec : Schema.Struct({ ...ExperimentSpec.fields, stages }) as unknown as Schema.Schema<ExperimentSpec, any>

const metricIdOf = (ref: string | { readonly id: string }) => (typeof ref === "string" ? ref : ref.id)

/**
 * Reads an experiment file and turns it into a plan: YAML → `ExperimentSpec` (phase 1) → sweep expansion →
 * each run's `RunConfig` → plugin params decoded by each plugin's own Schema (phase 2) → content-addressed stages.
 * Every problem is reported with `file:line:col` and the field path.
 */
export const loadExperiment = Effect.fn("loadExperiment")(function* (file: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const plugins = yield* Plugins
  const stagePlugins = stagePluginsOf(plugins)
  const stagesSchema = stagesSchemaOf(stagePlugins)
  const experimentSchema = experimentSchemaOf(stagesSchema)
  const runSections = { data: DataSpec, model: ModelSpec, stages: stagesSchema, executor: ExecutorSpec } as const
  const fail = (issues: ReadonlyArray<SpecIssue>) => Effect.fail(new SpecError({ file, issues: issues as [SpecIssue, ...Array<SpecIssue>] }))

  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((e) => new SpecError({ file, issues: [new SpecIssue({ line: 1, column: 1, field: "", message: `cannot read the file: ${e.message}` })] }))
  )
  const parsedYaml = parseYaml(text)
  if ("issues" in parsedYaml) return yield* fail(parsedYaml.issues)
  const { at } = parsedYaml
  const parsed: unknown = parsedYaml.doc.toJS()
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return yield* fail([new SpecIssue({ ...at([]), field: "", message: "expected a mapping with name, data, model and stages" })])
  }
  const missing: Array<SpecIssue> = []
  const raw = yield* interpolateAll(parsed, [], (p, names) =>
    missing.push(new SpecIssue({ ...at(p), field: p.join("."), message: `environment variable ${names.join(", ")} is not set and has no :-default` })))
  if (missing.length > 0) return yield* fail(missing)
  const spec = yield* Schema.decodeUnknown(experimentSchema)(raw, { onExcessProperty: "error", errors: "all" }).pipe(
    Effect.catchTag("ParseError", (e) => fail(issuesFromParseError(e, at)))
  )

  const expanded = expandSweep(spec.sweep)
  if ("problems" in expanded) {
    return yield* fail(expanded.problems.map((p) => new SpecIssue({ ...at(p.axis), field: p.axis.join("."), message: p.message })))
  }

  const dataSource = path.resolve(spec.data.source)

  const { sweep: _sweep, seeds: _seeds, description: _description, ...base } = Schema.encodeSync(experimentSchema)(spec)
  const optimizerIds = plugins.optimizers.map((p) => p.manifest.id).sort()
  const metricIds = plugins.metrics.map((p) => p.manifest.id).sort()
  // Scoped to this planning: runs share sections and stages, so their texts and hashes are computed once.
  const hasher = makeContentHasher()
  const trainCache = new Map<string, ResolvedTrainStage | SpecIssue | ReadonlyArray<SpecIssue>>()
  const metricCache = new Map<string, ResolvedMetric | SpecIssue | ReadonlyArray<SpecIssue>>()

  // Resources: every file a stage will read is checked now, so a missing lexicon fails the plan (and --dry-run),
  // not the last stage of every run after hours of training. Each distinct section is checked once.
  const isFile = (file: string) => fs.stat(path.resolve(file)).pipe(Effect.map((info) => info.type === "File"), Effect.orElseSucceed(() => false))
  const existsAt = (file: string) => fs.exists(path.resolve(file)).pipe(Effect.orElseSucceed(() => false))
  const folders = yield* dataFolders
  const lookedIn = (relative: string) => dataFileCandidates(folders, relative, path).join(", ")
  const dataCheckCache = new Map<boolean, Map<DataSpec, ReadonlyArray<SpecIssue>>>([[true, new Map()], [false, new Map()]])
  const metricFileCache = new Map<string, ReadonlyArray<SpecIssue>>()
  let punktLocation: PunktLocation | undefined
  type Where = (f: ReadonlyArray<PathKey>) => { line: number; column: number }
  const issueAt = (where: Where, field: ReadonlyArray<PathKey>, message: string) => new SpecIssue({ ...where(field), field: field.join("."), message })

  const checkData = (config: RunConfig, where: Where) =>
    Effect.gen(function* () {
      // Grounders read their files only for preference and KTO datasets.
      const grounds = config.stages.preference !== undefined
      const cache = dataCheckCache.get(grounds)!
      const cached = cache.get(config.data)
      if (cached !== undefined) return cached
      const data = config.data
      const found: Array<SpecIssue> = []
      if (!(yield* existsAt(data.source))) {
        found.push(issueAt(where, ["data", "source"], `the dataset ${data.source} does not exist (${path.resolve(data.source)})`))
      }
      if (grounds && data.grounder === "vad-distance") {
        if (data.lexicon !== undefined) {
          if (!(yield* isFile(data.lexicon))) found.push(issueAt(where, ["data", "lexicon"], `the NRC-VAD lexicon ${data.lexicon} does not exist (${path.resolve(data.lexicon)})`))
        } else if (Option.isNone(yield* findDataFile(DataFiles.vadLexicon))) {
          found.push(issueAt(where, ["data", "grounder"],
            `the vad-distance grounder needs an NRC-VAD lexicon: set data.lexicon, or put ${DataFiles.vadLexicon} in the data folder (looked in ${lookedIn(DataFiles.vadLexicon)})`))
        }
      }
      if (grounds && data.grounder === "user-map") {
        if (data.grounderMap === undefined) found.push(issueAt(where, ["data", "grounder"], "the user-map grounder needs data.grounderMap (a YAML map `label: opposite`)"))
        else if (!(yield* isFile(data.grounderMap))) found.push(issueAt(where, ["data", "grounderMap"], `the grounder map ${data.grounderMap} does not exist (${path.resolve(data.grounderMap)})`))
      }
      if (grounds && data.grounderMap !== undefined && data.grounder !== "user-map") {
        found.push(issueAt(where, ["data", "grounderMap"], `data.grounderMap is only read by the user-map grounder (data.grounder is ${data.grounder})`))
      }
      cache.set(config.data, found)
      return found
    })

  // The files a metric's params name (or its data-folder defaults), as its manifest declares them.
  const checkMetricFiles = (ref: string | { readonly id: string; readonly params: Readonly<Record<string, unknown>> }, i: number, where: Where) =>
    Effect.gen(function* () {
      const id = metricIdOf(ref)
      const params = typeof ref === "string" ? {} : ref.params
      const plugin = plugins.metrics.find((p) => p.manifest.id === id)
      const declared = plugin?.manifest.files ?? []
      if (plugin === undefined || declared.length === 0) return []
      const key = JSON.stringify([id, params])
      const cached = metricFileCache.get(key)
      if (cached !== undefined) return cached
      // Params that do not decode are reported by resolveMetric.
      const decoded = Schema.decodeUnknownOption(plugin.params)(params)
      const found: Array<SpecIssue> = []
      if (Option.isSome(decoded)) {
        const field = ["stages", "evaluate", "metrics", i]
        for (const file of declared) {
          const value = (decoded.value as Record<string, unknown>)[file.param]
          const hint = file.hint === undefined ? "" : `; ${file.hint}`
          if (typeof value === "string") {
            if (!(yield* isFile(value))) found.push(issueAt(where, [...field, "params", file.param], `metric ${id}: ${value} does not exist (${path.resolve(value)})${hint}`))
          } else if (value === undefined && file.dataFile !== undefined && Option.isNone(yield* findDataFile(file.dataFile))) {
            found.push(issueAt(where, field,
              `metric ${id}: params.${file.param} is not set and ${file.dataFile} is not in the data folder (looked in ${lookedIn(file.dataFile)}); set params.${file.param} or EMPO_DATA_DIR${hint}`))
          }
        }
      }
      metricFileCache.set(key, found)
      return found
    })

  // An evaluation whose metrics tokenize needs NLTK's Punkt data offline: a download at the last stage is too late.
  const checkPunkt = (metricRefs: ReadonlyArray<string | { readonly id: string }>, where: Where) =>
    Effect.gen(function* () {
      const tokenizing = metricRefs.map(metricIdOf).find((id) => plugins.metrics.find((p) => p.manifest.id === id)?.manifest.tokenizes !== false)
      if (tokenizing === undefined) return []
      punktLocation ??= yield* locatePunkt
      if (punktLocation._tag === "Found") return []
      return [issueAt(where, ["stages", "evaluate", "metrics"], `metric ${tokenizing} tokenizes with NLTK's Punkt data: ${punktLocation.reason}; ${PUNKT_HINT}`)]
    })

  // Where a problem of a swept field is reported: the axis's value in `sweep`, else the base field.
  const locateInRun = (assignment: Assignment, index: ReadonlyArray<number>, field: ReadonlyArray<PathKey>) => {
    const dotted = field.join(".")
    const axis = assignment.findIndex(([p]) => dotted === p || dotted.startsWith(`${p}.`) || p.startsWith(`${dotted}.`))
    if (axis < 0) return at(field)
    const axisPath = assignment[axis]![0]
    for (const block of ["grid", "zip"] as const) {
      if (spec.sweep?.[block][axisPath] !== undefined) return at(["sweep", block, axisPath, index[axis] ?? 0])
    }
    return at(["sweep", "random", "params", axisPath])
  }

  const resolveTrain = (stageName: "sft" | "preference", config: RunConfig, where: (f: ReadonlyArray<PathKey>) => { line: number; column: number }) =>
    Effect.gen(function* () {
      const stageSpec = config.stages[stageName]
      if (stageSpec === undefined) return undefined
      const key = JSON.stringify([stageSpec.optimizer, stageSpec.preset ?? null, stageSpec.params])
      const cached = trainCache.get(key)
      if (cached !== undefined) return cached
      const field = ["stages", stageName]
      const plugin = plugins.optimizers.find((p) => p.manifest.id === stageSpec.optimizer)
      // An unreadable or unknown preset is reported by resolveOptimizerParams below.
      const preset = stageSpec.preset === undefined || plugin === undefined ? undefined : yield* loadPreset(plugin, stageSpec.preset).pipe(
        Effect.map((values) => ({ name: stageSpec.preset!, values })),
        Effect.orElseSucceed(() => undefined),
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.provideService(Path.Path, path)
      )
      const issues = plugin === undefined || (stageSpec.preset !== undefined && preset === undefined) ? [] : yield* paramIssues(plugin.params, { preset, file: stageSpec.params }, field, where)
      const result: ResolvedTrainStage | SpecIssue | ReadonlyArray<SpecIssue> = plugin === undefined
        ? new SpecIssue({ ...where([...field, "optimizer"]), field: [...field, "optimizer"].join("."), message: `unknown optimizer \`${stageSpec.optimizer}\`; known optimizers: ${optimizerIds.join(", ") || "(none installed)"}${didYouMean(stageSpec.optimizer, optimizerIds)}` })
        : issues.length > 0 ? issues
        : (yield* resolveOptimizerParams(plugin, { preset: stageSpec.preset, overrides: stageSpec.params }).pipe(
          Effect.flatMap((params) => Schema.encode(plugin.params)(params).pipe(Effect.orDie)),
          Effect.map((params): ResolvedTrainStage | SpecIssue => ({
            optimizer: plugin.manifest.id, preset: stageSpec.preset ?? null, trainStage: plugin.manifest.stage, dataFormat: plugin.manifest.dataFormat,
            params: typeof params === "object" && params !== null ? hasher.remember(params) : params
          })),
          Effect.catchTag("BadArgument", (e) => Effect.succeed(new SpecIssue({ ...where([...field, "preset"]), field: [...field, "preset"].join("."), message: e.message }))),
          Effect.catchTag("InputError", (e) => {
            const sub = e.field === "preset" ? "preset" : "params"
            return Effect.succeed(new SpecIssue({ ...where([...field, sub]), field: [...field, sub].join("."), message: e.reason }))
          }),
          Effect.provideService(FileSystem.FileSystem, fs),
          Effect.provideService(Path.Path, path)
        ))
      trainCache.set(key, result)
      return result
    })

  const resolveMetric = (ref: string | { readonly id: string; readonly params: Readonly<Record<string, unknown>> }, i: number, where: (f: ReadonlyArray<PathKey>) => { line: number; column: number }) =>
    Effect.gen(function* () {
      const id = metricIdOf(ref)
      const params = typeof ref === "string" ? {} : ref.params
      const key = JSON.stringify([id, params])
      const cached = metricCache.get(key)
      if (cached !== undefined) return cached
      const field = ["stages", "evaluate", "metrics", i]
      const plugin = plugins.metrics.find((p) => p.manifest.id === id)
      const result: ResolvedMetric | SpecIssue | ReadonlyArray<SpecIssue> = plugin === undefined
        ? new SpecIssue({ ...where(field), field: field.join("."), message: `unknown metric \`${id}\`; known metrics: ${metricIds.join(", ") || "(none installed)"}${didYouMean(id, metricIds)}` })
        : yield* Schema.decodeUnknown(plugin.params)(params, { onExcessProperty: "error", errors: "all" }).pipe(
          Effect.flatMap((decoded) => Schema.encode(plugin.params)(decoded)),
          Effect.map((encoded): ResolvedMetric | ReadonlyArray<SpecIssue> => hasher.remember({ id, params: encoded })),
          Effect.catchTag("ParseError", (e) => Effect.succeed(issuesFromParseError(e, where, typeof ref === "string" ? field : [...field, "params"])))
        )
      metricCache.set(key, result)
      return result
    })

  // Every assignment sweeps the same paths in the same order.
  const sweptPaths = (expanded.assignments[0] ?? []).map(([p]) => p.split("."))
  const sweptConfig = (assignment: Assignment) =>
    assignment.reduce<unknown>((acc, [, v], i) => setPath(acc, sweptPaths[i]!, v), base) as Record<string, unknown>

  // Runs of a sweep share most of their sections, so each distinct section is decoded (and encoded, hashed and
  // flattened) once: a 10,000-run grid decodes a few hundred sections instead of 10,000 whole configs.
  type Section = { readonly decoded: unknown; readonly encoded: unknown; readonly params: Readonly<Record<string, ParamValue>> }
  const sectionCache = {
    data: makeTupleMemo<Section | null>(), model: makeTupleMemo<Section | null>(),
    stages: makeTupleMemo<Section | null>(), executor: makeTupleMemo<Section | null>()
  }
  const sectionSchema = (name: keyof typeof runSections) => runSections[name] as unknown as Schema.Schema<unknown, unknown>
  const strict = { onExcessProperty: "error", errors: "all" } as const
  // A section's raw value is the base section with the values swept under it, so those values (by identity:
  // they come from the sweep's lists) are its key; building the raw section or its text per run would cost more.
  const sectionAxes = (name: keyof typeof runSections) => sweptPaths.flatMap((p, i) => (p[0] === name ? [i] : []))
  const axesOf = { data: sectionAxes("data"), model: sectionAxes("model"), stages: sectionAxes("stages"), executor: sectionAxes("executor") }
  // Synchronous on purpose: this runs once per run of a sweep (10,000 for a big grid); null = invalid.
  const decodeSection = (name: keyof typeof runSections, assignment: Assignment): Section | null =>
    sectionCache[name](axesOf[name].map((i) => assignment[i]![1]), () => {
      const decoded = Schema.decodeUnknownOption(sectionSchema(name))(sweptConfig(assignment)[name], strict)
      if (Option.isNone(decoded)) return null
      const encoded = hasher.remember(Schema.encodeSync(sectionSchema(name))(decoded.value) as object)
      return { decoded: decoded.value, encoded, params: flattenParams(encoded, name) }
    })
  const unknownKeys = (candidate: Record<string, unknown>) =>
    Object.keys(candidate).filter((key) => !(key in runSections) && key !== "name" && key !== "seed")
  // Every assignment sets the same paths, so every run has the same top-level keys.
  const strayKeys = expanded.assignments.length === 0 ? [] : unknownKeys(sweptConfig(expanded.assignments[0]!))
  const decodeRunConfig = (assignment: Assignment, seed: number): {
    readonly config: RunConfig
    readonly configJson: Record<string, unknown>
    readonly params: Record<string, ParamValue>
  } | undefined => {
    if (strayKeys.length > 0) return undefined
    const parts: Record<string, Section> = {}
    for (const name of Object.keys(runSections) as Array<keyof typeof runSections>) {
      const result = decodeSection(name, assignment)
      if (result === null) return undefined
      parts[name] = result
    }
    const config = new RunConfig({
      name: spec.name, seed, data: parts["data"]!.decoded as DataSpec, model: parts["model"]!.decoded as ModelSpec,
      stages: parts["stages"]!.decoded as StagesSpec, executor: parts["executor"]!.decoded as ExecutorSpec
    }, true)
    const configJson = {
      name: spec.name, seed, data: parts["data"]!.encoded, model: parts["model"]!.encoded, stages: parts["stages"]!.encoded, executor: parts["executor"]!.encoded
    }
    // What flattenParams(configJson without name and executor) gives, in the same key order, from the flattened
    // sections: where a run executes is not one of its parameters (nor of its id).
    const params = { seed, ...parts["data"]!.params, ...parts["model"]!.params, ...parts["stages"]!.params }
    return { config, configJson, params }
  }
  // The slow path, only for invalid runs: decode again through Effect to get located issues.
  const explainRunConfig = (candidate: Record<string, unknown>, where: (f: ReadonlyArray<PathKey>) => { line: number; column: number }) =>
    Effect.gen(function* () {
      const problems = unknownKeys(candidate).map((key) =>
        new SpecIssue({ ...where([key]), field: key, message: `unknown field${suggestion(key, Object.keys(ExperimentSpec.fields))}` }))
      for (const name of Object.keys(runSections) as Array<keyof typeof runSections>) {
        const error = yield* Schema.decodeUnknown(sectionSchema(name))(candidate[name], strict).pipe(Effect.flip, Effect.option)
        if (Option.isSome(error)) problems.push(...issuesFromParseError(error.value, where, [name]))
      }
      return problems
    })

  const issues: Array<SpecIssue> = []
  const runs: Array<PlannedRun> = []
  const stages = new Map<StageId, PlannedStage>()
  const seenRuns = new Set<string>()
  const planStages = makeStagePlanner(stagePlugins, hasher)
  const runLabel = makeRunLabeler()
  // Train params and metrics depend only on the stages section, which runs share: each is resolved once.
  const resolvedStages = new Map<StagesSpec, {
    readonly sft: ResolvedTrainStage | SpecIssue | ReadonlyArray<SpecIssue> | undefined
    readonly preference: ResolvedTrainStage | SpecIssue | ReadonlyArray<SpecIssue> | undefined
    readonly metrics: ReadonlyArray<ResolvedMetric | SpecIssue | ReadonlyArray<SpecIssue>>
    readonly resources: ReadonlyArray<SpecIssue>
  }>()
  const indexOf = (assignment: Assignment) => assignment.map(([p, v]) => {
    const list = spec.sweep?.grid[p] ?? spec.sweep?.zip[p]
    return list === undefined ? 0 : list.findIndex((x) => JSON.stringify(x) === JSON.stringify(v))
  })

  const exclude = spec.sweep?.exclude ?? []
  const whereIn = (assignment: Assignment) => (f: ReadonlyArray<PathKey>) => locateInRun(assignment, indexOf(assignment), f)
  for (const assignment of expanded.assignments) {
    // The swept config itself is built only for exclude rules, sections not decoded yet and invalid runs.
    for (const seed of spec.seeds) {
      if (exclude.length > 0 && isExcluded({ ...sweptConfig(assignment), seed }, exclude)) continue
      const decoded = decodeRunConfig(assignment, seed)
      if (decoded === undefined) {
        issues.push(...(yield* explainRunConfig({ ...sweptConfig(assignment), seed }, whereIn(assignment))))
        continue
      }
      const { config, configJson, params } = decoded
      let resolved = resolvedStages.get(config.stages)
      if (resolved === undefined) {
        const where = whereIn(assignment)
        const metricRefs = config.stages.evaluate?.metrics ?? []
        resolved = {
          sft: yield* resolveTrain("sft", config, where),
          preference: yield* resolveTrain("preference", config, where),
          metrics: yield* Effect.forEach(metricRefs, (ref, i) => resolveMetric(ref, i, where)),
          resources: [
            ...(yield* Effect.forEach(metricRefs, (ref, i) => checkMetricFiles(ref, i, where))).flat(),
            ...(yield* checkPunkt(metricRefs, where))
          ]
        }
        resolvedStages.set(config.stages, resolved)
      }
      const { sft, preference, metrics, resources } = resolved
      const problems = [sft, preference, ...metrics].flatMap((x) => (x instanceof SpecIssue ? [x] : Array.isArray(x) ? x as ReadonlyArray<SpecIssue> : []))
      if (problems.length > 0) {
        issues.push(...problems)
        continue
      }
      if (config.stages.evaluate !== undefined && config.stages.generate === undefined) {
        issues.push(new SpecIssue({ ...at(["stages", "evaluate"]), field: "stages.evaluate", message: "evaluate needs a generate stage to score" }))
        continue
      }
      // Files are checked once the run is otherwise valid: a wrong field is the first thing to fix.
      const missingFiles = [...resources, ...(yield* checkData(config, whereIn(assignment)))]
      if (missingFiles.length > 0) {
        issues.push(...missingFiles)
        continue
      }
      const id = runId(configJson, hasher)
      if (seenRuns.has(id)) continue
      seenRuns.add(id)
      const planned = planStages({
        config, configJson, assignment, dataSource,
        sft: sft as ResolvedTrainStage | undefined,
        preference: preference as ResolvedTrainStage | undefined,
        metrics: metrics as Array<ResolvedMetric>
      })
      for (const { stage } of planned.stages) stages.set(stage.id, stage)
      runs.push({
        id, label: runLabel(assignment, seed), seed, position: runs.length, configJson,
        params,
        stages: planned.stages.map(({ name, stage }) => ({ name, stageId: stage.id }))
      })
    }
  }
  if (issues.length > 0) {
    const unique = [...new Map(issues.map((i) => [`${i.line}:${i.column}:${i.field}:${i.message}`, i])).values()]
    return yield* fail(unique)
  }
  if (runs.length === 0) {
    return yield* fail([new SpecIssue({ ...at(["sweep", "exclude"]), field: "sweep.exclude", message: "every run of the sweep is excluded" })])
  }
  return {
    name: spec.name, description: spec.description, file: path.resolve(file), specJson: Schema.encodeSync(experimentSchema)(spec),
    stageTimeoutSeconds: spec.executor.stageTimeoutSeconds, executorName: spec.executor.name, runs, stages
  } satisfies ExperimentPlan
})
