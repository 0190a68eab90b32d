import { UserError } from "@empo/core/Errors"
import type { MetricDirection } from "@empo/core/MetricKey"
import type { ComparisonData, ParamValue, RunId } from "@empo/store"
import tQuantile from "@stdlib/stats-base-dists-t-quantile"
import { welchTTest } from "@empo/metrics/Statistics"
import { mean, standardDeviation } from "@empo/metrics/Statistics"
import * as Schema from "effect/Schema"

/** A metric of one configuration across its seeds. */
export interface MetricCell {
  readonly n: number
  readonly mean: number
  /** Half-width of the 95% t-interval; NaN with fewer than two seeds. */
  readonly ci95: number
  /** Welch's t-test p-value against the baseline configuration (absent for the baseline, NaN when n < 2). */
  readonly p?: number
  readonly delta?: number
}

/** One configuration (runs that differ only by seed). */
export interface ComparisonRow {
  readonly label: string
  readonly params: Readonly<Record<string, ParamValue>>
  readonly runs: ReadonlyArray<RunId>
  readonly seeds: ReadonlyArray<number>
  readonly isBaseline: boolean
  readonly metrics: Readonly<Record<string, MetricCell>>
}

/**
 * A row of numbers beside the configurations, not one of them (the gold responses scored by the same metrics):
 * a column of its own when the table turns. Never the best, never tested against the baseline.
 */
export interface ReferenceRow {
  readonly label: string
  /** What the row is, for the notes under the table. */
  readonly description: string
  readonly metrics: Readonly<Record<string, MetricCell>>
}

/** A block printed under the table (and kept in JSON), e.g. a benchmark's retention against the base model. */
export interface ComparisonSection {
  readonly title: string
  readonly lines: ReadonlyArray<string>
  readonly data?: unknown
}

/** `compare`'s result: only the params that vary, and every metric as mean ± 95% CI. */
export interface ComparisonTable {
  readonly experiment: string
  readonly varying: ReadonlyArray<string>
  /** Headline metrics first (see {@link defaultHeadline}), then the rest. */
  readonly metrics: ReadonlyArray<string>
  /** The leading metrics of {@link metrics} that the headline list picked. */
  readonly headline: ReadonlyArray<string>
  /** Which way is better, per metric whose plugin says so (its manifest); absent when nobody does. */
  readonly directions: Readonly<Record<string, MetricDirection>>
  readonly rows: ReadonlyArray<ComparisonRow>
  /** Added by providers after the comparison (see {@link withReference}); empty from {@link compareExperiment}. */
  readonly references: ReadonlyArray<ReferenceRow>
  readonly sections: ReadonlyArray<ComparisonSection>
}

/**
 * The metrics a comparison leads with, in order: diff-EPITOME, BERTScore, VAD |diff|, NIDF, diversity, then
 * benchmarks. Each entry is a key or a prefix, matched as `--metrics` matches; of each plugin only the keys with
 * a direction lead (VAD's |diff| means, not its signed ones or maxima). `empo compare --headline` replaces it.
 */
export const defaultHeadline: ReadonlyArray<string> = ["epitome-saved", "epitome", "bertscore", "vad", "specificity", "diversity", "bench"]

const isScore = (direction: MetricDirection | undefined) => direction === "higher" || direction === "lower"

/** `--metrics`-style matching: the key itself, `<prefix>.…`, or a prefix that ends in a dot. */
export const matchesMetric = (pattern: string, key: string): boolean =>
  key === pattern || key.startsWith(`${pattern}.`) || (pattern.endsWith(".") && key.startsWith(pattern))

/**
 * The headline keys of `metrics`, in headline order: those a pattern matches that are scores, i.e. whose
 * direction is `higher` or `lower` (descriptions and keys no manifest describes stay in the rest). Pure.
 */
