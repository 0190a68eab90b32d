import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { cli } from "./Cli.ts"
import { MainLayer } from "./MainLayer.ts"
import { reportFailure } from "./reportFailure.ts"

cli(process.argv).pipe(
  Effect.matchCauseEffect({ onSuccess: () => Effect.void, onFailure: reportFailure }),
  Effect.provide(MainLayer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
