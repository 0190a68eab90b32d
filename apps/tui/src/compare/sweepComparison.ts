import type { ComparisonData, ParamValue } from "@empo/store"
import { mean, standardDeviation, welchTTest } from "@empo/metrics"
import tQuantile from "@stdlib/stats-base-dists-t-quantile"

/** One metric of one group: mean over seeds with a t-based confidence interval, and the test against the baseline. */
export interface CellStats {
  readonly n: number
  readonly mean: number
  /** Half-width of the confidence interval (NaN with fewer than two seeds). */
  readonly halfWidth: number
  /** Welch t-test p-value against the baseline group (NaN for the baseline itself or too few seeds). */
  readonly pValue: number
}

/** Runs that share every varying param except the seed. */
export interface ComparisonGroup {
  readonly key: string
  readonly label: string
  readonly runIds: ReadonlyArray<string>
  readonly cells: Readonly<Record<string, CellStats | undefined>>
}

export interface SweepComparison {
  readonly metrics: ReadonlyArray<string>
  readonly groups: ReadonlyArray<ComparisonGroup>
  readonly baseline: string
  /** Group key with the best mean per metric. */
  readonly best: Readonly<Record<string, string | undefined>>
  readonly confidence: number
}

export interface CompareOptions {
  /** Only these runs (a chosen subset); all runs of the sweep when absent. */
  readonly runIds?: ReadonlyArray<string> | undefined
  /** Group key to test against; the first group when absent or unknown. */
  readonly baseline?: string | undefined
  readonly confidence?: number | undefined
}

/** Loss-like metrics are better when lower; everything the study reports (distinct-n, empathy, VAD…) when higher. */
export const lowerIsBetter = (metric: string): boolean => /loss|perplexity|\bppl\b|error|_time|seconds/i.test(metric)

/** Params whose value differs between runs, seed excluded (the sweep's axes). */
export const varyingParams = (params: ReadonlyArray<{ readonly runId: string; readonly key: string; readonly value: ParamValue }>): Array<string> => {
  const values = new Map<string, Set<string>>()
  const runs = new Set<string>()
  for (const p of params) {
    runs.add(p.runId)
    const seen = values.get(p.key) ?? values.set(p.key, new Set()).get(p.key)!
    seen.add(JSON.stringify(p.value))
  }
  const counts = new Map<string, number>()
  for (const p of params) counts.set(p.key, (counts.get(p.key) ?? 0) + 1)
  // A key that only some runs have also varies.
  return [...values.entries()]
    .filter(([key, seen]) => key !== "seed" && (seen.size > 1 || counts.get(key)! < runs.size))
    .map(([key]) => key).sort()
}

/** Short column name of a dotted param path: its last segment, or more segments when that is ambiguous. */
export const shortParamNames = (keys: ReadonlyArray<string>): Record<string, string> => {
  const names: Record<string, string> = {}
  for (const key of keys) {
    const parts = key.split(".")
    let depth = 1
    const clash = (d: number) => keys.some((other) => other !== key && other.split(".").slice(-d).join(".") === parts.slice(-d).join("."))
    while (depth < parts.length && clash(depth)) depth++
    names[key] = parts.slice(-depth).join(".")
  }
  return names
}

const formatParam = (v: ParamValue | undefined): string =>
  v === undefined || v === null ? "-" : typeof v === "number" ? String(Number(v.toPrecision(4))) : String(v)

/** Groups runs by their varying params and aggregates every summary metric across seeds. Pure. */
export const compareSweep = (data: ComparisonData, options: CompareOptions = {}): SweepComparison => {
  const confidence = options.confidence ?? 0.95
  const chosen = options.runIds === undefined ? undefined : new Set(options.runIds)
  const runs = data.runs.filter((r) => chosen === undefined || chosen.has(r.id))
  const runSet = new Set(runs.map((r) => r.id))
  const params = data.params.filter((p) => runSet.has(p.runId))
  const axes = varyingParams(params)
  const short = shortParamNames(axes)
  const paramsOf = new Map<string, Record<string, ParamValue>>()
  for (const p of params) (paramsOf.get(p.runId) ?? paramsOf.set(p.runId, {}).get(p.runId)!)[p.key] = p.value
  const valuesOf = new Map<string, Record<string, number>>()
  for (const s of data.summary) {
    if (!runSet.has(s.runId)) continue
    ;(valuesOf.get(s.runId) ?? valuesOf.set(s.runId, {}).get(s.runId)!)[s.key] = s.value
  }
  const metrics = [...new Set(data.summary.filter((s) => runSet.has(s.runId)).map((s) => s.key))].sort()

  const grouped = new Map<string, { label: string; runIds: Array<string> }>()
  for (const run of runs) {
    const own = paramsOf.get(run.id) ?? {}
    const key = JSON.stringify(axes.map((a) => own[a] ?? null))
    const label = axes.length === 0 ? "all runs" : axes.map((a) => `${short[a]}=${formatParam(own[a])}`).join(" ")
    const group = grouped.get(key) ?? grouped.set(key, { label, runIds: [] }).get(key)!
    group.runIds.push(run.id)
  }
  const samples = (runIds: ReadonlyArray<string>, metric: string) =>
    runIds.map((id) => valuesOf.get(id)?.[metric]).filter((v): v is number => v !== undefined && Number.isFinite(v))

  const baseline = options.baseline !== undefined && grouped.has(options.baseline) ? options.baseline : [...grouped.keys()][0] ?? ""
  const baselineRuns = grouped.get(baseline)?.runIds ?? []
  const groups: Array<ComparisonGroup> = [...grouped.entries()].map(([key, g]) => {
    const cells: Record<string, CellStats | undefined> = {}
    for (const metric of metrics) {
      const xs = samples(g.runIds, metric)
      if (xs.length === 0) continue
      const halfWidth = xs.length < 2 ? Number.NaN : tQuantile(1 - (1 - confidence) / 2, xs.length - 1) * standardDeviation(xs) / Math.sqrt(xs.length)
      const base = samples(baselineRuns, metric)
      const pValue = key === baseline || xs.length < 2 || base.length < 2 ? Number.NaN : welchTTest(xs, base).p
      cells[metric] = { n: xs.length, mean: mean(xs), halfWidth, pValue }
    }
    return { key, label: g.label, runIds: g.runIds, cells }
  })

  const best: Record<string, string | undefined> = {}
  for (const metric of metrics) {
    const sign = lowerIsBetter(metric) ? -1 : 1
    let winner: { key: string; value: number } | undefined
    for (const g of groups) {
      const cell = g.cells[metric]
      if (cell !== undefined && (winner === undefined || sign * cell.mean > sign * winner.value)) winner = { key: g.key, value: cell.mean }
    }
    best[metric] = winner?.key
  }
  return { metrics, groups, baseline, best, confidence }
}

