import { type ParamValue, type RunId, runIdOf, type StageId } from "@empo/store"
import { type ContentHasher, makeContentHasher } from "./internal/canonical.ts"
import { makeTupleMemo } from "./internal/memo.ts"
import type { RunConfig } from "./ExperimentSpec.ts"
import type { PlanContext, StagePlugin } from "./Stage.ts"
import type { Assignment } from "./Sweep.ts"

/** A node kind, defined by a stage plugin (`dataset`, `train`, … or a plugin's own). */
export type StageKind = string

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
  /** `executor.name`: the inventory executor GPU stages go to (`--executor` overrides it). */
  readonly executorName?: string | undefined
  readonly runs: ReadonlyArray<PlannedRun>
  readonly stages: ReadonlyMap<StageId, PlannedStage>
}

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

/**
 * Turns resolved runs into stages by asking each stage plugin, in catalogue order, to plan its nodes. Inputs hold
 * only what changes a stage's output, so runs that differ downstream (β, metrics) share the dataset, tiny model and
 * SFT stages.
 *
 * One planner serves one planning. Runs of a sweep share their sections, resolved train stages and metrics as the
 * same (never mutated) objects, so a stage is keyed by the identity of what it is built from and built and hashed
 * once: a 10,000-run grid hashes each shared dataset or model once, not 10,000 times.
 */
export const makeStagePlanner = (stagePlugins: ReadonlyArray<StagePlugin>, hasher: ContentHasher = makeContentHasher()) => {
  const once = makeTupleMemo<PlannedStage>()
  const node: PlanContext["node"] = (kind, inputs, deps = {}) => ({
    id: `${kind}-${hasher.shortHash({ kind, inputs, deps }, 16)}` as StageId,
    kind,
    inputs,
    deps
  })
  return (run: ResolvedRun): { readonly stages: Array<{ readonly name: string; readonly stage: PlannedStage }> } => {
    const stages: Array<{ name: string; stage: PlannedStage }> = []
    const roles = new Map<string, StageId>()
    const encodedStages = (run.configJson as { readonly stages?: Readonly<Record<string, Record<string, unknown>>> }).stages ?? {}
    const decodedStages = run.config.stages as unknown as Readonly<Record<string, unknown>>
    const context: PlanContext = {
      run, hasher, node, once,
      add: (role, stage) => {
        if (!stages.some((existing) => existing.stage.id === stage.id)) stages.push({ name: role, stage })
        if (!roles.has(role)) roles.set(role, stage.id)
        return stage.id
      },
      role: (role) => roles.get(role),
      model: { ref: "" },
      models: [],
      section: (key) => {
        const encoded = encodedStages[key]
        return encoded === undefined ? undefined : { decoded: decodedStages[key], encoded }
      }
    }
    for (const plugin of stagePlugins) plugin.plan(context)
    return { stages }
  }
}

/** {@link makeStagePlanner} for a single run. */
export const planStages = (run: ResolvedRun, stagePlugins: ReadonlyArray<StagePlugin>, hasher: ContentHasher = makeContentHasher()) =>
  makeStagePlanner(stagePlugins, hasher)(run)

/**
 * A run's stable id: the hash of what it computes (data, model, stages, seed), never of where or how it is
 * executed, so a new timeout or another machine finds the runs already stored.
 */
export const runId = (configJson: unknown, hasher: ContentHasher = makeContentHasher()): RunId => runIdOf(configJson, hasher)
