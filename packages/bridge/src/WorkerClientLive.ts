/**
 * Core's {@link WorkerClient} over the real worker: plugins call typed methods (`callMethod`), the bridge starts
 * the process only when the first request arrives and shares it with every later one.
 */
import { WorkerClient, WorkerError } from "@empo/core/Worker"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { type BridgeError, failureKindOf, makeLocal, type PythonWorkerShape, type WorkerOptions } from "./PythonWorker.ts"

/** Maps a bridge failure of `method` onto core's {@link WorkerError}; a crash keeps the stderr tail in `reason`. */
export const toWorkerError = (method: string, error: BridgeError): WorkerError =>
  new WorkerError({
    method,
    kind: failureKindOf(error),
    reason: error._tag === "WorkerRequestFailed" ? error.detail : error._tag === "WorkerPluginMissing" ? error.detail : error.message,
    ...(error._tag === "WorkerRequestFailed" && error.kind === "failed" ? { traceback: error.traceback } : {})
  })

/**
 * A {@link WorkerClient} whose worker starts on the first `request` (nothing is spawned before), is shared by
 * the later ones, and is shut down when the layer's scope closes. A failure to start is that first request's
 * {@link WorkerError}, and every later request's: the start is attempted once.
 */
export const WorkerClientLive = (options: Partial<WorkerOptions> = {}): Layer.Layer<WorkerClient, never> =>
  Layer.scoped(
    WorkerClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const started = yield* Deferred.make<PythonWorkerShape, BridgeError>()
      // Started in the layer's scope, not the requester's: interrupting the first request must not stop the
      // start-up the others wait for, and the process lives until the layer closes.
      const startOnce = yield* Effect.once(
        Scope.extend(makeLocal(options), scope).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Deferred.done(started, exit)),
          Effect.forkIn(scope)
        )
      )
      const worker = startOnce.pipe(Effect.zipRight(Deferred.await(started)))
      return WorkerClient.of({
        request: (method, payload, onEvent) =>
          worker.pipe(
            Effect.flatMap((running) => running.request(method, payload, onEvent === undefined ? {} : { onEvent })),
            Effect.mapError((error) => toWorkerError(method, error)),
            Effect.withSpan("WorkerClient.request", { attributes: { method } })
          )
      })
    })
  )
