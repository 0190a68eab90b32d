/**
 * Finds the Python that runs the worker: `EMPO_PYTHON`, else `<repo>/.venv/bin/python`, checked once with
 * a `--version` probe (a layer, so it is resolved once per program rather than cached in module state).
 */
import { UserError } from "@empo/core/Errors"
import { execFile } from "node:child_process"
import * as NodePath from "node:path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** No usable Python interpreter. Exit code 1; the message names the set-up command. */
export class PythonNotFound extends UserError<PythonNotFound>()("PythonNotFound", {
  executable: Schema.String,
  detail: Schema.String
}, {
  exitCode: 1,
  message: (e) => `no usable Python at ${e.executable} (${e.detail}); run \`npm run setup\` to create .venv, or set EMPO_PYTHON`
}) {}

/** The resolved interpreter. */
export interface PythonInterpreterShape {
  readonly executable: string
  /** e.g. `3.11.7`. */
  readonly version: string
}

/** `<repo>/.venv/bin/python` (Scripts\python.exe on Windows). */
export const venvPython = NodePath.resolve(
  import.meta.dirname,
  "../../..",
  ".venv",
  process.platform === "win32" ? "Scripts/python.exe" : "bin/python"
)

/** Runs `<executable> --version` with a 5 s limit. */
export const probePython = (executable: string): Effect.Effect<PythonInterpreterShape, PythonNotFound> =>
  Effect.async<string, PythonNotFound>((resume) => {
    const child = execFile(executable, ["--version"], { timeout: 5_000 }, (error, stdout, stderr) => {
      if (error !== null) resume(Effect.fail(new PythonNotFound({ executable, detail: error.message.split("\n")[0]! })))
      else resume(Effect.succeed(`${stdout}${stderr}`.trim()))
    })
    return Effect.sync(() => child.kill())
  }).pipe(
    Effect.flatMap((output) => {
      const match = /Python (\d+\.\d+\.\d+)/.exec(output)
      return match === null
        ? Effect.fail(new PythonNotFound({ executable, detail: `unexpected --version output: ${output}` }))
        : Effect.succeed({ executable, version: match[1]! })
    })
  )

/** `EMPO_PYTHON`, else `<repo>/.venv/bin/python`, probed. */
export const findPython: Effect.Effect<PythonInterpreterShape, PythonNotFound> = Effect.gen(function*() {
  const fromEnv = yield* Config.option(Config.nonEmptyString("EMPO_PYTHON")).pipe(Effect.orDie)
  return yield* probePython(Option.getOrElse(fromEnv, () => venvPython))
})

/** The Python interpreter the worker runs on. */
export class PythonInterpreter extends Context.Tag("@empo/bridge/PythonInterpreter")<PythonInterpreter, PythonInterpreterShape>() {
  static readonly layer: Layer.Layer<PythonInterpreter, PythonNotFound> = Layer.effect(PythonInterpreter, findPython)
}
