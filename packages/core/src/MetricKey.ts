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

/**
 * What TRL logs while training (SFT, DPO, IPO, KTO), as stored under `train.<key>`. Evaluation numbers carry
 * an `eval_` prefix and share the direction of the training number (see {@link trainingKeyOf}).
 */
export const trainingMetricKeys: MetricKeys = {
  loss: { direction: "lower", label: "loss" },
  train_loss: { direction: "lower", label: "train loss (mean)" },
  "rewards/accuracies": { direction: "higher", label: "reward acc." },
  "rewards/margins": { direction: "higher", label: "reward margin" },
  "rewards/chosen": { direction: "none", label: "reward chosen" },
  "rewards/rejected": { direction: "none", label: "reward rejected" },
  kl: { direction: "none", label: "KL" },
  grad_norm: { direction: "none", label: "grad norm" },
  learning_rate: { direction: "none", label: "LR" },
  epoch: { direction: "none", label: "epoch" }
}

/** The {@link trainingMetricKeys} entry of a training key (`eval_loss` → `loss`), or undefined. */
export const trainingKeyOf = (key: string): MetricKey | undefined =>
  trainingMetricKeys[key] ?? (key.startsWith("eval_") ? trainingMetricKeys[key.slice("eval_".length)] : undefined)
