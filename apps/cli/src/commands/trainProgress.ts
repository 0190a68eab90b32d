import type { GenerateEvent, TrainEvent } from "@empo/core/Training"

// One self-overwriting stderr line; the metric names are TRL's own keys.
const bar = (done: number, total: number, width = 24) => {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
}

const fmt = (x: number | undefined, digits = 4) => (x === undefined ? "-" : x.toFixed(digits))

/** Renders training events as a one-line progress bar (step, loss, reward accuracy) on stderr. */
export const makeTrainProgress = (write: (text: string) => void = (t) => process.stderr.write(t)) => {
  let total = 0
  return (event: TrainEvent): void => {
    switch (event._tag) {
      case "started":
        total = event.totalSteps
        write(`${event.stage} on ${event.device}: ${event.trainRows} rows, ${total} steps, ${event.trainableParameters} trainable parameters${event.startStep > 0 ? `, resuming at step ${event.startStep}` : ""}\n`)
        return
      case "log": {
        const accuracy = event.metrics["rewards/accuracies"]
        const kl = event.metrics["kl"]
        write(
          `\r${bar(event.step, total)} step ${event.step}/${total}  loss ${fmt(event.loss)}` +
            (accuracy === undefined ? "" : `  reward acc ${fmt(accuracy, 2)}`) +
            (kl === undefined ? "" : `  kl ${fmt(kl, 3)}`) +
            (event.secondsPerStep === undefined ? "" : `  ${event.secondsPerStep.toFixed(2)} s/step`) +
            "   "
        )
        return
      }
      case "checkpoint":
        write(`\ncheckpoint ${event.path}\n`)
        return
      case "eval":
        write(`\neval @${event.step}: loss ${fmt(event.metrics["eval_loss"])}${event.metrics["eval_rewards/accuracies"] === undefined ? "" : `  reward acc ${fmt(event.metrics["eval_rewards/accuracies"], 2)}`}\n`)
        return
      case "finished":
        write(`\ndone: ${event.steps} steps → ${event.outputDir} (${event.artifacts.length} files)\n`)
    }
  }
}

/** Renders generation events as a progress bar on stderr. */
export const makeGenerateProgress = (write: (text: string) => void = (t) => process.stderr.write(t)) => (event: GenerateEvent): void => {
  switch (event._tag) {
    case "started":
      write(`generating ${event.total} responses on ${event.device}\n`)
      return
    case "progress":
      write(`\r${bar(event.done, event.total)} ${event.done}/${event.total}   `)
      return
    case "finished":
      write(`\ndone: ${event.rows} predictions → ${event.output} (${event.seconds.toFixed(1)} s)\n`)
  }
}
