import { resolveOptimizerParams } from "@empo/core/Optimizer"
import type { StageId } from "@empo/store"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as YAML from "yaml"
import { DataSpec, ExecutorSpec, ExperimentSpec, ModelSpec, RunConfig, StagesSpec } from "./ExperimentSpec.ts"
import { canonicalJson, setPath } from "./internal/canonical.ts"
import { type ExperimentPlan, flattenParams, type PlannedRun, type PlannedStage, planStages, type ResolvedMetric, type ResolvedTrainStage, runId, runLabel } from "./Plan.ts"
import { Plugins } from "./Plugins.ts"
import { SpecError, SpecIssue } from "./SpecError.ts"
import { type Assignment, expandSweep, isExcluded } from "./Sweep.ts"

type PathKey = string | number

/**
 * Finds where a field path lives in the YAML: a scalar's value, a collection's key (so `sweep.zip:` points
 * at its own line), or for a missing field the key of its deepest existing ancestor. 1-based line and column.
 */
const locate = (doc: YAML.Document.Parsed, lines: YAML.LineCounter, path: ReadonlyArray<PathKey>): { line: number; column: number } => {
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

const issuesFromParseError = (
  error: ParseResult.ParseError,
  at: (path: ReadonlyArray<PathKey>) => { line: number; column: number },
  prefix: ReadonlyArray<PathKey> = []
): Array<SpecIssue> =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    // An optional block that fails reports both its inner problem and "Expected undefined"; keep the inner one.
    .filter((issue, _, all) => !(issue.message.startsWith("Expected undefined") && all.length > 1))
    .map((issue) => {
    const path = [...prefix, ...issue.path.map((k) => (typeof k === "symbol" ? String(k) : k))]
    const message = issue._tag === "Unexpected" ? "unknown field (check the spelling; see experiment.schema.json)" : issue.message
    return new SpecIssue({ ...at(path), field: path.join("."), message })
  })

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

// Without a preset the plugin's Schema sees exactly what the file says, so its error can name the param's own line.
const preciseIssue = (
  schema: Schema.Schema<any, any>,
  params: unknown,
  prefix: ReadonlyArray<PathKey>,
  where: (path: ReadonlyArray<PathKey>) => { line: number; column: number }
): Effect.Effect<Option.Option<SpecIssue>> =>
  Schema.decodeUnknown(schema)(params, { onExcessProperty: "error" }).pipe(
    Effect.as(Option.none<SpecIssue>()),
    Effect.catchTag("ParseError", (error) => Effect.succeed(Option.fromNullable(issuesFromParseError(error, where, prefix)[0])))
  )

const runSections = { data: DataSpec, model: ModelSpec, stages: StagesSpec, executor: ExecutorSpec } as const

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
  const fail = (issues: ReadonlyArray<SpecIssue>) => Effect.fail(new SpecError({ file, issues: issues as [SpecIssue, ...Array<SpecIssue>] }))

  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((e) => new SpecError({ file, issues: [new SpecIssue({ line: 1, column: 1, field: "", message: `cannot read the file: ${e.message}` })] }))
  )
  const lines = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return yield* fail(doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0])
      return new SpecIssue({ line: pos.line, column: pos.col, field: "", message: `YAML syntax: ${e.message.split("\n")[0]}` })
    }))
  }
  const at = (p: ReadonlyArray<PathKey>) => locate(doc, lines, p)
  const parsed: unknown = doc.toJS()
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return yield* fail([new SpecIssue({ ...at([]), field: "", message: "expected a mapping with name, data, model and stages" })])
  }
  const missing: Array<SpecIssue> = []
  const raw = yield* interpolateAll(parsed, [], (p, names) =>
    missing.push(new SpecIssue({ ...at(p), field: p.join("."), message: `environment variable ${names.join(", ")} is not set and has no :-default` })))
  if (missing.length > 0) return yield* fail(missing)
  const spec = yield* Schema.decodeUnknown(ExperimentSpec)(raw, { onExcessProperty: "error", errors: "all" }).pipe(
    Effect.catchTag("ParseError", (e) => fail(issuesFromParseError(e, at)))
  )

  const expanded = expandSweep(spec.sweep)
  if ("problems" in expanded) {
    return yield* fail(expanded.problems.map((p) => new SpecIssue({ ...at(p.axis), field: p.axis.join("."), message: p.message })))
  }

  const dataSource = path.resolve(spec.data.source)

  const { sweep: _sweep, seeds: _seeds, description: _description, ...base } = Schema.encodeSync(ExperimentSpec)(spec)
  const optimizerIds = plugins.optimizers.map((p) => p.manifest.id).sort()
  const metricIds = plugins.metrics.map((p) => p.manifest.id).sort()
  const trainCache = new Map<string, ResolvedTrainStage | SpecIssue>()
  const metricCache = new Map<string, ResolvedMetric | SpecIssue>()

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
      const result: ResolvedTrainStage | SpecIssue = plugin === undefined
        ? new SpecIssue({ ...where([...field, "optimizer"]), field: [...field, "optimizer"].join("."), message: `unknown optimizer \`${stageSpec.optimizer}\`; known optimizers: ${optimizerIds.join(", ") || "(none installed)"}` })
        : Option.getOrUndefined(stageSpec.preset === undefined ? yield* preciseIssue(plugin.params, stageSpec.params, [...field, "params"], where) : Option.none())
        ?? (yield* resolveOptimizerParams(plugin, { preset: stageSpec.preset, overrides: stageSpec.params }).pipe(
          Effect.flatMap((params) => Schema.encode(plugin.params)(params).pipe(Effect.orDie)),
          Effect.map((params): ResolvedTrainStage | SpecIssue => ({
            optimizer: plugin.manifest.id, preset: stageSpec.preset ?? null, trainStage: plugin.manifest.stage, dataFormat: plugin.manifest.dataFormat, params
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
      const result: ResolvedMetric | SpecIssue = plugin === undefined
        ? new SpecIssue({ ...where(field), field: field.join("."), message: `unknown metric \`${id}\`; known metrics: ${metricIds.join(", ") || "(none installed)"}` })
        : yield* Schema.decodeUnknown(plugin.params)(params, { onExcessProperty: "error" }).pipe(
          Effect.flatMap((decoded) => Schema.encode(plugin.params)(decoded)),
          Effect.map((encoded): ResolvedMetric | SpecIssue => ({ id, params: encoded })),
          Effect.catchTag("ParseError", (e) => Effect.succeed(issuesFromParseError(e, where, typeof ref === "string" ? field : [...field, "params"])[0]!))
        )
      metricCache.set(key, result)
      return result
    })

  // Runs of a sweep share most of their sections, so each distinct section is decoded (and encoded) once:
  // a 10,000-run grid decodes a few hundred sections instead of 10,000 whole configs.
  const sectionCache = new Map<string, { readonly decoded: unknown; readonly encoded: unknown } | null>()
  type Section = { readonly decoded: unknown; readonly encoded: unknown }
  const sectionSchema = (name: keyof typeof runSections) => runSections[name] as unknown as Schema.Schema<unknown, unknown>
  const strict = { onExcessProperty: "error", errors: "all" } as const
  // Synchronous on purpose: this runs once per run of a sweep (10,000 for a big grid); null = invalid.
  const decodeSection = (name: keyof typeof runSections, raw: unknown): Section | null => {
    const key = `${name}\u0000${canonicalJson(raw)}`
    const cached = sectionCache.get(key)
    if (cached !== undefined) return cached
    const decoded = Schema.decodeUnknownOption(sectionSchema(name))(raw, strict)
    const result = Option.isSome(decoded) ? { decoded: decoded.value, encoded: Schema.encodeSync(sectionSchema(name))(decoded.value) } : null
    sectionCache.set(key, result)
    return result
  }
  const unknownKeys = (candidate: Record<string, unknown>) =>
    Object.keys(candidate).filter((key) => !(key in runSections) && key !== "name" && key !== "seed")
  const decodeRunConfig = (candidate: Record<string, unknown>): { readonly config: RunConfig; readonly configJson: Record<string, unknown> } | undefined => {
    if (unknownKeys(candidate).length > 0) return undefined
    const parts: Record<string, Section> = {}
    for (const name of Object.keys(runSections) as Array<keyof typeof runSections>) {
      const result = decodeSection(name, candidate[name])
      if (result === null) return undefined
      parts[name] = result
    }
    const seed = candidate["seed"] as number
    const config = new RunConfig({
      name: spec.name, seed, data: parts["data"]!.decoded as DataSpec, model: parts["model"]!.decoded as ModelSpec,
      stages: parts["stages"]!.decoded as StagesSpec, executor: parts["executor"]!.decoded as ExecutorSpec
    }, true)
    const configJson = {
      name: spec.name, seed, data: parts["data"]!.encoded, model: parts["model"]!.encoded, stages: parts["stages"]!.encoded, executor: parts["executor"]!.encoded
    }
    return { config, configJson }
  }
  // The slow path, only for invalid runs: decode again through Effect to get located issues.
  const explainRunConfig = (candidate: Record<string, unknown>, where: (f: ReadonlyArray<PathKey>) => { line: number; column: number }) =>
    Effect.gen(function* () {
      const problems = unknownKeys(candidate).map((key) =>
        new SpecIssue({ ...where([key]), field: key, message: "unknown field (check the spelling; see experiment.schema.json)" }))
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
  const indexOf = (assignment: Assignment) => assignment.map(([p, v]) => {
    const list = spec.sweep?.grid[p] ?? spec.sweep?.zip[p]
    return list === undefined ? 0 : list.findIndex((x) => JSON.stringify(x) === JSON.stringify(v))
  })

  for (const assignment of expanded.assignments) {
    const swept = assignment.reduce<unknown>((acc, [p, v]) => setPath(acc, p.split("."), v), base)
    const where = (f: ReadonlyArray<PathKey>) => locateInRun(assignment, indexOf(assignment), f)
    for (const seed of spec.seeds) {
      const candidate = { ...(swept as Record<string, unknown>), seed }
      if (spec.sweep !== undefined && isExcluded(candidate, spec.sweep.exclude)) continue
      const decoded = decodeRunConfig(candidate)
      if (decoded === undefined) {
        issues.push(...(yield* explainRunConfig(candidate, where)))
        continue
      }
      const { config, configJson } = decoded
      const sft = yield* resolveTrain("sft", config, where)
      const preference = yield* resolveTrain("preference", config, where)
      const metrics = yield* Effect.forEach(config.stages.evaluate?.metrics ?? [], (ref, i) => resolveMetric(ref, i, where))
      const problems = [sft, preference, ...metrics].filter((x): x is SpecIssue => x instanceof SpecIssue)
      if (problems.length > 0) {
        issues.push(...problems)
        continue
      }
      if (config.stages.evaluate !== undefined && config.stages.generate === undefined) {
        issues.push(new SpecIssue({ ...at(["stages", "evaluate"]), field: "stages.evaluate", message: "evaluate needs a generate stage to score" }))
        continue
      }
      const id = runId(configJson)
      if (seenRuns.has(id)) continue
      seenRuns.add(id)
      const planned = planStages({
        config, configJson, assignment, dataSource,
        sft: sft as ResolvedTrainStage | undefined,
        preference: preference as ResolvedTrainStage | undefined,
        metrics: metrics as Array<ResolvedMetric>
      })
      for (const { stage } of planned.stages) stages.set(stage.id, stage)
      const { name: _name, ...paramSource } = configJson
      runs.push({
        id, label: runLabel(assignment, seed), seed, position: runs.length, configJson,
        params: flattenParams(paramSource),
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
    name: spec.name, description: spec.description, file: path.resolve(file), specJson: Schema.encodeSync(ExperimentSpec)(spec),
    stageTimeoutSeconds: spec.executor.stageTimeoutSeconds, runs, stages
  } satisfies ExperimentPlan
})
