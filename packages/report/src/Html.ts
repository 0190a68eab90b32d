import type { HeadlineCell, ReportModel } from "./Analysis.ts"
import type { RenderedFigure } from "./FigureRenderer.ts"
import { prefixSvgIds } from "./FigureRenderer.ts"
import { arrowOf, labelOf, type MetricKeyOf } from "./Headline.ts"
import { fmt, stars } from "./Tables.ts"

const esc = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;")

const style = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 1180px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.muted { color: #666; } code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: .85rem; }
pre { background: #f6f6f6; padding: .8rem; overflow: auto; max-height: 28rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; } thead th { border-bottom: 2px solid #999; }
td.best { font-weight: bold; } sup.sig { margin-left: .15em; } .up { color: #1a7f37; } .down { color: #b35900; }
figure { margin: 1.4rem 0; } figure svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: .9rem; margin-top: .3rem; }
.lineage td, .lineage th { text-align: left; font-size: .82rem; } .hash { font-family: "DejaVu Sans Mono", monospace; color: #555; }
`

const cellHtml = (c: HeadlineCell) => {
  if (!Number.isFinite(c.mean)) return "–"
  const ci = Number.isFinite(c.ci95) && c.ci95 > 0 ? ` ± ${fmt(c.ci95, 2)}` : ""
  const mark = c.ciKind === "items" ? "<sup title=\"95% CI over items (one seed)\">i</sup>" : ""
  const sig = stars(c.p)
  const title = c.p === undefined ? "" : ` title="p = ${fmt(c.p, 3)} (${c.test === "paired-items" ? "paired permutation test over items" : "Welch's t-test across seeds"})"`
  return `<span${title}>${fmt(c.mean)}${ci}${mark}${sig === "" ? "" : `<sup class="sig">${sig}</sup>`}</span>`
}

const figureHtml = (r: RenderedFigure) =>
  `<figure id="fig-${esc(r.figure.id)}" class="figure" data-figure="${esc(r.figure.id)}" data-kind="${r.figure.kind}" data-series="${r.figure.series}">
<h3>${esc(r.figure.title)}</h3>
${prefixSvgIds(r.svg, r.figure.id)}
<figcaption>${esc(r.figure.caption)} <span class="muted">Files: figures/${esc(r.figure.id)}.svg, figures/${esc(r.figure.id)}.png</span></figcaption>
</figure>`

/**
 * The report as one HTML file: figures inlined as SVG, styles inline, no script and no external reference, so it
 * opens from disk anywhere (and prints).
 */
export const reportHtml = (model: ReportModel, figures: ReadonlyArray<RenderedFigure>, keyOf: MetricKeyOf, generatedAt: string): string => {
  const { experiment, comparison, headline } = model
  const spec = (() => {
    try {
      return JSON.stringify(JSON.parse(experiment.specJson), null, 2)
    } catch {
      return experiment.specJson
    }
  })()
  const headRow = headline.rows.map((r) => `<th>${esc(r.label)}${r.isBaseline ? " <span class=\"muted\">(baseline)</span>" : ""}<br><span class="muted">n=${r.runs.length}</span></th>`).join("")
  const bodyRows = headline.metrics.map((m) => {
    const arrow = arrowOf(keyOf(m))
    const arrowHtml = arrow === "" ? "" : ` <span class="${arrow === "↑" ? "up" : "down"}" title="${arrow === "↑" ? "higher is better" : "lower is better"}">${arrow}</span>`
    const cells = headline.rows.map((r, i) => `<td class="${headline.best[m] === i ? "best" : ""}">${cellHtml(r.cells[m]!)}</td>`).join("")
    return `<tr><td>${esc(labelOf(m, keyOf))}${arrowHtml} <span class="muted">${esc(m)}</span></td>${cells}</tr>`
  }).join("\n")
  const sections = (kind: RenderedFigure["figure"]["kind"]) => figures.filter((f) => f.figure.kind === kind).map(figureHtml).join("\n")
  // One run open, the rest folded: every run repeats the shared stages, and a sweep has many runs.
  const lineage = model.lineage.map((run, i) => `<details${i === 0 ? " open" : ""}><summary><b>${esc(run.label)}</b> <span class="hash">${esc(run.runId)}</span>: ${run.steps.map((s) => esc(s.role)).join(" → ")}</summary>
<table class="lineage"><thead><tr><th>stage</th><th>kind</th><th>stage id (content hash)</th><th>status</th><th>reads (stage: file sha256)</th><th>writes (sha256)</th></tr></thead><tbody>
${run.steps.map((s) => `<tr><td>${esc(s.role)}</td><td>${esc(s.kind)}</td><td class="hash">${esc(s.stageId)}</td><td>${esc(s.status)}</td><td>${
    s.inputs.map((a) => `${esc(run.steps.find((st) => st.stageId === a.stageId)?.role ?? a.stageId)}: ${esc(a.name)} <span class="hash">${esc(a.sha256.slice(0, 12))}</span>`).join("<br>") || "–"}</td><td>${
    s.artifacts.map((a) => `${esc(a.name)} <span class="hash">${esc(a.sha256.slice(0, 16))}</span>`).join("<br>") || "–"}</td></tr>`).join("\n")}
</tbody></table></details>`).join("\n")
  const significance = model.baselineLabel === undefined
    ? "No baseline: pass <code>--baseline RUN</code> to test every configuration against one."
    : `Stars: p&lt;0.05 (*), 0.01 (**), 0.001 (***) against the baseline <b>${esc(model.baselineLabel)}</b>: a paired permutation test over items where per-item scores exist, else Welch's t-test across seeds (hover a value for its p).`
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>empo report: ${esc(experiment.name)}</title><style>${style}</style></head>
<body>
<h1>Experiment <code>${esc(experiment.name)}</code></h1>
<p>${esc(experiment.description)}</p>
<p class="muted">${comparison.rows.length} configuration(s), ${comparison.rows.reduce((n, r) => n + r.runs.length, 0)} run(s); generated ${esc(generatedAt)} by <code>empo report</code>.</p>
<h2 id="spec">Spec and what varies</h2>
<p>Varying params: ${comparison.varying.length === 0 ? "none" : comparison.varying.map((v) => `<code>${esc(v)}</code>`).join(", ")}.</p>
<table><thead><tr><th>configuration</th>${comparison.varying.map((v) => `<th>${esc(v)}</th>`).join("")}<th>runs (seeds)</th></tr></thead><tbody>
${comparison.rows.map((r) => `<tr><td>${esc(r.label)}</td>${comparison.varying.map((v) => `<td>${esc(String(r.params[v] ?? "–"))}</td>`).join("")}<td>${r.runs.map((id, i) => `<span class="hash">${esc(id)}</span> (${r.seeds[i]})`).join(", ")}</td></tr>`).join("\n")}
</tbody></table>
<details><summary>Full spec${experiment.specFile === null ? "" : ` (${esc(experiment.specFile)})`}</summary><pre>${esc(spec)}</pre></details>
<h2 id="headline">Headline metrics</h2>
${headline.metrics.length === 0 ? "<p>No evaluation metrics yet: have the runs finished?</p>" : `<table id="headline-table"><thead><tr><th>metric</th>${headRow}</tr></thead><tbody>
${bodyRows}
</tbody></table>`}
<p class="muted">Mean ± 95% CI across seeds (<sup>i</sup>: over items, bootstrap, where a configuration has one seed); bold: best by the metric's direction (↑ higher, ↓ lower is better). ${significance} Tables: tables/headline.tex, tables/headline.csv.</p>
<h2 id="curves">Training curves</h2>
${sections("curves") || "<p>No training metrics were logged.</p>"}
<h2 id="bars">Metrics per configuration</h2>
${sections("bars") || "<p>No metrics to plot.</p>"}
<h2 id="sweeps">Over swept parameters</h2>
${sections("sweep") || "<p>No numeric parameter varies across configurations.</p>"}
<h2 id="emotions">Per-emotion breakdown</h2>
${sections("heatmap") || "<p>No per-item scores with emotion labels.</p>"}
<h2 id="lineage">Lineage</h2>
<p class="muted">Each run's stages in order, content-addressed (the id is a hash of the stage's inputs), with the files each read from earlier stages and the sha256 of every file it produced. Table: tables/lineage.csv.</p>
${lineage}
${model.notes.length === 0 ? "" : `<h2 id="notes">Notes</h2><ul>${model.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`}
</body></html>
`
}
