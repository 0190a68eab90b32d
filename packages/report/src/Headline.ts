import type { MetricKey } from "@empo/core/MetricKey"

/**
 * The metrics a report puts first, in this order: exact keys (`specificity.nidf_mean`) or prefixes ending in
 * `.` (`vad.`). A prefix takes only the keys whose manifest gives a direction (`higher`/`lower`): an SD or a
 * count describes, it does not rank. Metric ids that are not installed simply match nothing, so this list can
 * name metrics other plugins add (EPITOME, BERTScore, benchmarks).
 */
export const defaultHeadline: ReadonlyArray<string> = [
  "epitome.diff_mean", "epitome.", "epitome-saved.diff_mean", "epitome-saved.",
  "bertscore.",
  "vad.",
  "specificity.nidf_mean",
  "diversity.", "distinct.",
  "bench."
]

/** Direction and label of a stored key, from the plugin manifests (`Plugins.metricKey`). */
export type MetricKeyOf = (key: string) => MetricKey | undefined

/** The headline keys among `known`, in the order of `patterns`, each once. Pure. */
export const headlineKeys = (
  known: ReadonlyArray<string>,
  keyOf: MetricKeyOf,
  patterns: ReadonlyArray<string> = defaultHeadline
): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (const pattern of patterns) {
    const matched = pattern.endsWith(".")
      ? known.filter((k) => k.startsWith(pattern) && (keyOf(k)?.direction ?? "none") !== "none").sort()
      : known.filter((k) => k === pattern)
    for (const k of matched) if (!out.includes(k)) out.push(k)
  }
  return out
}

/** `↑` when higher is better, `↓` when lower is, nothing for descriptions. */
export const arrowOf = (key: MetricKey | undefined): string =>
  key?.direction === "higher" ? "↑" : key?.direction === "lower" ? "↓" : ""

/** A key's label for figures and tables (`|Δ valence|`), with its metric id when the label alone is ambiguous. */
export const labelOf = (key: string, keyOf: MetricKeyOf): string => {
  const meta = keyOf(key)
  if (meta === undefined) return key
  const metric = key.slice(0, key.indexOf("."))
  return meta.label.toLowerCase().includes(metric.replace(/-saved$/, "").toLowerCase()) ? meta.label : `${metric} ${meta.label}`
}
