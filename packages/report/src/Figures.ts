import type { TopLevelSpec } from "vega-lite"
import type { CurvePoint, EmotionCell, HeadlineTable, SweepPoint } from "./Analysis.ts"
import { arrowOf, labelOf, type MetricKeyOf } from "./Headline.ts"

/** A plot of the report: its file name (`figures/<id>.svg|png`), caption, Vega-Lite spec and how many series it draws. */
export interface Figure {
  readonly id: string
  readonly title: string
  readonly caption: string
  readonly spec: TopLevelSpec
  /** Lines, bars or heatmap panels it shows (one per configuration or stage); the browser test checks it. */
  readonly series: number
  readonly kind: "curves" | "bars" | "sweep" | "heatmap"
}

/** The font every figure is drawn with, in the HTML and the PNGs alike (resvg gets the same file). */
export const figureFont = "DejaVu Sans"

const config = {
  font: figureFont,
  background: "white",
  view: { stroke: "#ccc" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" as const, labelLimit: 160 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 420, titleLimit: 420, orient: "bottom" as const, direction: "vertical" as const },
  title: { fontSize: 12, fontWeight: "normal" as const, anchor: "start" as const, limit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  concat: { spacing: 28 }
}

const curveMeta: Readonly<Record<string, { readonly label: string; readonly unit: string }>> = {
  loss: { label: "training loss", unit: "nats" },
  "rewards/chosen": { label: "reward of chosen", unit: "β·log-ratio, nats" },
  "rewards/rejected": { label: "reward of rejected", unit: "β·log-ratio, nats" },
  "rewards/margins": { label: "reward margin", unit: "chosen − rejected, nats" },
  "rewards/accuracies": { label: "reward accuracy", unit: "share of pairs" },
  kl: { label: "KL estimate (KTO)", unit: "nats" }
}

// Metric ids whose numbers have a scale worth naming on the axis (labels in "(bits)" already carry theirs).
const unitOfMetric: Readonly<Record<string, string>> = {
  vad: "0–1",
  specificity: "0–1",
  distinct: "0–1",
  diversity: "ratio",
  epitome: "level²",
  "epitome-saved": "level²",
  bertscore: "F1, 0–1",
  length: "tokens"
}

/** An axis title with direction and unit: `|ΔV mean| ↓ (NRC lexicon scale 0–1)`. */
export const axisTitle = (key: string, keyOf: MetricKeyOf): string => {
  const label = labelOf(key, keyOf)
  const arrow = arrowOf(keyOf(key))
  const metric = key.slice(0, key.indexOf("."))
  const unit = /\(.*\)$/.test(label) ? undefined : metric.startsWith("bench") ? "score" : unitOfMetric[metric]
  return `${label}${arrow === "" ? "" : ` ${arrow}`}${unit === undefined ? "" : ` (${unit})`}`
}

const legend = (title: string) => ({ title, orient: "bottom" as const, direction: "vertical" as const, labelLimit: 520, titleLimit: 520 })

/** One figure per training role: a panel per logged key (loss, rewards, KL), one line per training stage. */
export const curveFigures = (curves: ReadonlyArray<CurvePoint>): ReadonlyArray<Figure> => {
  const roles = [...new Set(curves.map((c) => c.role))]
  return roles.map((role): Figure => {
    const points = curves.filter((c) => c.role === role)
    const keys = Object.keys(curveMeta).filter((k) => points.some((p) => p.key === k))
    const series = new Set(points.map((p) => p.series)).size
    return {
      id: `curves-${role}`,
      kind: "curves",
      title: `Training curves: ${role}`,
      caption: `What TRL logged while training the ${role} stage, per logging step: ${keys.map((k) => curveMeta[k]!.label).join(", ")}. One line per trained model.`,
      series,
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        config,
        data: { values: points.map((p) => ({ ...p })) },
        columns: 3,
        concat: keys.map((key) => ({
          width: 230,
          height: 150,
          title: curveMeta[key]!.label,
          transform: [{ filter: { field: "key", equal: key } }],
          mark: { type: "line" as const, point: { size: 14 }, strokeWidth: 1.6 },
          encoding: {
            x: { field: "step", type: "quantitative" as const, title: "training step", axis: { tickMinStep: 1 } },
            y: { field: "value", type: "quantitative" as const, title: curveMeta[key]!.unit, scale: { zero: false }, axis: { format: "~g" } },
            color: { field: "series", type: "nominal" as const, legend: legend("trained model (configuration)") }
          }
        }))
      }
    }
  })
}

const cellRows = (table: HeadlineTable) =>
  table.rows.flatMap((row) => table.metrics.map((metric) => {
    const c = row.cells[metric]!
    const half = Number.isFinite(c.ci95) ? c.ci95 : 0
    return { configuration: row.label, metric, mean: c.mean, low: c.mean - half, high: c.mean + half }
  })).filter((r) => Number.isFinite(r.mean))

/** Headline metrics as bars per configuration, with 95% CIs as error bars; a panel per metric. */
export const barFigure = (table: HeadlineTable, keyOf: MetricKeyOf): Figure | undefined => {
  const values = cellRows(table)
  if (values.length === 0) return undefined
  const order = table.rows.map((r) => r.label)
  const ciKinds = new Set(table.rows.flatMap((r) => Object.values(r.cells).map((c) => c.ciKind)))
  const ciText = ciKinds.has("items") && ciKinds.has("seeds") ? "95% CI (across seeds; over items where a configuration has one seed)"
    : ciKinds.has("items") ? "95% CI over items (bootstrap; one seed)" : ciKinds.has("seeds") ? "95% CI across seeds (t)" : "no CI (one seed, no per-item scores)"
  return {
    id: "metrics-bars",
    kind: "bars",
    title: "Headline metrics per configuration",
    caption: `Mean per configuration; error bars: ${ciText}. ↑: higher is better, ↓: lower is better.`,
    series: order.length,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config,
      data: { values },
      columns: 4,
      concat: table.metrics.map((metric) => ({
        width: 150,
        height: 130,
        title: axisTitle(metric, keyOf),
        transform: [{ filter: { field: "metric", equal: metric } }],
        layer: [
          {
            mark: { type: "bar" as const },
            encoding: {
              x: { field: "configuration", type: "nominal" as const, sort: order, title: "configuration", axis: { labels: false, ticks: false } },
              y: { field: "mean", type: "quantitative" as const, title: "mean" },
              color: { field: "configuration", type: "nominal" as const, sort: order, legend: legend("configuration") }
            }
          },
          {
            mark: { type: "rule" as const, color: "black", strokeWidth: 1.2 },
            encoding: {
              x: { field: "configuration", type: "nominal" as const, sort: order },
              y: { field: "low", type: "quantitative" as const },
              y2: { field: "high" }
            }
          }
        ]
      }))
    }
  }
}

