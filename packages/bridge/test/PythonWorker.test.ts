import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Stream } from "effect"
import * as NodePath from "node:path"
import { PythonNotFound, probePython } from "../src/PythonInterpreter.ts"
import { make, PythonWorker } from "../src/PythonWorker.ts"
import { WorkerLaunch } from "../src/WorkerLaunch.ts"

const fixture = (name: string) => NodePath.join(import.meta.dirname, "fixtures", name)

// Fixtures are stdlib-only, so the system python is enough (the real worker's tests use .venv).
const systemPython = process.env["EMPO_PYTHON"] ?? "python3"

const worker = (script: string, options: Partial<Parameters<typeof make>[0]> = {}) =>
  make({ launch: WorkerLaunch.local(systemPython, fixture(script)), readyTimeout: "10 seconds", cancelGrace: "1 second", signalGrace: "1 second", ...options })

describe("PythonWorker", () => {
  it.scopedLive("correlates events and results by id, for concurrent requests", () =>
    Effect.gen(function*() {
      const w = yield* worker("ok_echo.py")
      const [a, b] = yield* Effect.all([
        Stream.runCollect(w.stream("echo", { n: 1 })),
        w.call("echo", { n: 2 })
      ], { concurrency: 2 })
      assert.deepStrictEqual(Chunk.toReadonlyArray(a), [{ step: 0 }, { step: 1 }, { step: 2 }])
      assert.deepStrictEqual(b, { n: 2 })
    }))

  it.scopedLive("request hands every event to onEvent, in order, and returns the result", () =>
    Effect.gen(function*() {
      const w = yield* worker("ok_echo.py")
      const events: Array<unknown> = []
      const value = yield* w.request("echo", { n: 3 }, { onEvent: (event) => Effect.sync(() => events.push(event)) })
      assert.deepStrictEqual(value, { n: 3 })
      assert.deepStrictEqual(events, [{ step: 0 }, { step: 1 }, { step: 2 }])
    }))

  it.scopedLive("the same client works through a wrapper command, cancellation and timeouts included", () =>
    Effect.gen(function*() {
      const launch = WorkerLaunch.through(["/bin/sh", "-c", `exec "$0" "$@"`], WorkerLaunch.local(systemPython, fixture("ok_echo.py")))
      assert.strictEqual(launch.executable, "/bin/sh")
      const w = yield* worker("ok_echo.py", { launch })
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Stream.runCollect(w.stream("echo", {}))), [{ step: 0 }, { step: 1 }, { step: 2 }])
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(w.stream("slow", {}).pipe(Stream.take(5)))), 5)
      const timedOut = yield* Effect.flip(w.request("slow", {}, { timeout: "300 millis" }))
      assert.strictEqual(timedOut._tag, "WorkerTimeout")
      assert.deepStrictEqual(yield* w.call("echo", "still alive"), "still alive")
    }))

  it.scopedLive("an env prefix passes its variables to the worker", () =>
    Effect.gen(function*() {
      const launch = WorkerLaunch.through(["env", "EMPO_FIXTURE_GREETING=hi"], WorkerLaunch.local(systemPython, fixture("ok_echo.py")))
      const w = yield* worker("ok_echo.py", { launch })
      assert.strictEqual(yield* w.call("env", "EMPO_FIXTURE_GREETING"), "hi")
    }))

  it.scopedLive("maps worker failures to typed errors: input faults keep exit code 2, missing packages name the set-up command", () =>
    Effect.gen(function*() {
      const w = yield* worker("ok_echo.py")
      const input = yield* Effect.flip(w.call("fail", {}))
      assert.strictEqual(input._tag, "WorkerRequestFailed")
      assert.strictEqual((input as { exitCode: number }).exitCode, 2)
      assert.include(input.message, "data.jsonl:3: missing field `prompt`")
      const missing = yield* Effect.flip(w.call("missing", {}))
      assert.strictEqual(missing._tag, "PythonStackMissing")
      assert.include(missing.message, "npm run setup")
    }))

  it.scopedLive("interrupting a stream cancels the request cooperatively and the worker stays usable", () =>
    Effect.gen(function*() {
      const w = yield* worker("ok_echo.py")
      const firstFive = yield* Stream.runCollect(w.stream("slow", {}).pipe(Stream.take(5)))
      assert.strictEqual(Chunk.size(firstFive), 5)
      assert.deepStrictEqual(yield* w.call("echo", "still alive"), "still alive")
    }))

  it.scopedLive("a hard timeout cancels the request and fails with WorkerTimeout", () =>
    Effect.gen(function*() {
      const w = yield* worker("ok_echo.py")
      const error = yield* Effect.flip(Stream.runDrain(w.stream("slow", {}, { timeout: "300 millis" })))
      assert.strictEqual(error._tag, "WorkerTimeout")
    }))

  it.scopedLive("a worker that dies mid-request gives WorkerCrashed with the exit code and stderr tail", () =>
    Effect.gen(function*() {
      const w = yield* worker("crash_exit_3.py")
      const error = yield* Effect.flip(Stream.runDrain(w.stream("train", {})))
      assert.strictEqual(error._tag, "WorkerCrashed")
      if (error._tag !== "WorkerCrashed") return
      assert.strictEqual(error.processExitCode, 3)
      assert.include(error.stderrTail, "out of memory (simulated)")
      assert.strictEqual((yield* Effect.flip(w.call("echo", {})))._tag, "WorkerCrashed")
    }))

  it.scopedLive("stray and truncated stdout lines are logged, never fatal", () =>
    Effect.gen(function*() {
      const w = yield* worker("prints_to_stdout.py")
      const events = yield* Stream.runCollect(w.stream("echo", {}))
      assert.deepStrictEqual(Chunk.toReadonlyArray(events), [{ step: 0 }])
    }))

  it.scopedLive("a worker that ignores cancel is stopped with SIGINT", () =>
    Effect.gen(function*() {
      const w = yield* worker("hangs_forever.py")
      const error = yield* Effect.flip(Stream.runDrain(w.stream("train", {}, { timeout: "200 millis" })))
      assert.strictEqual(error._tag, "WorkerTimeout")
      const after = yield* Effect.flip(w.call("echo", {}))
      assert.strictEqual(after._tag, "WorkerCrashed")
    }))

  it.scopedLive("a worker that ignores SIGINT and SIGTERM is killed with SIGKILL", () =>
    Effect.gen(function*() {
      const w = yield* worker("ignores_sigterm.py")
      yield* Effect.flip(Stream.runDrain(w.stream("train", {}, { timeout: "200 millis" })))
      const after = yield* Effect.flip(w.call("echo", {}))
      assert.strictEqual(after._tag, "WorkerCrashed")
      if (after._tag === "WorkerCrashed") assert.strictEqual(after.signal, "SIGKILL")
    }))

  it.live("a syntax error fails start-up with the traceback in the message", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(worker("syntax_error.py")))
      assert.strictEqual(error._tag, "WorkerCrashed")
      assert.include(error.message, "SyntaxError")
    }))

  it.live("a missing package at start-up is PythonStackMissing naming `npm run setup`", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(worker("missing_torch.py")))
      assert.strictEqual(error._tag, "PythonStackMissing")
      assert.include(error.message, "torch_is_not_installed_here")
      assert.include(error.message, "npm run setup")
    }))

  it.live("no interpreter is PythonNotFound naming `npm run setup`", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(probePython("/nonexistent/python"))
      assert.instanceOf(error, PythonNotFound)
      assert.include(error.message, "npm run setup")
    }))

  it.live("the layer shuts the worker down when its scope closes", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.scoped(Effect.gen(function*() {
          const w = yield* worker("ok_echo.py")
          return yield* w.call("echo", 1)
        }))
      )
      assert.isTrue(Exit.isSuccess(exit))
    }))

  it.live("the real worker answers `versions` through PythonWorker.layer", () =>
    Effect.gen(function*() {
      const w = yield* PythonWorker
      const versions = (yield* w.call("versions", {})) as { packages: Record<string, string | null> }
      assert.strictEqual(versions.packages["trl"], "1.13.0")
    }).pipe(Effect.provide(PythonWorker.layer)), 120_000)
})
