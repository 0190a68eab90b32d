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

/** `compare`'s result: only the params that vary, and every metric as mean ± 95% CI. */
export interface ComparisonTable {
  readonly experiment: string
  readonly varying: ReadonlyArray<string>
  readonly metrics: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ComparisonRow>
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
  options: { readonly metrics?: ReadonlyArray<string> | undefined; readonly baseline?: RunId | undefined } = {}
): ComparisonTable | UnknownMetricKeyError => {
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
  if (options.metrics === undefined || options.metrics.length === 0) {
    metrics = known.filter((k) => !bookkeeping.some((prefix) => k.startsWith(prefix)))
  } else {
    metrics = []
    for (const requested of options.metrics) {
      const matched = known.filter((k) => k === requested || k.startsWith(`${requested}.`) || (requested.endsWith(".") && k.startsWith(requested)))
      if (matched.length === 0) return new UnknownMetricKeyError({ requested, known })
      metrics.push(...matched.filter((m) => !metrics.includes(m)))
    }
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
  return { experiment, varying, metrics, rows }
}

const fmt = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : "–")
/** A swept value as a table shows it: numbers to 4 significant digits (`β=0.0106`); CSV and JSON keep full values. */
const paramText = (v: ParamValue) =>
  v === null ? "–" : typeof v === "string" ? v : typeof v === "number" ? String(Number(v.toPrecision(4))) : String(v)
const paramExact = (v: ParamValue) => (v === null ? "–" : String(v))
const stars = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "")

const cellText = (c: MetricCell) => `${fmt(c.mean)}${Number.isFinite(c.ci95) ? ` ± ${fmt(c.ci95, 2)}` : ""}${stars(c.p)}`

const header = (t: ComparisonTable) => [...t.varying.map((v) => v.split(".").slice(-2).join(".")), "n", ...t.metrics]

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
    ...(t.rows.some((r) => r.isBaseline) ? ["* p<0.05, ** p<0.01, *** p<0.001 vs the baseline (Welch's t-test across seeds)"] : [])
  ]
  if (t.metrics.length > 6) {
    const configs = t.rows.map((r) => `${t.varying.map((k) => paramText(r.params[k] ?? null)).join(" ") || r.label}${r.isBaseline ? " (baseline)" : ""}`)
    return [
      ...align([
        ["metric", ...configs],
        ["n", ...t.rows.map((r) => String(r.seeds.length))],
        ...t.metrics.map((m) => [m, ...t.rows.map((r) => cellText(r.metrics[m]!))])
      ]),
      ...(t.varying.length > 0 ? [``, `columns: ${t.varying.join(", ")}`] : []),
      ...notes
    ].join("\n")
  }
  const body = t.rows.map((r) => [
    ...t.varying.map((k) => paramText(r.params[k] ?? null)), `${r.seeds.length}${r.isBaseline ? " (baseline)" : ""}`,
    ...t.metrics.map((m) => cellText(r.metrics[m]!))
  ])
  return [...align([header(t), ...body]), ...notes].join("\n")
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
  return [head, ...rows].map((row) => row.map(csvField).join(",")).join("\n") + "\n"
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
  const head = header(t).map(latexEscape)
  const rows = t.rows.map((r) => [
    ...t.varying.map((k) => latexEscape(paramText(r.params[k] ?? null))), String(r.seeds.length),
    ...t.metrics.map((m) => {
      const c = r.metrics[m]!
      const value = `${fmt(c.mean)}${Number.isFinite(c.ci95) ? ` $\\pm$ ${fmt(c.ci95, 2)}` : ""}`
      const marked = c.p !== undefined && c.p < 0.05 ? `${value}$^\\dagger$` : value
      return c.mean === best[m] ? `\\textbf{${marked}}` : marked
    })
  ].join(" & ") + " \\\\")
  return [
    `\\begin{tabular}{${"l".repeat(t.varying.length)}r${"r".repeat(t.metrics.length)}}`, "\\toprule",
    head.join(" & ") + " \\\\", "\\midrule", ...rows, "\\bottomrule", "\\end{tabular}"
  ].join("\n") + "\n"
}
