import type { ParamValue, RunId, StageId } from "@empo/store"
import { type ContentHasher, makeContentHasher } from "./internal/canonical.ts"
import { makeTupleMemo } from "./internal/memo.ts"
import type { RunConfig } from "./ExperimentSpec.ts"
import type { Assignment } from "./Sweep.ts"

/** What a stage does; each kind has one executor. */
export type StageKind = "dataset" | "tiny-model" | "items" | "train" | "generate" | "evaluate"

/** A training stage after phase-2 validation: the plugin's decoded (then re-encoded) params. */
export interface ResolvedTrainStage {
  readonly optimizer: string
  readonly preset: string | null
  readonly trainStage: string
  readonly dataFormat: string
  readonly params: unknown
}

/** A metric after phase-2 validation. */
export interface ResolvedMetric {
  readonly id: string
  readonly params: unknown
}

/** Everything the planner needs about one run beyond its config. */
export interface ResolvedRun {
  readonly config: RunConfig
  /** The config as JSON (what is hashed and stored). */
  readonly configJson: unknown
  readonly assignment: Assignment
  /** `data.source` made absolute. */
  readonly dataSource: string
  readonly sft: ResolvedTrainStage | undefined
  readonly preference: ResolvedTrainStage | undefined
  readonly metrics: ReadonlyArray<ResolvedMetric>
}

/** A unit of work, addressed by its content: kind, inputs and the ids of the stages it reads. */
export interface PlannedStage {
  readonly id: StageId
  readonly kind: StageKind
  readonly inputs: Readonly<Record<string, unknown>>
  /** Upstream stages by the role they play (`model`, `data`, `items`, `predictions`). */
  readonly deps: Readonly<Record<string, StageId>>
}

/** One run of the sweep with its stages in execution order. */
export interface PlannedRun {
  readonly id: RunId
  readonly label: string
  readonly seed: number
  readonly position: number
  readonly configJson: unknown
  readonly params: Readonly<Record<string, ParamValue>>
  readonly stages: ReadonlyArray<{ readonly name: string; readonly stageId: StageId }>
}

/** A whole experiment: runs plus the deduplicated stage graph. */
export interface ExperimentPlan {
  readonly name: string
  readonly description: string
  readonly file: string
  readonly specJson: unknown
  readonly stageTimeoutSeconds: number | undefined
  readonly runs: ReadonlyArray<PlannedRun>
  readonly stages: ReadonlyMap<StageId, PlannedStage>
}

const stage = (hasher: ContentHasher, kind: StageKind, inputs: Record<string, unknown>, deps: Record<string, StageId> = {}): PlannedStage => ({
  id: `${kind}-${hasher.shortHash({ kind, inputs, deps }, 16)}` as StageId,
  kind,
  inputs,
  deps
})

/** Flattens a config into `a.b.c` → primitive, the form runs are filtered and compared by. */
export const flattenParams = (value: unknown, prefix = "", out: Record<string, ParamValue> = {}): Record<string, ParamValue> => {
  if (value === null || typeof value !== "object") {
    out[prefix] = value === undefined ? null : (value as ParamValue)
  } else if (Array.isArray(value)) {
    out[prefix] = JSON.stringify(value)
  } else {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0 && prefix !== "") out[prefix] = "{}"
    for (const [key, v] of entries) flattenParams(v, prefix === "" ? key : `${prefix}.${key}`, out)
  }
  return out
}

const formatValue = (v: unknown): string => {
  if (typeof v === "number") return String(Number(v.toPrecision(4)))
  if (typeof v === "string") return v
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    // An object-valued axis (a whole stage) reads as its strings then its numbers: `dpo tiny-cpu beta=0.1`.
    const leaves = Object.entries(flattenParams(v))
    return [
      ...leaves.filter(([, x]) => typeof x === "string").map(([, x]) => String(x)),
      ...leaves.filter(([, x]) => typeof x !== "string").map(([k, x]) => `${k.split(".").at(-1)}=${formatValue(x)}`)
    ].join(" ")
  }
  return JSON.stringify(v)
}

const labelPart = (path: string, v: unknown): string =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? formatValue(v) : `${path.split(".").at(-1)}=${formatValue(v)}`

/** A short human label: the swept values (last path segment) and the seed. */
export const runLabel = (assignment: Assignment, seed: number): string =>
  [...assignment.map(([path, v]) => labelPart(path, v)), `seed=${seed}`].join(" ")

/** {@link runLabel} for one planning, where each swept value recurs in many runs: each is formatted once. */
export const makeRunLabeler = () => {
  const parts = new Map<string, Map<unknown, string>>()
  return (assignment: Assignment, seed: number): string => {
    let label = ""
    for (const [path, v] of assignment) {
      let byValue = parts.get(path)
      if (byValue === undefined) parts.set(path, byValue = new Map())
      let part = byValue.get(v)
      if (part === undefined) byValue.set(v, part = labelPart(path, v))
      label += `${part} `
    }
    return `${label}seed=${seed}`
  }
}

type ModelSource = { readonly ref: string } | { readonly stage: StageId }

