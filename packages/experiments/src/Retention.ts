/**
 * Retention: did the trained models keep the base model's general ability? Each run's benchmark scores (the
 * `bench.<task>.<metric>` summaries of its final model) beside the same scores of the sweep's base model
 * (`bench-base.…`), with the change and a flag when it is a drop larger than two combined standard errors,
 * `sqrt(se² + se_base²)` (the scores are independent estimates on the same documents). Pure.
 */
import type { ComparisonData } from "@empo/store"

export interface RetentionScore {
  /** `<task>.<metric>[.<filter>]` as stored under `bench.`. */
  readonly key: string
  readonly value: number
  readonly stderr?: number
  readonly base?: number
  readonly baseStderr?: number
  readonly delta?: number
  /** The change is a drop (a rise for lower-is-better metrics) beyond two combined standard errors. */
  readonly dropped: boolean
}

export interface RetentionRow {
  readonly run: string
  readonly label: string
  readonly scores: ReadonlyArray<RetentionScore>
}

export interface RetentionTable {
  readonly rows: ReadonlyArray<RetentionRow>
}

// lm_eval metrics where lower is better; every other benchmark metric is an accuracy-like score.
const lowerIsBetter = /(^|_)(perplexity|bits_per_byte|ter)$/

/** `<task>.<metric>[.<filter>]` → the key of its stderr (`<task>.<metric>_stderr[.<filter>]`); task names have no dot. */
const stderrKeyOf = (key: string): string => {
  const [task, metric, ...filter] = key.split(".")
  return [task, `${metric}_stderr`, ...filter].join(".")
}

const isStderr = (key: string): boolean => (key.split(".")[1] ?? "").endsWith("_stderr")

/** The retention table of an experiment's runs, or undefined when no run has benchmark scores. */
export const retentionOf = (data: ComparisonData): RetentionTable | undefined => {
  const byRun = new Map<string, Map<string, number>>()
  for (const s of data.summary) {
    if (!s.key.startsWith("bench")) continue
    const values = byRun.get(s.runId) ?? new Map<string, number>()
    values.set(s.key, s.value)
    byRun.set(s.runId, values)
  }
  const rows: Array<RetentionRow> = []
  for (const run of data.runs) {
    const values = byRun.get(run.id)
    if (values === undefined) continue
    const scores: Array<RetentionScore> = []
    for (const [full, value] of [...values].sort(([a], [b]) => a.localeCompare(b))) {
      if (!full.startsWith("bench.")) continue
      const key = full.slice("bench.".length)
      if (isStderr(key)) continue
      const stderr = values.get(`bench.${stderrKeyOf(key)}`)
      const base = values.get(`bench-base.${key}`)
      const baseStderr = values.get(`bench-base.${stderrKeyOf(key)}`)
      const delta = base === undefined ? undefined : value - base
      const combined = stderr === undefined || baseStderr === undefined ? undefined : Math.sqrt(stderr ** 2 + baseStderr ** 2)
      const worse = delta === undefined ? 0 : lowerIsBetter.test(key.split(".")[1] ?? "") ? delta : -delta
      scores.push({
        key, value, dropped: combined !== undefined && worse > 2 * combined,
        ...(stderr === undefined ? {} : { stderr }), ...(base === undefined ? {} : { base }),
        ...(baseStderr === undefined ? {} : { baseStderr }), ...(delta === undefined ? {} : { delta })
      })
    }
    if (scores.length > 0) rows.push({ run: run.id, label: run.label || "(base)", scores })
  }
  return rows.length === 0 ? undefined : { rows }
}

const withError = (value: number | undefined, stderr: number | undefined): string =>
  value === undefined ? "-" : `${value.toFixed(4)}${stderr === undefined ? "" : ` ± ${stderr.toFixed(4)}`}`

/** The retention section as plain text columns: run, benchmark, score ± stderr, base ± stderr, Δ, flag. */
export const renderRetention = (table: RetentionTable): string => {
  const lines: Array<Array<string>> = [["run", "benchmark", "score ± stderr", "base ± stderr", "Δ vs base", ""]]
  for (const row of table.rows) {
    for (const s of row.scores) {
      lines.push([row.label, s.key, withError(s.value, s.stderr), withError(s.base, s.baseStderr),
        s.delta === undefined ? "-" : `${s.delta >= 0 ? "+" : ""}${s.delta.toFixed(4)}`, s.dropped ? "DROP > 2 SE" : ""])
    }
  }
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)))
  const text = lines.map((l) => l.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd())
  text.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  ").trimEnd())
  return ["retention (benchmarks of each run's final model vs the base model; DROP: a fall beyond 2 combined standard errors)", ...text].join("\n")
}
