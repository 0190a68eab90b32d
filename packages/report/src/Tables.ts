import type { HeadlineCell, HeadlineTable, RunLineage } from "./Analysis.ts"
import { arrowOf, labelOf, type MetricKeyOf } from "./Headline.ts"

/** 4 significant digits; "–" for no value. */
export const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : "–")

/** `*` p<0.05, `**` p<0.01, `***` p<0.001. */
export const stars = (p: number | undefined): string =>
  p === undefined || !Number.isFinite(p) ? "" : p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : ""

const latexEscape = (s: string) =>
  s.replace(/([\\&%$#_{}])/g, "\\$1").replaceAll("~", "\\textasciitilde{}").replaceAll("^", "\\textasciicircum{}")
    // pdflatex's default fonts have no Greek or arrows outside math mode.
    .replaceAll("β", "$\\beta$").replaceAll("Δ", "$\\Delta$").replaceAll("≤", "$\\leq$").replaceAll("−", "-")
    .replaceAll("|", "$|$")

const cellLatex = (c: HeadlineCell, best: boolean): string => {
  if (!Number.isFinite(c.mean)) return "--"
  const ci = Number.isFinite(c.ci95) && c.ci95 > 0 ? ` $\\pm$ ${fmt(c.ci95, 2)}` : ""
  const body = `${fmt(c.mean)}${ci}`
  const marked = best ? `\\textbf{${body}}` : body
  const s = stars(c.p)
  return s === "" ? marked : `${marked}$^{${s.replaceAll("*", "\\ast")}}$`
}

/**
 * The headline table as booktabs LaTeX: a row per metric (label and ↑/↓), a column per configuration, mean ± 95%
 * CI, the best configuration per metric in bold, stars for significance against the baseline. Needs
 * `\usepackage{booktabs}`; `\input` it inside a `table` environment.
 */
export const headlineLatex = (table: HeadlineTable, keyOf: MetricKeyOf, baseline: string | undefined): string => {
  const cols = table.rows.map((r) => `${latexEscape(r.label)}${r.isBaseline ? " (base)" : ""}`)
  const lines = table.metrics.map((metric) => {
    const arrow = arrowOf(keyOf(metric))
    const name = `${latexEscape(labelOf(metric, keyOf))}${arrow === "↑" ? " $\\uparrow$" : arrow === "↓" ? " $\\downarrow$" : ""}`
    return [name, ...table.rows.map((r, i) => cellLatex(r.cells[metric]!, table.best[metric] === i))].join(" & ") + " \\\\"
  })
  const note = baseline === undefined
    ? "mean $\\pm$ 95\\% CI; best per metric in bold"
    : `mean $\\pm$ 95\\% CI; best in bold; $^{\\ast}p<0.05$, $^{\\ast\\ast}p<0.01$, $^{\\ast\\ast\\ast}p<0.001$ vs ${latexEscape(baseline)}`
  return [
    "% empo report: headline metrics; needs \\usepackage{booktabs}",
    `\\begin{tabular}{l${"r".repeat(cols.length)}}`,
    "\\toprule",
    `metric & ${cols.join(" & ")} \\\\`,
    "\\midrule",
    ...lines,
    "\\bottomrule",
    `\\multicolumn{${cols.length + 1}}{l}{\\footnotesize ${note}} \\\\`,
    "\\end{tabular}"
  ].join("\n") + "\n"
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s)
const csv = (rows: ReadonlyArray<ReadonlyArray<string>>) => rows.map((r) => r.map(csvField).join(",")).join("\n") + "\n"
const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "" : String(x))

/** The headline table long-form: one line per configuration and metric, full precision. */
export const headlineCsv = (table: HeadlineTable, keyOf: MetricKeyOf): string =>
  csv([
    ["configuration", "baseline", "metric", "label", "direction", "mean", "ci95", "ci_kind", "n", "delta", "p", "test", "best"],
    ...table.rows.flatMap((r, i) => table.metrics.map((m) => {
      const c = r.cells[m]!
      return [r.label, String(r.isBaseline), m, labelOf(m, keyOf), keyOf(m)?.direction ?? "", num(c.mean), num(c.ci95), c.ciKind, String(c.n),
        num(c.delta), num(c.p), c.test ?? "", String(table.best[m] === i)]
    }))
  ])

/** Every stage of every run with its artifacts' hashes: dataset → model → predictions → metrics. */
export const lineageCsv = (lineage: ReadonlyArray<RunLineage>): string =>
  csv([
    ["run", "configuration", "stage_role", "stage_kind", "stage_id", "status", "direction", "artifact", "artifact_kind", "sha256", "bytes", "from_stage"],
    ...lineage.flatMap((run) => run.steps.flatMap((s) => {
      const head = [run.runId, run.label, s.role, s.kind, s.stageId, s.status]
      const reads = s.inputs.map((a) => [...head, "reads", a.name, "", a.sha256, "", a.stageId])
      const writes = s.artifacts.map((a) => [...head, "writes", a.name, a.kind, a.sha256, String(a.size), ""])
      return reads.length + writes.length === 0 ? [[...head, "", "", "", "", "", ""]] : [...reads, ...writes]
    }))
  ])
