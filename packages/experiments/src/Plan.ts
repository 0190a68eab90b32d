import type { ParamValue, RunId, StageId } from "@empo/store"
import { shortHash } from "./internal/canonical.ts"
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

const stage = (kind: StageKind, inputs: Record<string, unknown>, deps: Record<string, StageId> = {}): PlannedStage => ({
  id: `${kind}-${shortHash({ kind, inputs, deps }, 16)}` as StageId,
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

/** A short human label: the swept values (last path segment) and the seed. */
export const runLabel = (assignment: Assignment, seed: number): string =>
  [
    ...assignment.map(([path, v]) => (v !== null && typeof v === "object" && !Array.isArray(v) ? formatValue(v) : `${path.split(".").at(-1)}=${formatValue(v)}`)),
    `seed=${seed}`
  ].join(" ")

/**
 * Turns resolved runs into stages. Inputs hold only what changes a stage's output, so runs that differ
 * downstream (β, metrics) share the dataset, tiny model and SFT stages.
 */
export const planStages = (run: ResolvedRun): { readonly stages: Array<{ readonly name: string; readonly stage: PlannedStage }> } => {
  const { config } = run
  const stages: Array<{ name: string; stage: PlannedStage }> = []
  const add = (name: string, s: PlannedStage) => {
    if (!stages.some((existing) => existing.stage.id === s.id)) stages.push({ name, stage: s })
    return s.id
  }
  const dataset = (format: string) => {
    const { source: _source, ...data } = (run.configJson as { readonly data: Record<string, unknown> }).data
    // SFT rows ignore grounding, so every grounder/negatives/mode variant shares one SFT dataset.
    const { grounder: _g, grounderMap: _m, lexicon: _l, negatives: _n, mode: _mode, seed: _seed, ...common } = data
    return add(`dataset-${format}`, stage("dataset", { source: run.dataSource, ...(format === "sft" ? common : data), kind: format }))
  }
  let model: { readonly ref: string } | { readonly stage: StageId }
  if (config.model.kind === "tiny") {
    const { kind: _kind, ...tiny } = config.model
    model = { stage: add("model", stage("tiny-model", { ...tiny, seed: config.seed }, { corpus: dataset("sft") })) }
  } else {
    model = { ref: config.model.kind === "hub" ? config.model.id : config.model.path }
  }
  const modelDeps = (): Record<string, StageId> => ("stage" in model ? { model: model.stage } : {})
  const modelInputs = (): Record<string, unknown> => ("ref" in model ? { model: model.ref } : {})
  for (const [name, resolved] of [["sft", run.sft], ["preference", run.preference]] as const) {
    if (resolved === undefined) continue
    const data = dataset(resolved.dataFormat)
    const id = add(name, stage("train", { ...modelInputs(), ...resolved, seed: config.seed }, { ...modelDeps(), data }))
    model = { stage: id }
  }
  const generate = config.stages.generate
  if (generate !== undefined) {
    // The encoded form (defaults applied) is already in configJson; re-encoding per run would dominate big sweeps.
    const { split, limit, systemPrompt, batchSize, ...decoding } = (run.configJson as { readonly stages: { readonly generate: Record<string, unknown> } }).stages.generate
    const items = add("items", stage("items", { source: run.dataSource, format: config.data.format, split, limit: limit ?? null, systemPrompt: systemPrompt ?? null }))
    const generated = add("generate", stage("generate", { ...modelInputs(), batchSize, decoding, seed: config.seed }, { ...modelDeps(), items }))
    if (run.metrics.length > 0) add("evaluate", stage("evaluate", { metrics: run.metrics }, { predictions: generated }))
  }
  return { stages }
}

/** A run's stable id: the hash of its resolved configuration. */
export const runId = (configJson: unknown): RunId => shortHash(configJson, 12) as RunId