export const headlineOf = (metrics: ReadonlyArray<string>, headline: ReadonlyArray<string>, directionOf: DirectionOf): Array<string> => {
  const lead: Array<string> = []
  for (const pattern of headline) {
    for (const key of metrics) if (!lead.includes(key) && matchesMetric(pattern, key) && isScore(directionOf(key))) lead.push(key)
  }
  return lead
}

/** `--metrics` named something no run reported. Exit code 2. */
export class UnknownMetricKeyError extends UserError<UnknownMetricKeyError>()("UnknownMetricKeyError", {
  requested: Schema.String,
  known: Schema.Array(Schema.String)
}, {
  exitCode: 2,
  message: (e) => `no run reported a metric \`${e.requested}\`; known: ${e.known.join(", ") || "(none yet: have the runs finished?)"}`
}) {}

// Bookkeeping numbers every stage reports, by stage role (and the base/SFT benchmarks, shown by retention); `--metrics sft.` etc. still selects them explicitly.
const bookkeeping = ["dataset-", "model.", "items.", "generate.", "sft.", "preference.", "bench-"]

const ci95 = (xs: ReadonlyArray<number>): number =>
  xs.length < 2 ? Number.NaN : tQuantile(0.975, xs.length - 1) * standardDeviation(xs) / Math.sqrt(xs.length)

/** Groups runs by configuration, keeps the varying params, and summarises each metric across seeds. Pure. */
export const compareExperiment = (
  experiment: string,
  data: ComparisonData,
  options: {
    readonly metrics?: ReadonlyArray<string> | undefined
    readonly baseline?: RunId | undefined
    /** Direction per metric key (the catalogue's `metricKey`); without it no metric has one. */
    readonly directionOf?: DirectionOf | undefined
    /** Key patterns to lead with, in order (default {@link defaultHeadline}); `--metrics` keeps its own order. */
    readonly headline?: ReadonlyArray<string> | undefined
  } = {}
): ComparisonTable | UnknownMetricKeyError => {
  const directionOf: DirectionOf = options.directionOf ?? (() => undefined)
  const paramsByRun = new Map<string, Record<string, ParamValue>>()
  for (const p of data.params) {
    if (p.key === "seed") continue
    const record = paramsByRun.get(p.runId) ?? {}
    record[p.key] = p.value
    paramsByRun.set(p.runId, record)
  }
  const allKeys = [...new Set(data.params.map((p) => p.key))].filter((k) => k !== "seed").sort()
  const varying = allKeys.filter((key) => new Set(data.runs.map((r) => JSON.stringify(paramsByRun.get(r.id)?.[key] ?? null))).size > 1)

  const known = [...new Set(data.summary.map((s) => s.key))].sort()
  let metrics: Array<string>
  let headline: Array<string>
  if (options.metrics === undefined || options.metrics.length === 0) {
    const evaluations = known.filter((k) => !bookkeeping.some((prefix) => k.startsWith(prefix)))
    headline = headlineOf(evaluations, options.headline ?? defaultHeadline, directionOf)
    metrics = [...headline, ...evaluations.filter((k) => !headline.includes(k))]
  } else {
    metrics = []
    for (const requested of options.metrics) {
      const matched = known.filter((k) => matchesMetric(requested, k))
      if (matched.length === 0) return new UnknownMetricKeyError({ requested, known })
      metrics.push(...matched.filter((m) => !metrics.includes(m)))
    }
    // Asked for by name: their order stands, and the headline block is the headline keys they start with.
    const picked = new Set(headlineOf(metrics, options.headline ?? defaultHeadline, directionOf))
    const firstOther = metrics.findIndex((m) => !picked.has(m))
    headline = metrics.slice(0, firstOther === -1 ? metrics.length : firstOther)
  }
  const directions: Record<string, MetricDirection> = {}
  for (const metric of metrics) {
    const direction = directionOf(metric)
    if (direction !== undefined) directions[metric] = direction
  }

  const valuesByRun = new Map<string, Map<string, number>>()
  for (const s of data.summary) {
    const m = valuesByRun.get(s.runId) ?? new Map<string, number>()
    m.set(s.key, s.value)
    valuesByRun.set(s.runId, m)
  }

  const groups = new Map<string, { label: string; params: Record<string, ParamValue>; runs: Array<RunId>; seeds: Array<number> }>()
  for (const run of data.runs) {
    const params = Object.fromEntries(varying.map((k) => [k, paramsByRun.get(run.id)?.[k] ?? null]))
    const key = JSON.stringify(params)
    const group = groups.get(key) ?? { label: run.label.replace(/\s*seed=\S+$/, "") || "(base)", params, runs: [], seeds: [] }
    group.runs.push(run.id)
    group.seeds.push(run.seed)
    groups.set(key, group)
  }
  const series = (runs: ReadonlyArray<RunId>, metric: string) =>
    runs.map((id) => valuesByRun.get(id)?.get(metric)).filter((v): v is number => v !== undefined && Number.isFinite(v))
  const baselineGroup = options.baseline === undefined ? undefined : [...groups.values()].find((g) => g.runs.includes(options.baseline!))

  const rows: Array<ComparisonRow> = [...groups.values()].map((g) => {
    const isBaseline = g === baselineGroup
    const cells: Record<string, MetricCell> = {}
    for (const metric of metrics) {
      const xs = series(g.runs, metric)
      const base = baselineGroup === undefined || isBaseline ? undefined : series(baselineGroup.runs, metric)
      cells[metric] = {
        n: xs.length, mean: mean(xs), ci95: ci95(xs),
        ...(base === undefined ? {} : {
          delta: mean(xs) - mean(base),
          p: xs.length >= 2 && base.length >= 2 ? welchTTest(xs, base).p : Number.NaN
        })
      }
    }
    return { label: g.label, params: g.params, runs: g.runs, seeds: g.seeds, isBaseline, metrics: cells }
  })
  return { experiment, varying, metrics, headline, directions, rows, references: [], sections: [] }
}