/** Headline metrics over a swept numeric param (β), one line per value of the other varying params. */
export const sweepFigures = (sweeps: ReadonlyArray<SweepPoint>, keyOf: MetricKeyOf): ReadonlyArray<Figure> =>
  [...new Set(sweeps.map((s) => s.param))].map((param): Figure => {
    const points = sweeps.filter((s) => s.param === param)
    const leaf = param.split(".").at(-1)!
    const name = leaf === "beta" ? "β" : leaf
    const metrics = [...new Set(points.map((p) => p.metric))]
    return {
      id: `sweep-${leaf}`,
      kind: "sweep",
      title: `Headline metrics over ${name}`,
      caption: `Each headline metric against ${name} (${param}); one line per value of the other varying params; error bars: 95% CI.`,
      series: new Set(points.map((p) => p.series)).size,
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        config,
        data: { values: points.map((p) => ({ ...p })) },
        columns: 4,
        concat: metrics.map((metric) => ({
          width: 150,
          height: 130,
          title: axisTitle(metric, keyOf),
          transform: [{ filter: { field: "metric", equal: metric } }],
          layer: [
            {
              mark: { type: "line" as const, point: true },
              encoding: {
                x: { field: "x", type: "quantitative" as const, title: `${name} (${leaf === "beta" ? "dimensionless" : "value"})`, scale: { zero: false, padding: 14 } },
                y: { field: "mean", type: "quantitative" as const, title: "mean", scale: { zero: false } },
                color: { field: "series", type: "nominal" as const, legend: legend("other varying params") }
              }
            },
            {
              mark: { type: "rule" as const },
              encoding: {
                x: { field: "x", type: "quantitative" as const, scale: { zero: false, padding: 14 } },
                y: { field: "low", type: "quantitative" as const },
                y2: { field: "high" },
                color: { field: "series", type: "nominal" as const }
              }
            }
          ]
        }))
      }
    }
  })

/** Per-item metrics × emotion, one panel per configuration; colour: the mean standardised within the metric. */
export const emotionFigure = (cells: ReadonlyArray<EmotionCell>): Figure | undefined => {
  if (cells.length === 0) return undefined
  const configurations = [...new Set(cells.map((c) => c.configuration))]
  const emotions = [...new Set(cells.map((c) => c.emotion))].sort()
  return {
    id: "emotion-heatmap",
    kind: "heatmap",
    title: "Per-emotion breakdown",
    caption: `Rows: per-item scores; columns: the dialogue's emotion. Mean of each per-item score over the items of each emotion (${emotions.length} emotions), per configuration. Colour: that mean as a z-score within the metric, across all panels; |x|: absolute values.`,
    series: configurations.length,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config,
      data: { values: cells.map((c) => ({ ...c })) },
      facet: { row: { field: "configuration", type: "nominal", sort: configurations, title: null, header: { labelAngle: 0, labelAlign: "left", labelOrient: "top", labelFontSize: 12 } } },
      spec: {
        width: { step: 15 },
        height: { step: 15 },
        mark: { type: "rect" },
        encoding: {
          x: { field: "emotion", type: "nominal", sort: emotions, title: "emotion (of the dialogue)", axis: { labelAngle: -50 } },
          y: { field: "metric", type: "nominal", title: null, axis: { labelLimit: 260 } },
          color: { field: "z", type: "quantitative", scale: { scheme: "redblue", domainMid: 0, reverse: true }, title: "z within metric", legend: { orient: "right", direction: "vertical" } }
        }
      }
    }
  }
}
