import { compareExperiment, type ComparisonRow, type ComparisonTable, type UnknownMetricKeyError } from "@empo/experiments/Compare"
import { bootstrapMeanCi, mean, pairedPermutationTest } from "@empo/metrics/Statistics"
import type {
  ArtifactRecord,
  ComparisonData,
  ExperimentRecord,
  ExperimentStageRecord,
  MetricPointRecord,
  ParamValue,
  RunId,
  RunItemScores,
  StageId
} from "@empo/store"
import { type MetricKeyOf, headlineKeys } from "./Headline.ts"

/** Everything a report is built from, as read from the store (see `ReportData.load`). */
export interface ReportInput {
  readonly experiment: ExperimentRecord
  readonly data: ComparisonData
  readonly stages: ReadonlyArray<ExperimentStageRecord>
  readonly points: ReadonlyArray<MetricPointRecord>
  readonly itemScores: ReadonlyArray<RunItemScores>
  /** Item id → emotion label, from the runs' generation items (empty when no items file could be read). */
  readonly emotions: ReadonlyMap<string, string>
  readonly artifacts: ReadonlyMap<StageId, ReadonlyArray<ArtifactRecord>>
  /** Which recorded artifacts (by id) each stage read (the store's lineage table). */
  readonly consumed: ReadonlyMap<StageId, ReadonlyArray<number>>
  /** Why a part of the report is missing (an unreadable items file, …), shown in the report. */
  readonly notes: ReadonlyArray<string>
}

export interface ReportOptions {
  /** `--metrics`: keys or prefixes as `compare` takes them; undefined: the headline list. */
  readonly metrics: ReadonlyArray<string> | undefined
  /** The headline patterns (see `headlineKeys`), in order. */
  readonly headline: ReadonlyArray<string>
  /** The configuration significance is tested against. */
  readonly baseline: RunId | undefined
}

/** How a cell's interval was computed: across seeds (t), or over items when a configuration has one seed. */
export type CiKind = "seeds" | "items" | "none"

/** How a cell's p-value was computed. */
export type TestKind = "paired-items" | "welch-seeds"

/** A headline number of one configuration. */
export interface HeadlineCell {
  readonly mean: number
  readonly ci95: number
  readonly ciKind: CiKind
  readonly n: number
  readonly p?: number | undefined
  readonly test?: TestKind | undefined
  readonly delta?: number | undefined
}

export interface HeadlineTable {
  readonly metrics: ReadonlyArray<string>
  readonly rows: ReadonlyArray<{ readonly label: string; readonly isBaseline: boolean; readonly runs: ReadonlyArray<RunId>; readonly cells: Readonly<Record<string, HeadlineCell>> }>
  /** Row index of the best mean per metric by its direction (undefined: no direction or no value). */
  readonly best: Readonly<Record<string, number | undefined>>
}

/** One training series: a stage's values of one key over steps. */
export interface CurvePoint {
  readonly role: string
  readonly key: string
  readonly series: string
  readonly step: number
  readonly value: number
}

export interface SweepPoint {
  readonly param: string
  readonly x: number
  readonly metric: string
  readonly series: string
  readonly mean: number
  readonly low: number
  readonly high: number
}

export interface EmotionCell {
  readonly configuration: string
  readonly metric: string
  readonly emotion: string
  readonly mean: number
  readonly n: number
  /** `mean` standardised within its metric (over every configuration and emotion), so one colour scale fits all. */
  readonly z: number
}

export interface LineageStep {
  readonly role: string
  readonly kind: string
  readonly stageId: StageId
  readonly status: string
  readonly artifacts: ReadonlyArray<{ readonly name: string; readonly kind: string; readonly sha256: string; readonly size: number }>
  /** Files of earlier stages it read: the edges dataset → model → predictions → metrics. */
  readonly inputs: ReadonlyArray<{ readonly stageId: StageId; readonly name: string; readonly sha256: string }>
}

export interface RunLineage {
  readonly runId: RunId
  readonly label: string
  readonly steps: ReadonlyArray<LineageStep>
}

/** The analysed report, ready to draw and write. */
export interface ReportModel {
  readonly experiment: ExperimentRecord
  readonly comparison: ComparisonTable
  readonly headline: HeadlineTable
  readonly baselineLabel: string | undefined
  readonly curves: ReadonlyArray<CurvePoint>
  readonly sweeps: ReadonlyArray<SweepPoint>
  readonly emotions: ReadonlyArray<EmotionCell>
  readonly lineage: ReadonlyArray<RunLineage>
  readonly notes: ReadonlyArray<string>
}

