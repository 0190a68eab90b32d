import { defineMetric, type EvalItem, keysWith, Metric, MetricError, MetricScores } from "@empo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { diffLevel, type Mechanism, mechanisms, parseLevel } from "./diffEpitome.ts"

export * from "./diffEpitome.ts"

export const EpitomeSavedParams = Schema.Struct({
  /** Column of the model's level for mechanism M: the template's `{M}` is replaced by ER, IP or EX. */
  predictedColumn: Schema.optionalWith(Schema.String.pipe(Schema.includes("{M}")), { default: () => "pred_{M}_scores" }),
  goldColumn: Schema.optionalWith(Schema.String.pipe(Schema.includes("{M}")), { default: () => "gt_{M}_scores" })
})
export type EpitomeSavedParams = typeof EpitomeSavedParams.Type

const version = "1.0.0"
const id = "epitome-saved"

export const plugin = defineMetric({
  manifest: {
    id,
    kind: "metric",
    version,
    description: "diff-ER/IP/EX (empo-method §5.1) from per-row EPITOME levels already saved in the predictions file (pred_*/gt_* columns)",
    // diff-M is the squared distance to the human level (lower = closer to human); the levels themselves describe.
    keys: {
      ...keysWith("lower", { diff_ER: "diff-ER", diff_IP: "diff-IP", diff_EX: "diff-EX", diff_mean: "diff-EPITOME" }),
      ...keysWith("none", {
        pred_ER: "ER level", pred_IP: "IP level", pred_EX: "EX level", gt_ER: "ER level (gold)", gt_IP: "IP level (gold)", gt_EX: "EX level (gold)"
      })
    },
    // It reads saved levels, never words: an evaluation with only this metric needs no Punkt data.
    tokenizes: false
  },
  params: EpitomeSavedParams,
  layer: (params: EpitomeSavedParams) =>
    Layer.succeed(
      Metric,
      Metric.of({
        id,
        version,
        params,
        resources: [],
        score: Effect.fn("epitome-saved.score")(function* (items: ReadonlyArray<EvalItem>) {
          const perItem: Record<string, Array<number>> = {}
          const aggregate: Record<string, number> = {}
          // Plain loops that stop at the first bad cell: `empo eval --compare` rescores resampled items hundreds of
          // times, and an Effect per cell made that take seconds.
          const level = (item: EvalItem, column: string): number | MetricError => {
            const raw = item.fields[column]
            if (raw === undefined) {
              return new MetricError({ metric: id, inputFault: true, reason: `the predictions have no column \`${column}\` (columns with saved EPITOME levels are needed; item ${item.id})` })
            }
            const x = parseLevel(raw)
            return x === undefined
              ? new MetricError({ metric: id, inputFault: true, reason: `item ${item.id}: \`${column}\` = "${raw}" is not an EPITOME level 0, 1 or 2` })
              : x
          }
          const levels = (column: string): Array<number> | MetricError => {
            const out: Array<number> = []
            for (const item of items) {
              const x = level(item, column)
              if (typeof x !== "number") return x
              out.push(x)
            }
            return out
          }
          const mean = (xs: ReadonlyArray<number>) => xs.reduce((s, x) => s + x, 0) / xs.length
          for (const m of mechanisms as ReadonlyArray<Mechanism>) {
            const pred = levels(params.predictedColumn.replace("{M}", m))
            if (!Array.isArray(pred)) return yield* pred
            const gold = levels(params.goldColumn.replace("{M}", m))
            if (!Array.isArray(gold)) return yield* gold
            perItem[`diff_${m}`] = pred.map((p, i) => diffLevel(p, gold[i]!))
            perItem[`pred_${m}`] = pred
            perItem[`gt_${m}`] = gold
            aggregate[`diff_${m}`] = mean(perItem[`diff_${m}`]!)
            aggregate[`pred_${m}`] = mean(pred)
            aggregate[`gt_${m}`] = mean(gold)
          }
          aggregate["diff_mean"] = (aggregate["diff_ER"]! + aggregate["diff_IP"]! + aggregate["diff_EX"]!) / 3
          return new MetricScores({ metric: id, version, params, resources: [], perItem, aggregate })
        })
      })
    )
})
