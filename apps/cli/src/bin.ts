import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { runEmpo } from "./Cli.ts"
import { PluginsLive } from "./plugins.ts"
import { reportFailure } from "./reportFailure.ts"

runEmpo(process.argv, PluginsLive).pipe(
  Effect.matchCauseEffect({ onSuccess: () => Effect.void, onFailure: reportFailure }),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
