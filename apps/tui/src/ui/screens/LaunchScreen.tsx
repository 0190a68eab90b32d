// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { useEffect } from "react"
import { Launcher } from "../../data/Launcher.ts"
import { LaunchView } from "../components/LaunchView.tsx"
import { useAction } from "../hooks/useAction.ts"
import { useRuntime } from "../hooks/RuntimeContext.ts"
import { useScreenKeys } from "../hooks/ScreenKeys.ts"
import { useSyncReducer } from "../hooks/useSyncReducer.ts"
import { causeMessage } from "../hooks/usePolledQuery.ts"
import { Command, matches } from "../key/keyBindings.ts"
import { initialLaunch, type LaunchAction, launchReducer } from "../state/launch.ts"

const launchAction = (action: LaunchAction): LaunchAction => action
import type { ScreenProps } from "./ScreenProps.ts"

export const LaunchScreen = ({ width, height, navigate }: ScreenProps) => {
  const runtime = useRuntime()
  const run = useAction()
  const [state, dispatch, stateNow] = useSyncReducer(launchReducer, initialLaunch)

  useEffect(() => {
    void runtime.runPromise(Launcher.pipe(Effect.flatMap((l) => l.listSpecs()))).then((files) => dispatch({ _tag: "FilesLoaded", files }))
  }, [runtime])

  const validate = (file: string) => {
    dispatch({ _tag: "Validate", file })
    const check = Launcher.pipe(Effect.flatMap((l) => l.preview(file).pipe(
      Effect.map((preview) => launchAction({ _tag: "Validated", file, preview })),
      // Problems are shown beside the offending source lines.
      Effect.catchTag("SpecError", (e) => l.sourceLines(file).pipe(Effect.map((source) => launchAction({ _tag: "Rejected", file, issues: e.issues, source }))))
    )))
    void runtime.runPromiseExit(check).then((exit) =>
      dispatch(Exit.isSuccess(exit) ? exit.value : { _tag: "Failed", file, message: causeMessage(exit.cause) }))
  }

  useScreenKeys((input, key) => {
    const state = stateNow.current
    const { phase } = state
    if (state.editingPath) {
      if (key.escape) dispatch({ _tag: "Reset" })
      else if (key.return && state.path.trim() !== "") validate(state.path.trim())
      else if (key.backspace || key.delete) dispatch({ _tag: "PathBackspace" })
      else if (input !== "" && !key.ctrl && !key.meta) dispatch({ _tag: "PathInput", text: input })
      return true
    }
    if (phase._tag === "Pick") {
      const selected = state.files[state.cursor]
      if (matches(Command.Up, input, key)) dispatch({ _tag: "Move", delta: -1 })
      else if (matches(Command.Down, input, key)) dispatch({ _tag: "Move", delta: 1 })
      else if (matches(Command.EditPath, input, key)) dispatch({ _tag: "EditPath" })
      else if (matches(Command.Open, input, key) && selected !== undefined) validate(selected)
      else return false
      return true
    }
    if (phase._tag === "Invalid" && matches(Command.Open, input, key)) validate(phase.file)
    else if (phase._tag === "Preview" && matches(Command.Confirm, input, key)) {
      dispatch({ _tag: "Start", file: phase.file })
      run(Launcher.pipe(Effect.flatMap((l) => l.start(phase.preview.plan))),
        (record) => dispatch({ _tag: "Started", record }),
        (message) => dispatch({ _tag: "Failed", file: phase.file, message }))
    } else if (phase._tag === "Started" && matches(Command.Open, input, key)) {
      navigate({ _tag: "Open", screen: { kind: "sweep", experiment: phase.record.experiment } })
    } else if (phase._tag === "Started" && matches(Command.CancelSweep, input, key)) {
      run(Launcher.pipe(Effect.flatMap((l) => l.cancel(phase.record.experiment))),
        (pid) => navigate({ _tag: "Notify", notice: { tone: "info", text: `sent SIGINT to runner ${pid}` } }),
        (message) => navigate({ _tag: "Notify", notice: { tone: "error", text: message } }))
    } else if (matches(Command.Back, input, key)) dispatch({ _tag: "Reset" })
    else return false
    return true
  })

  return <LaunchView state={state} height={height} width={width} />
}