const modelInputs = (model: ModelSource): Record<string, unknown> => ("ref" in model ? { model: model.ref } : {})
const modelDeps = (model: ModelSource): Record<string, StageId> => ("stage" in model ? { model: model.stage } : {})
const modelKey = (model: ModelSource) => ("ref" in model ? ["ref", model.ref] : ["stage", model.stage])

/**
 * Turns resolved runs into stages. Inputs hold only what changes a stage's output, so runs that differ
 * downstream (β, metrics) share the dataset, tiny model and SFT stages.
 *
 * One planner serves one planning. Runs of a sweep share their sections, resolved train stages and metrics
 * as the same (never mutated) objects, so a stage is keyed by the identity of what it is built from and
 * built and hashed once: a 10,000-run grid hashes each shared dataset or model once, not 10,000 times.
 */
export const makeStagePlanner = (hasher: ContentHasher = makeContentHasher()) => {
  const once = makeTupleMemo<PlannedStage>()
  const add = (stages: Array<{ name: string; stage: PlannedStage }>, name: string, s: PlannedStage): StageId => {
    if (!stages.some((existing) => existing.stage.id === s.id)) stages.push({ name, stage: s })
    return s.id
  }
  const dataset = (run: ResolvedRun, format: string): PlannedStage => {
    const section = (run.configJson as { readonly data: Record<string, unknown> }).data
    return once(["dataset", run.dataSource, section, format], () => {
      const { source: _source, ...data } = section
      // SFT rows ignore grounding, so every grounder/negatives/mode variant shares one SFT dataset.
      const { grounder: _g, grounderMap: _m, lexicon: _l, negatives: _n, mode: _mode, seed: _seed, ...common } = data
      return stage(hasher, "dataset", { source: run.dataSource, ...(format === "sft" ? common : data), kind: format })
    })
  }
  // Every seed and model generates with its section's decoding: split off and hashed once per section.
  const decodings = new WeakMap<object, { readonly batchSize: unknown; readonly decoding: object }>()
  const decodingOf = (section: Record<string, unknown>) => {
    let found = decodings.get(section)
    if (found === undefined) {
      const { split: _split, limit: _limit, systemPrompt: _systemPrompt, batchSize, ...decoding } = section
      decodings.set(section, found = { batchSize, decoding: hasher.remember(decoding) })
    }
    return found
  }

  return (run: ResolvedRun): { readonly stages: Array<{ readonly name: string; readonly stage: PlannedStage }> } => {
    const { config } = run
    const stages: Array<{ name: string; stage: PlannedStage }> = []
    let model: ModelSource
    if (config.model.kind === "tiny") {
      const corpus = add(stages, "dataset-sft", dataset(run, "sft"))
      const tinySpec = config.model
      model = {
        stage: add(stages, "model", once(["tiny-model", tinySpec, config.seed, corpus], () => {
          const { kind: _kind, ...tiny } = tinySpec
          return stage(hasher, "tiny-model", { ...tiny, seed: config.seed }, { corpus })
        }))
      }
    } else {
      model = { ref: config.model.kind === "hub" ? config.model.id : config.model.path }
    }
    for (const [name, resolved] of [["sft", run.sft], ["preference", run.preference]] as const) {
      if (resolved === undefined) continue
      const data = add(stages, `dataset-${resolved.dataFormat}`, dataset(run, resolved.dataFormat))
      const from = model
      model = {
        stage: add(stages, name, once(["train", ...modelKey(from), resolved, config.seed, data], () =>
          stage(hasher, "train", { ...modelInputs(from), ...resolved, seed: config.seed }, { ...modelDeps(from), data })))
      }
    }
    if (config.stages.generate !== undefined) {
      // The encoded form (defaults applied) is already in configJson; re-encoding per run would dominate big sweeps.
      const section = (run.configJson as { readonly stages: { readonly generate: Record<string, unknown> } }).stages.generate
      const format = config.data.format
      const items = add(stages, "items", once(["items", run.dataSource, format, section], () => {
        const { split, limit, systemPrompt } = section
        return stage(hasher, "items", { source: run.dataSource, format, split, limit: limit ?? null, systemPrompt: systemPrompt ?? null })
      }))
      const from = model
      const generated = add(stages, "generate", once(["generate", ...modelKey(from), section, config.seed, items], () => {
        const { batchSize, decoding } = decodingOf(section)
        return stage(hasher, "generate", { ...modelInputs(from), batchSize, decoding, seed: config.seed }, { ...modelDeps(from), items })
      }))
      if (run.metrics.length > 0) {
        add(stages, "evaluate", once(["evaluate", generated, ...run.metrics], () => stage(hasher, "evaluate", { metrics: run.metrics }, { predictions: generated })))
      }
    }
    return { stages }
  }
}

/** {@link makeStagePlanner} for a single run. */
export const planStages = (run: ResolvedRun, hasher: ContentHasher = makeContentHasher()) => makeStagePlanner(hasher)(run)

/** A run's stable id: the hash of its resolved configuration. */
export const runId = (configJson: unknown, hasher: ContentHasher = makeContentHasher()): RunId => hasher.shortHash(configJson, 12) as RunId
