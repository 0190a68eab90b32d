import { callMethod, defineWorkerMethod, type PythonModule, type WorkerClient } from "@empo/core/Worker"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Ref, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { venvPython } from "../src/PythonInterpreter.ts"
import { WorkerClientLive } from "../src/WorkerClientLive.ts"
import { pythonRoot, type WorkerLaunch } from "../src/WorkerLaunch.ts"

const fixtures = NodePath.join(import.meta.dirname, "fixtures")
const toyPlugin: PythonModule = { name: "empo_toy_plugin", path: new URL("./fixtures/", import.meta.url) }
const clashingPlugin: PythonModule = { name: "empo_toy_clash", path: fixtures }
const python = process.env["EMPO_PYTHON"] ?? venvPython

const Progress = Schema.Struct({ done: Schema.Int, total: Schema.Int })
const echo = defineWorkerMethod({
  name: "toy.echo",
  request: Schema.Struct({ text: Schema.String }),
  response: Schema.Struct({ echo: Schema.String, pid: Schema.Int })
})
const score = defineWorkerMethod({
  name: "toy.score",
  request: Schema.Struct({ texts: Schema.Array(Schema.String) }),
  response: Schema.Struct({ scores: Schema.Array(Schema.Number) }),
  event: Progress
})
const slow = defineWorkerMethod({ name: "toy.slow", request: Schema.Struct({}), response: Schema.Null, event: Progress })

/**
 * The real worker started through a wrapper command (the transport seam): `sh` counts its starts in a file,
 * changes into python/ and `exec`s the interpreter with `-m empo_worker`.
 */
const countingLaunch = (counter: string): WorkerLaunch => ({
  executable: "/bin/sh",
  args: ["-c", `echo started >> "$EMPO_TEST_COUNTER" && cd "$1" && exec "$0" -u -m empo_worker`, python, pythonRoot],
  env: { EMPO_TEST_COUNTER: counter }
})

const starts = (counter: string) => fs.existsSync(counter) ? fs.readFileSync(counter, "utf8").trim().split("\n").length : 0
// Signal 0 only checks that the process exists; kill throws ESRCH once it is gone.
const isAlive = (pid: number): boolean => {
  try { return process.kill(pid, 0) } catch { return false }
}

const scratch = () => fs.mkdtempSync(NodePath.join(os.tmpdir(), "empo-client-"))

/** Builds the layer in the test's scope and returns a runner for effects that need the client. */
const client = (layer: Layer.Layer<WorkerClient, never>) =>
  Effect.map(Layer.build(layer), (context) => <A, E>(effect: Effect.Effect<A, E, WorkerClient>) => Effect.provide(effect, context))

/** How `toy.echo` fails on a worker started with `options`. */
const echoFailure = (options: Parameters<typeof WorkerClientLive>[0]) =>
  Effect.flatMap(client(WorkerClientLive(options)), (run) => Effect.flip(run(callMethod(echo, { text: "x" }))))

describe("WorkerClientLive", () => {
  it.scopedLive("serves a plugin's typed methods from a lazily started, shared worker, launched through a wrapper", () =>
    Effect.gen(function*() {
      const counter = NodePath.join(scratch(), "starts")
      const pid = yield* Effect.scoped(Effect.gen(function*() {
        const run = yield* client(WorkerClientLive({ launch: countingLaunch(counter), plugins: [toyPlugin], readyTimeout: "30 seconds" }))
        yield* Effect.sleep("300 millis") // room for an eager start to show in the counter
        assert.strictEqual(starts(counter), 0, "nothing is spawned before the first request")

        const first = yield* run(callMethod(echo, { text: "hello" }))
        assert.strictEqual(first.echo, "hello")
        const seen = yield* Ref.make<ReadonlyArray<typeof Progress.Type>>([])
        const scored = yield* run(callMethod(score, { texts: ["I am so sorry", "oh no", "that is wonderful news"] }, (event) => Ref.update(seen, (all) => [...all, event])))
        assert.deepStrictEqual(scored.scores, [4, 2, 4])
        assert.deepStrictEqual(yield* Ref.get(seen), [{ done: 1, total: 3 }, { done: 2, total: 3 }, { done: 3, total: 3 }])

        // Interrupting a request cancels it in the worker, through the wrapper, and the worker stays usable.
        const ticked = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(run(callMethod(slow, {}, () => Deferred.succeed(ticked, undefined).pipe(Effect.asVoid))))
        yield* Deferred.await(ticked)
        yield* Fiber.interrupt(fiber)
        const again = yield* run(callMethod(echo, { text: "still here" }))
        assert.strictEqual(again.pid, first.pid)
        assert.strictEqual(starts(counter), 1, "one worker is shared by every request")
        assert.isTrue(isAlive(first.pid))
        return first.pid
      }))
      assert.isFalse(isAlive(pid), "the worker is shut down when the layer's scope closes")
    }), 120_000)

  it.scopedLive("a method registered by two plugin modules fails naming both", () =>
    Effect.gen(function*() {
      const error = yield* echoFailure({ plugins: [toyPlugin, clashingPlugin] })
      assert.strictEqual(error.kind, "failed")
      assert.include(error.reason, "'empo_toy_plugin'")
      assert.include(error.reason, "'empo_toy_clash'")
    }), 120_000)

  it.scopedLive("a plugin module that cannot be imported is `missing`, naming it and EMPO_WORKER_PLUGINS", () =>
    Effect.gen(function*() {
      const error = yield* echoFailure({ plugins: [toyPlugin, { name: "empo_no_such_plugin", path: fixtures }] })
      assert.strictEqual(error.kind, "missing")
      assert.strictEqual(error.method, "toy.echo")
      assert.include(error.reason, "empo_no_such_plugin")
      assert.include(error.reason, "EMPO_WORKER_PLUGINS")
    }), 120_000)

  it.scopedLive("a worker that cannot start fails the first request, and the later ones, with its reason", () =>
    Effect.gen(function*() {
      const run = yield* client(WorkerClientLive({ launch: { executable: "/nonexistent/empo-python", args: ["-u", "-m", "empo_worker"] } }))
      const first = yield* Effect.flip(run(callMethod(echo, { text: "x" })))
      assert.strictEqual(first.kind, "crashed")
      assert.include(first.reason, "/nonexistent/empo-python")
      const second = yield* Effect.flip(run(callMethod(echo, { text: "y" })))
      assert.strictEqual(second.reason, first.reason)
    }))

  it.scopedLive("a malformed result is a `protocol` failure naming the method", () =>
    Effect.gen(function*() {
      const run = yield* client(WorkerClientLive({ plugins: [toyPlugin] }))
      const wrongShape = defineWorkerMethod({ name: "toy.echo", request: Schema.Struct({ text: Schema.String }), response: Schema.Struct({ echo: Schema.Number }) })
      const error = yield* Effect.flip(run(callMethod(wrongShape, { text: "x" })))
      assert.strictEqual(error.kind, "protocol")
      assert.include(error.message, "toy.echo")
    }), 120_000)
})
