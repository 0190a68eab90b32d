import type { RunId } from "@empo/store"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { useEffect, useReducer } from "react"
import { TuiStore } from "../../data/TuiStore.ts"
import { applyMetricPoints, initialRunMetrics, type RunMetricsState } from "../state/runMetrics.ts"
import { useRuntime } from "./RuntimeContext.ts"

const batchLimit = 5000

/**
 * Tails a run's metric series: asks only for points after the last row id seen, applies each batch
 * through the pure reducer, and drains a backlog in full batches before going back to polling.
 */
export const useRunMetrics = (runId: RunId, intervalMs = 500): RunMetricsState => {
  const runtime = useRuntime()
  const [state, dispatch] = useReducer(applyMetricPoints, runId, initialRunMetrics)
  useEffect(() => {
    let lastId = 0
    const loop = Effect.gen(function* () {
      const store = yield* TuiStore
      while (true) {
        const batch = yield* store.metricPointsSince(runId, lastId, batchLimit).pipe(Effect.orElseSucceed(() => []))
        if (batch.length > 0) {
          lastId = batch[batch.length - 1]!.id
          dispatch(batch)
        }
        if (batch.length < batchLimit) yield* Effect.sleep(Duration.millis(intervalMs))
      }
    })
    const fiber = runtime.runFork(loop)
    return () => {
      runtime.runFork(Fiber.interrupt(fiber))
    }
  }, [runtime, runId])
  return state
}
