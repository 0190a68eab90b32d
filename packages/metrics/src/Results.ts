import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { type EvalItem, IoError, type MetricScores } from "@empo/core"
import * as Effect from "effect/Effect"
import type { RunResult } from "./MetricRunner.ts"

/** The `--json` summary: `{"n": …, "metrics": {"<metric>": {"<key>": number}}}`. */
export interface Summary {
  readonly n: number
  readonly metrics: Record<string, Record<string, number>>
}

export const summarize = (result: RunResult): Summary => ({
  n: result.n,
  metrics: Object.fromEntries(result.scores.map((s) => [s.metric, { ...s.aggregate }]))
})

/** Per-item columns of every metric, named `<metric>.<column>`, in run order. */
export const perItemColumns = (scores: ReadonlyArray<MetricScores>): ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<number> }> =>
  scores.flatMap((s) => Object.entries(s.perItem).map(([column, values]) => ({ name: `${s.metric}.${column}`, values })))

const csvCell = (value: string): string => /[",\n\r]/.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value
const numberCell = (x: number | undefined): string => x === undefined || Number.isNaN(x) ? "" : String(x)

/** Renders per-item scores as JSONL (one object per item; NaN becomes null). */
export const renderPerItemJsonl = (items: ReadonlyArray<EvalItem>, scores: ReadonlyArray<MetricScores>): string => {
  const columns = perItemColumns(scores)
  return items.map((item, i) => {
    const row: Record<string, string | number | null> = { id: item.id }
    for (const c of columns) {
      const v = c.values[i]
      row[c.name] = v === undefined || !Number.isFinite(v) ? null : v
    }
    return JSON.stringify(row)
  }).join("\n") + "\n"
}

/** Renders per-item scores as CSV with an `id` column first. */
export const renderPerItemCsv = (items: ReadonlyArray<EvalItem>, scores: ReadonlyArray<MetricScores>): string => {
  const columns = perItemColumns(scores)
  const lines = [["id", ...columns.map((c) => c.name)].map(csvCell).join(",")]
  items.forEach((item, i) => lines.push([csvCell(item.id), ...columns.map((c) => numberCell(c.values[i]))].join(",")))
  return lines.join("\n") + "\n"
}

const writeAtomic = (fs: FileSystem.FileSystem, file: string, content: string) =>
  Effect.gen(function* () {
    const temp = `${file}.${process.pid}.tmp`
    yield* fs.writeFileString(temp, content)
    yield* fs.rename(temp, file)
  }).pipe(Effect.mapError((cause) => new IoError({ operation: "write", path: file, cause })))

/** Writes `scores.jsonl`, `scores.csv` and `summary.json` into `outDir`, each atomically (temp file + rename). */
export const writeResults = Effect.fn("Results.write")(function* (outDir: string, items: ReadonlyArray<EvalItem>, result: RunResult) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* fs.makeDirectory(outDir, { recursive: true }).pipe(Effect.mapError((cause) => new IoError({ operation: "create directory", path: outDir, cause })))
  const summary = { ...summarize(result), itemsHash: result.itemsHash, metricInfo: Object.fromEntries(result.scores.map((s) => [s.metric, { version: s.version, params: s.params, resources: s.resources, ...(s.meta === undefined ? {} : { meta: s.meta }) }])) }
  yield* writeAtomic(fs, path.join(outDir, "scores.jsonl"), renderPerItemJsonl(items, result.scores))
  yield* writeAtomic(fs, path.join(outDir, "scores.csv"), renderPerItemCsv(items, result.scores))
  yield* writeAtomic(fs, path.join(outDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n")
  return [path.join(outDir, "scores.jsonl"), path.join(outDir, "scores.csv"), path.join(outDir, "summary.json")] as const
})
