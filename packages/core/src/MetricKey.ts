/**
 * What a reported number means for comparisons: which way is better and a short label for tables. Metric
 * plugins describe their aggregate keys with it; training losses and rewards have their own table here.
 */
import * as Schema from "effect/Schema"

/** `higher`/`lower`: that direction is better; `none`: a description (a length, a count), not a score. */
export const MetricDirection = Schema.Literal("higher", "lower", "none")
export type MetricDirection = typeof MetricDirection.Type

/** One reported key: its direction and a short label (column headers, legends). */
export const MetricKey = Schema.Struct({
  direction: MetricDirection,
  label: Schema.String
})
export type MetricKey = typeof MetricKey.Type

/** The keys a plugin reports, by name. */
export type MetricKeys = Readonly<Record<string, MetricKey>>

/** Keys that share a direction, from `{ key: label }`: `{ ...keysWith("higher", { distinct_1: "distinct-1" }) }`. */
export const keysWith = (direction: MetricDirection, labels: Readonly<Record<string, string>>): MetricKeys =>
  Object.fromEntries(Object.entries(labels).map(([key, label]) => [key, { direction, label }]))

/**
 * What TRL logs while training (SFT, DPO, IPO, KTO), as stored under the training stage's role: `sft.<key>`, `preference.<key>`. Evaluation numbers carry
 * an `eval_` prefix and share the direction of the training number (see {@link trainingKeyOf}).
 */
export const trainingMetricKeys: MetricKeys = {
  ...keysWith("lower", { loss: "loss", train_loss: "train loss (mean)" }),
  ...keysWith("higher", { "rewards/accuracies": "reward acc.", "rewards/margins": "reward margin" }),
  ...keysWith("none", {
    "rewards/chosen": "reward chosen", "rewards/rejected": "reward rejected", kl: "KL", grad_norm: "grad norm", learning_rate: "LR", epoch: "epoch"
  })
}

/** The {@link trainingMetricKeys} entry of a training key (`eval_loss` → `loss`), or undefined. */
export const trainingKeyOf = (key: string): MetricKey | undefined =>
  trainingMetricKeys[key] ?? (key.startsWith("eval_") ? trainingMetricKeys[key.slice("eval_".length)] : undefined)
