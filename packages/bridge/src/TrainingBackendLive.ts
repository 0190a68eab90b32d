/** {@link TrainingBackend} over the Python worker: payloads are encoded, events decoded with core's Schemas. */
import {
  GenerateEvent,
  GenerateRequest,
  TinyModelInfo,
  TinyModelRequest,
  TrainEvent,
  TrainingBackend,
  TrainingError,
  TrainRequest,
  WorkerVersions
} from "@empo/core/Training"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { type BridgeError, failureKindOf, PythonWorker } from "./PythonWorker.ts"

/** Maps a bridge failure onto the backend-neutral {@link TrainingError}. */
export const toTrainingError = (error: BridgeError): TrainingError =>
  new TrainingError({
    kind: failureKindOf(error),
    reason: error._tag === "WorkerRequestFailed" ? error.detail : error.message,
    ...(error._tag === "WorkerRequestFailed" && error.kind === "failed" ? { pythonType: error.pythonType, traceback: error.traceback } : {})
  })

const protocolBug = (what: string) => (error: ParseResult.ParseError) =>
  new TrainingError({ kind: "failed", reason: `the worker sent a malformed ${what}: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })

const decodeStream = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const decode = Schema.decodeUnknown(schema)
  return (events: Stream.Stream<unknown, BridgeError>): Stream.Stream<A, TrainingError> =>
    events.pipe(
      Stream.mapError(toTrainingError),
      Stream.mapEffect((event) => decode(event).pipe(Effect.mapError(protocolBug(what))))
    )
}

const decodeTrainEvents = decodeStream(TrainEvent, "training event")
const decodeGenerateEvents = decodeStream(GenerateEvent, "generation event")

/** Builds the backend from a running worker. */
export const makeTrainingBackend = Effect.gen(function*() {
  const worker = yield* PythonWorker
  return TrainingBackend.of({
    train: (request) => decodeTrainEvents(worker.stream("train", Schema.encodeSync(TrainRequest)(request))),
    generate: (request) => decodeGenerateEvents(worker.stream("generate", Schema.encodeSync(GenerateRequest)(request))),
    tinyModel: Effect.fn("TrainingBackend.tinyModel")(function*(request) {
      const value = yield* worker.call("tinyModel", Schema.encodeSync(TinyModelRequest)(request)).pipe(Effect.mapError(toTrainingError))
      return yield* Schema.decodeUnknown(TinyModelInfo)(value).pipe(Effect.mapError(protocolBug("tiny model result")))
    }),
    versions: worker.call("versions", {}).pipe(
      Effect.mapError(toTrainingError),
      Effect.flatMap((value) => Schema.decodeUnknown(WorkerVersions)(value).pipe(Effect.mapError(protocolBug("versions result")))),
      Effect.withSpan("TrainingBackend.versions")
    )
  })
})

/** The training backend of the CLI and the experiment runner: the real Python worker. */
export const TrainingBackendLive: Layer.Layer<TrainingBackend, TrainingError> = Layer.effect(TrainingBackend, makeTrainingBackend).pipe(
  Layer.provide(PythonWorker.layer),
  Layer.mapError(toTrainingError)
)