/** The table with one more reference row (a column when the table turns). Pure. */
export const withReference = (table: ComparisonTable, reference: ReferenceRow): ComparisonTable =>
  ({ ...table, references: [...table.references, reference] })

/** The table with one more section under it. Pure. */
export const withSection = (table: ComparisonTable, section: ComparisonSection): ComparisonTable =>
  ({ ...table, sections: [...table.sections, section] })

/** `↑` higher is better, `↓` lower is better, "" for a description or an undescribed key. */
export const directionMarker = (direction: MetricDirection | undefined): string => (direction === "higher" ? "↑" : direction === "lower" ? "↓" : "")

/** A metric's name with its direction marker, as headers show it (`vad.diff_max_v_abs_mean ↓`). */
export const metricHeader = (t: ComparisonTable, metric: string): string => {
  const marker = directionMarker(t.directions[metric])
  return marker === "" ? metric : `${metric} ${marker}`
}

const fmt = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : "–")
/** A swept value as a table shows it: numbers to 4 significant digits (`β=0.0106`); CSV and JSON keep full values. */
const paramText = (v: ParamValue) =>
  v === null ? "–" : typeof v === "string" ? v : typeof v === "number" ? String(Number(v.toPrecision(4))) : String(v)
const paramExact = (v: ParamValue) => (v === null ? "–" : String(v))
const stars = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "")

const cellText = (c: MetricCell) => `${fmt(c.mean)}${Number.isFinite(c.ci95) ? ` ± ${fmt(c.ci95, 2)}` : ""}${stars(c.p)}`

const header = (t: ComparisonTable, name: (metric: string) => string = (m) => metricHeader(t, m)) =>
  [...t.varying.map((v) => v.split(".").slice(-2).join(".")), "n", ...t.metrics.map(name)]

/** A reference row's cell of `metric`: its value (one scoring, no interval), `–` where it has none. */
const referenceCell = (r: ReferenceRow, metric: string): MetricCell => r.metrics[metric] ?? { n: 0, mean: Number.NaN, ci95: Number.NaN }