/** `*` p < .05, `**` p < .01, `***` p < .001 (Welch t-test against the baseline). */
export const significanceMarker = (p: number): string => (Number.isNaN(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "")

/** A number with 4 significant digits, trimmed. */
export const formatNumber = (x: number): string => (Number.isNaN(x) ? "-" : String(Number(x.toPrecision(4))))

/** `mean ± half-width` (the ± part only with two or more seeds). */
export const formatCell = (cell: CellStats | undefined): string =>
  cell === undefined ? "-" : Number.isNaN(cell.halfWidth) ? formatNumber(cell.mean) : `${formatNumber(cell.mean)}±${formatNumber(cell.halfWidth)}`

const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s)

/** One row per group and metric, raw numbers, for spreadsheets and plotting. */
export const comparisonCsv = (c: SweepComparison): string => {
  const lines = ["group,metric,n,mean,ci_low,ci_high,p_value_vs_baseline,best,baseline"]
  for (const g of c.groups) {
    for (const metric of c.metrics) {
      const cell = g.cells[metric]
      if (cell === undefined) continue
      const hw = Number.isNaN(cell.halfWidth) ? "" : String(cell.halfWidth)
      lines.push([
        csvField(g.label), csvField(metric), String(cell.n), String(cell.mean),
        hw === "" ? "" : String(cell.mean - cell.halfWidth), hw === "" ? "" : String(cell.mean + cell.halfWidth),
        Number.isNaN(cell.pValue) ? "" : String(cell.pValue), String(c.best[metric] === g.key), String(c.baseline === g.key)
      ].join(","))
    }
  }
  return `${lines.join("\n")}\n`
}

const latexEscape = (s: string): string => s.replace(/[\\&%$#_{}~^]/g, (ch) => (ch === "\\" ? "\\textbackslash{}" : ch === "~" ? "\\textasciitilde{}" : ch === "^" ? "\\textasciicircum{}" : `\\${ch}`))

/** A booktabs table: mean ± CI, the best of each column in bold, markers against the baseline as superscripts. */
export const comparisonLatex = (c: SweepComparison): string => {
  const header = ["Run", ...c.metrics.map((m) => `${latexEscape(m)}${lowerIsBetter(m) ? " $\\downarrow$" : " $\\uparrow$"}`)].join(" & ")
  const rows = c.groups.map((g) => {
    const cells = c.metrics.map((metric) => {
      const cell = g.cells[metric]
      if (cell === undefined) return "--"
      const body = Number.isNaN(cell.halfWidth) ? formatNumber(cell.mean) : `${formatNumber(cell.mean)} \\pm ${formatNumber(cell.halfWidth)}`
      const marker = significanceMarker(cell.pValue)
      const value = c.best[metric] === g.key ? `\\mathbf{${body}}` : body
      return `$${value}${marker === "" ? "" : `^{${marker}}`}$`
    })
    return `${latexEscape(g.label)}${g.key === c.baseline ? " (baseline)" : ""} & ${cells.join(" & ")} \\\\`
  })
  const pct = Math.round(c.confidence * 100)
  return [
    "\\begin{table}[t]", "\\centering", `\\begin{tabular}{l${"r".repeat(c.metrics.length)}}`, "\\toprule", `${header} \\\\`, "\\midrule",
    ...rows, "\\bottomrule", "\\end{tabular}",
    `\\caption{Mean $\\pm$ ${pct}\\% CI across seeds; best in bold; $^{*}p<.05$, $^{**}p<.01$, $^{***}p<.001$ (Welch t-test vs. baseline).}`,
    "\\end{table}", ""
  ].join("\n")
}
