import * as Path from "@effect/platform/Path"
import { InputError, MetricError } from "@empo/core"
import { canonicalJson, MetricRunner, readPredictions, type RunProgress } from "@empo/metrics"
import { type ExperimentStageRecord, type RunId, RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { MetricCell, ReferenceRow } from "./Compare.ts"
import { EvaluateInputs } from "./stages/evaluate.ts"
import { StageFiles } from "./stages/shared.ts"

export interface HumanReferenceOptions {
  /** Metric result cache (the one `empo eval` uses), so the gold turns are scored once per content. */
  readonly cacheDir?: string | undefined
  readonly onProgress?: (event: RunProgress) => Effect.Effect<void>
  /** Only these runs' items (all runs when undefined). */
  readonly runIds?: ReadonlyArray<RunId> | undefined
}

// A stage row's inputs as the runner registers them: the node's inputs and its upstream stages by role.
const StoredEvaluate = Schema.parseJson(Schema.Struct({ inputs: EvaluateInputs, deps: Schema.Struct({ predictions: Schema.String }) }))
const StoredGenerate = Schema.parseJson(Schema.Struct({ deps: Schema.Struct({ items: Schema.optional(Schema.String) }) }))

const undecodable = (stage: ExperimentStageRecord) => (e: { readonly message: string }) =>
  new InputError({ reason: `the stored inputs of ${stage.kind} stage ${stage.id} do not decode: ${e.message}`, field: "inputs" })

interface Group {
  readonly predictions: string
  readonly metrics: typeof EvaluateInputs.Type["metrics"]
  readonly runs: Array<RunId>
}

/**
 * The human reference of an experiment: the gold listener turns of the items its runs generated for, scored by the
 * metrics (and params) of the runs' evaluate stages, as `empo eval --predictions <predictions.jsonl> --human`
 * scores them. One row per distinct items × metrics (one for a sweep over training settings). A metric that cannot
 * score gold turns (it reads what only model outputs carry) is left out and said so in the row's description.
 */
export const humanReferences = Effect.fn("humanReferences")(function* (experiment: string, options: HumanReferenceOptions = {}) {
  const store = yield* RunStore
  const path = yield* Path.Path
  const runner = yield* MetricRunner
  const stages = yield* store.stagesOf(experiment)
  const keep = options.runIds === undefined ? undefined : new Set<string>(options.runIds)
  const byId = new Map(stages.map((s) => [s.id as string, s]))

  const groups = new Map<string, Group>()
  for (const evaluate of stages) {
    if (evaluate.kind !== "evaluate" || evaluate.status !== "completed" || (keep !== undefined && !keep.has(evaluate.runId))) continue
    const stored = yield* Schema.decodeUnknown(StoredEvaluate)(evaluate.inputsJson).pipe(Effect.mapError(undecodable(evaluate)))
    const generate = byId.get(stored.deps.predictions)
    if (generate === undefined) continue
    const items = (yield* Schema.decodeUnknown(StoredGenerate)(generate.inputsJson).pipe(Effect.mapError(undecodable(generate)))).deps.items
    // Runs that generated for the same items share their gold turns, whatever model answered.
    const key = canonicalJson([items ?? generate.id, stored.inputs.metrics])
    const group = groups.get(key) ?? { predictions: path.join(generate.outputDir, StageFiles.predictions), metrics: stored.inputs.metrics, runs: [] }
    if (!group.runs.includes(evaluate.runId)) group.runs.push(evaluate.runId)
    groups.set(key, group)
  }

  const rows: Array<ReferenceRow> = []
  for (const group of groups.values()) {
    const loaded = yield* readPredictions(group.predictions, { format: "jsonl", human: true })
    const cells: Record<string, MetricCell> = {}
    const skipped: Array<string> = []
    for (const metric of group.metrics) {
      const scored = yield* runner.run(loaded.items, [{ id: metric.id, params: metric.params }], { cacheDir: options.cacheDir, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) }).pipe(
        Effect.map((result) => result.scores),
        Effect.catchIf((e): e is MetricError => e instanceof MetricError && e.inputFault, (e) => Effect.sync(() => {
          skipped.push(`${metric.id} (${e.reason})`)
          return []
        }))
      )
      for (const s of scored) for (const [key, value] of Object.entries(s.aggregate)) cells[`${s.metric}.${key}`] = { n: 1, mean: value, ci95: Number.NaN }
    }
    const label = groups.size === 1 ? "human (gold)" : `human (gold) ${rows.length + 1}`
    const description = `the gold listener turns of the same ${loaded.items.length} items, scored by the same metrics and params` +
      (groups.size === 1 ? "" : ` (the items of runs ${group.runs.join(", ")})`) +
      (skipped.length === 0 ? "" : `; not scored: ${skipped.join("; ")}`)
    rows.push({ label, description, metrics: cells })
  }
  return rows
})