/**
 * What TRL logs that a paper plots, per training role (empo-method / trl-cpu.md): the loss; DPO/IPO rewards of
 * chosen and rejected responses, their margin and accuracy; KTO's KL estimate. Other keys stay in the store.
 */
export const curveKeys: ReadonlyArray<string> = ["loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "kl"]

const finite = (xs: ReadonlyArray<number>) => xs.filter(Number.isFinite)

/**
 * The per-item key a summary key averages, when the metric stores one: `vad.diff_mean_v_abs_mean` ← `diff_mean_v`
 * (absolute values), `specificity.nidf_mean` ← `nidf`. The longest per-item key that prefixes the summary key wins.
 */
export const itemKeyOf = (summaryKey: string, itemKeys: ReadonlyArray<string>): { readonly key: string; readonly abs: boolean } | undefined => {
  const dot = summaryKey.indexOf(".")
  const metric = summaryKey.slice(0, dot)
  const rest = summaryKey.slice(dot + 1)
  const candidates = itemKeys.filter((k) => k.startsWith(`${metric}.`) && rest.startsWith(k.slice(metric.length + 1)))
    .sort((a, b) => b.length - a.length)
  const key = candidates[0]
  if (key === undefined) return undefined
  const tail = rest.slice(key.length - metric.length - 1)
  return { key, abs: tail.startsWith("_abs") }
}

/** Per-item values of a configuration: the mean over its runs (seeds) of each item, by item id. */
const itemMeans = (scores: ReadonlyArray<RunItemScores>, runs: ReadonlyArray<RunId>, key: string, abs: boolean): Map<string, number> => {
  const sums = new Map<string, { sum: number; n: number }>()
  for (const s of scores) {
    if (!runs.includes(s.runId) || `${s.metric}.${s.key}` !== key) continue
    s.itemIds.forEach((id, i) => {
      const v = s.values[i]!
      if (!Number.isFinite(v)) return
      const acc = sums.get(id) ?? { sum: 0, n: 0 }
      acc.sum += abs ? Math.abs(v) : v
      acc.n += 1
      sums.set(id, acc)
    })
  }
  return new Map([...sums].map(([id, { sum, n }]) => [id, sum / n]))
}

const headlineTable = (
  comparison: ComparisonTable,
  itemScores: ReadonlyArray<RunItemScores>,
  keyOf: MetricKeyOf
): HeadlineTable => {
  const itemKeys = [...new Set(itemScores.map((s) => `${s.metric}.${s.key}`))]
  const baseline = comparison.rows.find((r) => r.isBaseline)
  const rows = comparison.rows.map((row) => {
    const cells: Record<string, HeadlineCell> = {}
    for (const metric of comparison.metrics) {
      const c = row.metrics[metric]!
      const items = itemKeyOf(metric, itemKeys)
      let ci95 = c.ci95
      let ciKind: CiKind = Number.isFinite(c.ci95) ? "seeds" : "none"
      // One seed gives no spread across seeds; the items still give the mean's sampling error.
      if (ciKind === "none" && items !== undefined) {
        const values = finite([...itemMeans(itemScores, row.runs, items.key, items.abs).values()])
        if (values.length >= 2) {
          const ci = bootstrapMeanCi(values, { seed: 0, resamples: 1000 })
          ci95 = (ci.high - ci.low) / 2
          ciKind = "items"
        }
      }
      let p: number | undefined
      let test: TestKind | undefined
      if (baseline !== undefined && baseline !== row) {
        const paired = items === undefined ? undefined : pairedItems(itemScores, row, baseline, items)
        if (paired !== undefined && paired.a.length >= 2) {
          p = pairedPermutationTest(paired.a, paired.b, { seed: 0, permutations: 4000 }).p
          test = "paired-items"
        } else if (c.p !== undefined && Number.isFinite(c.p)) {
          p = c.p
          test = "welch-seeds"
        }
      }
      cells[metric] = { mean: c.mean, ci95, ciKind, n: c.n, p, test, delta: c.delta }
    }
    return { label: row.label, isBaseline: row.isBaseline, runs: row.runs, cells }
  })
  const best: Record<string, number | undefined> = {}
  for (const metric of comparison.metrics) {
    const direction = keyOf(metric)?.direction
    const sign = direction === "higher" ? 1 : direction === "lower" ? -1 : 0
    let winner: number | undefined
    if (sign !== 0) {
      rows.forEach((r, i) => {
        const v = r.cells[metric]!.mean
        if (Number.isFinite(v) && (winner === undefined || sign * v > sign * rows[winner]!.cells[metric]!.mean)) winner = i
      })
    }
    best[metric] = winner
  }
  return { metrics: comparison.metrics, rows, best }
}

const pairedItems = (
  scores: ReadonlyArray<RunItemScores>,
  row: ComparisonRow,
  baseline: ComparisonRow,
  items: { readonly key: string; readonly abs: boolean }
) => {
  const a = itemMeans(scores, row.runs, items.key, items.abs)
  const b = itemMeans(scores, baseline.runs, items.key, items.abs)
  const ids = [...a.keys()].filter((id) => b.has(id)).sort()
  return ids.length === 0 ? undefined : { a: ids.map((id) => a.get(id)!), b: ids.map((id) => b.get(id)!) }
}

/** A configuration's short name: its varying params (`dpo β=0.5`), else the run label. */
const configName = (row: ComparisonRow, varying: ReadonlyArray<string>): string => {
  const text = (v: ParamValue) => (typeof v === "number" ? String(Number(v.toPrecision(4))) : String(v))
  const parts = varying.map((k) => {
    const v = row.params[k] ?? null
    const leaf = k.split(".").at(-1)!
    return leaf === "optimizer" || typeof v === "string" ? text(v) : `${leaf === "beta" ? "β" : leaf}=${text(v)}`
  })
  return parts.join(" ") || row.label
}

/** Groups, summarises and lays out an experiment for its report. Pure. */
export const analyse = (input: ReportInput, options: ReportOptions, keyOf: MetricKeyOf): ReportModel | UnknownMetricKeyError => {
  const known = [...new Set(input.data.summary.map((s) => s.key))].sort()
  // `--metrics` keeps compare's semantics (an unknown name is an error); the headline list may match nothing, and
  // then every evaluation metric is shown, as `compare` does.
  const metrics = options.metrics ?? headlineKeys(known, keyOf, options.headline)
  const comparison = compareExperiment(input.experiment.name, input.data, { metrics, baseline: options.baseline })
  if (!("rows" in comparison)) return comparison
  const names = new Map(comparison.rows.map((r) => [r, configName(r, comparison.varying)]))
  const labelled: ComparisonTable = { ...comparison, rows: comparison.rows.map((r) => ({ ...r, label: names.get(r)! })) }
  const headline = headlineTable(labelled, input.itemScores, keyOf)
  const configOfRun = new Map<RunId, string>()
  for (const r of labelled.rows) for (const id of r.runs) configOfRun.set(id, r.label)
  const runLabel = (id: RunId) => {
    const row = labelled.rows.find((r) => r.runs.includes(id))
    const run = input.data.runs.find((r) => r.id === id)
    return row === undefined ? id : row.seeds.length > 1 ? `${row.label} seed=${run?.seed ?? "?"}` : row.label
  }

  // Training curves: one series per stage (stages shared by every run, like the common SFT, draw once).
  const runsOfStage = new Map<StageId, { role: string; runs: Array<RunId> }>()
  for (const s of input.stages) {
    if (s.kind !== "train") continue
    const entry = runsOfStage.get(s.id) ?? { role: s.name, runs: [] }
    entry.runs.push(s.runId)
    runsOfStage.set(s.id, entry)
  }
  const selected = new Set(input.data.runs.map((r) => r.id))
  const seriesName = (runs: ReadonlyArray<RunId>) => {
    const inSelection = runs.filter((r) => selected.has(r))
    return inSelection.length === selected.size && selected.size > 1 ? "all configurations" : inSelection.map(runLabel).join(", ")
  }
  const curves: Array<CurvePoint> = []
  for (const p of input.points) {
    const stage = runsOfStage.get(p.stageId)
    if (stage === undefined || !curveKeys.includes(p.key) || !Number.isFinite(p.value)) continue
    curves.push({ role: stage.role, key: p.key, series: seriesName(stage.runs), step: p.step, value: p.value })
  }

  // Line plots over each swept numeric param, one line per value of the other varying params.
  const sweeps: Array<SweepPoint> = []
  for (const param of labelled.varying) {
    const values = labelled.rows.map((r) => r.params[param] ?? null)
    if (!values.every((v) => typeof v === "number") || new Set(values).size < 2) continue
    const others = labelled.varying.filter((k) => k !== param)
    for (const [i, row] of labelled.rows.entries()) {
      const series = others.map((k) => String(row.params[k] ?? "–")).join(" ") || "all"
      for (const metric of headline.metrics) {
        const c = headline.rows[i]!.cells[metric]!
        if (!Number.isFinite(c.mean)) continue
        const half = Number.isFinite(c.ci95) ? c.ci95 : 0
        sweeps.push({ param, x: row.params[param] as number, metric, series, mean: c.mean, low: c.mean - half, high: c.mean + half })
      }
    }
  }

  const emotions = emotionBreakdown(input, labelled, headline.metrics)
  const artifactById = new Map([...input.artifacts.values()].flat().map((a) => [a.id, a]))
  const lineage = input.data.runs.map((run): RunLineage => ({
    runId: run.id,
    label: runLabel(run.id),
    steps: input.stages.filter((s) => s.runId === run.id).sort((a, b) => a.position - b.position).map((s) => ({
      role: s.name, kind: s.kind, stageId: s.id, status: s.status,
      artifacts: (input.artifacts.get(s.id) ?? []).map((a) => ({ name: a.name, kind: a.kind, sha256: a.sha256, size: a.size })),
      inputs: (input.consumed.get(s.id) ?? []).flatMap((id) => {
        const a = artifactById.get(id)
        return a === undefined ? [] : [{ stageId: a.stageId, name: a.name, sha256: a.sha256 }]
      })
    }))
  }))
  const baselineLabel = labelled.rows.find((r) => r.isBaseline)?.label
  return { experiment: input.experiment, comparison: labelled, headline, baselineLabel, curves, sweeps, emotions, lineage, notes: input.notes }
}

/**
 * Mean per emotion of the per-item keys behind the headline metrics (`vad.diff_mean_v` behind `|ΔV mean|`, as
 * absolute values), per configuration. Metrics with at most three per-item keys show them all.
 */
const emotionBreakdown = (input: ReportInput, comparison: ComparisonTable, headline: ReadonlyArray<string>): Array<EmotionCell> => {
  if (input.emotions.size === 0) return []
  const itemKeys = [...new Set(input.itemScores.map((s) => `${s.metric}.${s.key}`))].sort()
  const chosen = new Map<string, boolean>()
  for (const h of headline) {
    const match = itemKeyOf(h, itemKeys)
    if (match !== undefined && !chosen.has(match.key)) chosen.set(match.key, match.abs)
  }
  const headlineMetrics = new Set(headline.map((h) => h.slice(0, h.indexOf("."))))
  for (const metric of headlineMetrics) {
    const own = itemKeys.filter((k) => k.startsWith(`${metric}.`))
    if (own.length <= 3) for (const k of own) if (!chosen.has(k)) chosen.set(k, false)
  }
  const cells: Array<Omit<EmotionCell, "z">> = []
  for (const [key, abs] of chosen) {
    // `vad.diff_mean_v` → `vad Δ mean v`-style short names: the metric id, then the key without `item_`/`diff_` noise.
    const short = `${key.slice(0, key.indexOf("."))} ${key.slice(key.indexOf(".") + 1).replace(/^item_/, "")}`
    const metric = abs ? `|${short}|` : short
    for (const row of comparison.rows) {
      const byItem = itemMeans(input.itemScores, row.runs, key, abs)
      const byEmotion = new Map<string, Array<number>>()
      for (const [id, v] of byItem) {
        const emotion = input.emotions.get(id)
        if (emotion === undefined) continue
        byEmotion.set(emotion, [...(byEmotion.get(emotion) ?? []), v])
      }
      for (const [emotion, vs] of byEmotion) cells.push({ configuration: row.label, metric, emotion, mean: mean(vs), n: vs.length })
    }
  }
  const byMetric = new Map<string, Array<number>>()
  for (const c of cells) byMetric.set(c.metric, [...(byMetric.get(c.metric) ?? []), c.mean])
  const stats = new Map([...byMetric].map(([m, vs]) => {
    const mu = mean(vs)
    const sd = Math.sqrt(vs.reduce((s, v) => s + (v - mu) ** 2, 0) / Math.max(1, vs.length - 1))
    return [m, { mu, sd }]
  }))
  return cells.map((c) => {
    const { mu, sd } = stats.get(c.metric)!
    return { ...c, z: sd > 0 ? (c.mean - mu) / sd : 0 }
  })
}