const legend = (t: ComparisonTable): Array<string> => [
  ...(Object.values(t.directions).some((d) => d !== "none") ? ["↑ higher is better, ↓ lower is better (the metric plugins' manifests)"] : []),
  ...t.references.map((r) => `${r.label}: ${r.description}`)
]

const sectionLines = (t: ComparisonTable): Array<string> => t.sections.flatMap((s) => ["", s.title, ...s.lines.map((l) => `  ${l}`)])

const align = (rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(rows[0]!), line(widths.map((w) => "-".repeat(w))), ...rows.slice(1).map(line)]
}

/**
 * A terminal table; `*` marks p < 0.05 against the baseline (Welch's t-test across seeds). With many metrics
 * it turns: one line per metric and one column per configuration, so it stays readable in a terminal.
 */
export const renderTable = (t: ComparisonTable): string => {
  const notes = [
    "",
    `experiment ${t.experiment}: ${t.rows.length} configuration(s); mean ± 95% CI across seeds`,
    ...(t.rows.some((r) => r.isBaseline) ? ["* p<0.05, ** p<0.01, *** p<0.001 vs the baseline (Welch's t-test across seeds)"] : []),
    ...legend(t)
  ]
  if (t.metrics.length > 6) {
    const configs = t.rows.map((r) => `${t.varying.map((k) => paramText(r.params[k] ?? null)).join(" ") || r.label}${r.isBaseline ? " (baseline)" : ""}`)
    const metricLine = (m: string) => [metricHeader(t, m), ...t.rows.map((r) => cellText(r.metrics[m]!)), ...t.references.map((r) => cellText(referenceCell(r, m)))]
    // The headline block, a blank line, then the other metrics.
    const rest = t.metrics.slice(t.headline.length)
    return [
      ...align([
        ["metric", ...configs, ...t.references.map((r) => r.label)],
        ["n", ...t.rows.map((r) => String(r.seeds.length)), ...t.references.map(() => "")],
        ...t.headline.map(metricLine),
        ...(t.headline.length > 0 && rest.length > 0 ? [Array<string>(1 + t.rows.length + t.references.length).fill("")] : []),
        ...rest.map(metricLine)
      ]),
      ...(t.varying.length > 0 ? [``, `columns: ${t.varying.join(", ")}`] : []),
      ...notes,
      ...sectionLines(t)
    ].join("\n")
  }
  const body = t.rows.map((r) => [
    ...t.varying.map((k) => paramText(r.params[k] ?? null)), `${r.seeds.length}${r.isBaseline ? " (baseline)" : ""}`,
    ...t.metrics.map((m) => cellText(r.metrics[m]!))
  ])
  // A reference row names itself in the first column (the n column when nothing varies).
  const references = t.references.map((r) => [
    ...(t.varying.length > 0 ? [r.label, ...t.varying.slice(1).map(() => "")] : []), t.varying.length > 0 ? "" : r.label,
    ...t.metrics.map((m) => cellText(referenceCell(r, m)))
  ])
  return [...align([header(t), ...body, ...references]), ...notes, ...sectionLines(t)].join("\n")
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s)

/** One row per configuration; for each metric: mean, ci95, n and (with a baseline) delta and p. */
export const renderCsv = (t: ComparisonTable): string => {
  const withBaseline = t.rows.some((r) => r.isBaseline)
  const head = [...t.varying, "runs", ...t.metrics.flatMap((m) => [`${m}.mean`, `${m}.ci95`, `${m}.n`, ...(withBaseline ? [`${m}.delta`, `${m}.p`] : [])])]
  const rows = t.rows.map((r) => [
    ...t.varying.map((k) => paramExact(r.params[k] ?? null)), r.runs.join(" "),
    ...t.metrics.flatMap((m) => {
      const c = r.metrics[m]!
      return [String(c.mean), String(c.ci95), String(c.n), ...(withBaseline ? [String(c.delta ?? ""), String(c.p ?? "")] : [])]
    })
  ])
  // Reference rows: no params, their label where a configuration lists its runs.
  const references = t.references.map((r) => [
    ...t.varying.map(() => ""), r.label,
    ...t.metrics.flatMap((m) => {
      const c = referenceCell(r, m)
      return [String(c.mean), String(c.ci95), String(c.n), ...(withBaseline ? ["", ""] : [])]
    })
  ])
  return [head, ...rows, ...references].map((row) => row.map(csvField).join(",")).join("\n") + "\n"
}

const latexEscape = (s: string) => s.replace(/([\\&%$#_{}])/g, "\\$1").replaceAll("~", "\\textasciitilde{}")

/** Which way is better for a metric key; undefined when nobody says (the catalogue's `metricKey`). */
export type DirectionOf = (metric: string) => MetricDirection | undefined

/**
 * Index of the row with the best mean of each metric, by the metric's direction; undefined for metrics
 * without one (`none` or unknown) and when no row has a finite mean. Pure.
 */
export const bestRows = (table: ComparisonTable, directionOf: DirectionOf): Record<string, number | undefined> => {
  const best: Record<string, number | undefined> = {}
  for (const metric of table.metrics) {
    const direction = directionOf(metric)
    const sign = direction === "higher" ? 1 : direction === "lower" ? -1 : 0
    let winner: number | undefined
    if (sign !== 0) {
      table.rows.forEach((row, i) => {
        const value = row.metrics[metric]?.mean
        if (value === undefined || !Number.isFinite(value)) return
        if (winner === undefined || sign * value > sign * table.rows[winner]!.metrics[metric]!.mean) winner = i
      })
    }
    best[metric] = winner
  }
  return best
}

/**
 * A booktabs table; the best mean of each metric in bold by its direction (none for metrics without one),
 * daggers mark p < 0.05.
 */
export const renderLatex = (t: ComparisonTable, directionOf: DirectionOf): string => {
  const bestRow = bestRows(t, directionOf)
  const best = Object.fromEntries(t.metrics.map((m) => [m, bestRow[m] === undefined ? undefined : t.rows[bestRow[m]!]!.metrics[m]!.mean]))
  const head = header(t, (m) => {
    const marker = t.directions[m] === "higher" ? " $\\uparrow$" : t.directions[m] === "lower" ? " $\\downarrow$" : ""
    return `${latexEscape(m)}${marker}`
  }).map((cell, i) => (i < t.varying.length + 1 ? latexEscape(cell) : cell))
  const rows = t.rows.map((r) => [
    ...t.varying.map((k) => latexEscape(paramText(r.params[k] ?? null))), String(r.seeds.length),
    ...t.metrics.map((m) => {
      const c = r.metrics[m]!
      const value = `${fmt(c.mean)}${Number.isFinite(c.ci95) ? ` $\\pm$ ${fmt(c.ci95, 2)}` : ""}`
      const marked = c.p !== undefined && c.p < 0.05 ? `${value}$^\\dagger$` : value
      return c.mean === best[m] ? `\\textbf{${marked}}` : marked
    })
  ].join(" & ") + " \\\\")
  const references = t.references.map((r) => [
    ...(t.varying.length > 0 ? [`\\textit{${latexEscape(r.label)}}`, ...t.varying.slice(1).map(() => "")] : []),
    t.varying.length > 0 ? "" : `\\textit{${latexEscape(r.label)}}`,
    ...t.metrics.map((m) => {
      const c = referenceCell(r, m)
      return Number.isFinite(c.mean) ? fmt(c.mean) : "–"
    })
  ].join(" & ") + " \\\\")
  return [
    `\\begin{tabular}{${"l".repeat(t.varying.length)}r${"r".repeat(t.metrics.length)}}`, "\\toprule",
    head.join(" & ") + " \\\\", "\\midrule", ...rows, ...(references.length > 0 ? ["\\midrule", ...references] : []), "\\bottomrule", "\\end{tabular}"
  ].join("\n") + "\n"
}
