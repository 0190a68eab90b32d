import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type { Plugins } from "../src/Plugins.ts"
import { repoRoot } from "@empo/core/testing/sharedData"
import { type RunId, RunStore } from "@empo/store"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as path from "node:path"
import { loadExperiment } from "../src/SpecLoader.ts"
import { Runner, type RunnerOptions } from "../src/Runner.ts"
import { StageFailure, type StageContext } from "../src/StageExecutors.ts"
import { scriptedExecutors } from "./fixtures/scriptedExecutors.ts"
import { TestPlugins } from "./fixtures/plugins.ts"

const fixture = path.join(repoRoot(), "experiments/_fixtures/sweep/experiment.yaml")

const harness = <A, E>(
  behave: ((context: StageContext) => Effect.Effect<void, StageFailure> | undefined) | undefined,
  body: (env: { calls: Array<string>; options: RunnerOptions; dir: string }) => Effect.Effect<A, E, Runner | RunStore | FileSystem.FileSystem | Path.Path | Plugins>
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const calls: Array<string> = []
    const layer = Runner.layer.pipe(
      Layer.provideMerge(RunStore.layer(path.join(dir, "empo.db"))),
      Layer.provide(scriptedExecutors(behave === undefined ? { calls } : { calls, behave })),
      Layer.provide(NodeContext.layer)
    )
    const options: RunnerOptions = { workDir: path.join(dir, "stages"), concurrency: 2, retryFailed: false, host: "test", pid: process.pid }
    return yield* body({ calls, options, dir }).pipe(Effect.provide(layer))
  }).pipe(Effect.provide(Layer.merge(NodeContext.layer, TestPlugins)))

describe("Runner", () => {
  it.scopedLive("runs each shared stage once, then resumes as a no-op", () =>
    harness(undefined, ({ calls, options }) => Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      const runner = yield* Runner
      const store = yield* RunStore
      const first = yield* runner.run(plan, options)
      assert.strictEqual(plan.runs.length, 6)
      assert.strictEqual(calls.length, plan.stages.size)
      assert.strictEqual(new Set(calls).size, calls.length)
      assert.isTrue(first.runs.every((r) => r.status === "completed"))
      const second = yield* runner.run(plan, options)
      assert.strictEqual(calls.length, plan.stages.size)
      assert.strictEqual(second.cached, plan.stages.size)
      const detail = yield* store.showRun(plan.runs[0]!.id)
      assert.strictEqual(detail.stages.length, 8)
      assert.isTrue(detail.stages.every((s) => s.status === "completed" && s.attempts === 1))
      assert.isTrue(detail.consumed.length > 0)
      assert.deepStrictEqual(detail.summary.map((s) => s.key).sort(), ["length.length_mean", "length.other"])
      const points = yield* store.metricPointsSince(plan.runs[0]!.id as RunId, 0)
      assert.strictEqual(points.length, 16)
    })))

  it.scopedLive("a failing stage fails only the runs that need it; --retry-failed runs it again", () => {
    let failKto = true
    return harness((context) =>
      failKto && context.stage.kind === "train" && (context.stage.inputs as { optimizer?: string }).optimizer === "kto"
        ? Effect.fail(new StageFailure({ reason: "worker exited with code 1", stderrTail: "Traceback\nRuntimeError: boom" }))
        : undefined, ({ calls, options }) => Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      const runner = yield* Runner
      const store = yield* RunStore
      const first = yield* runner.run(plan, options)
      assert.deepStrictEqual(first.runs.map((r) => r.status), ["completed", "completed", "completed", "completed", "failed", "failed"])
      const failedRun = yield* store.showRun(first.runs[4]!.id)
      const failedStage = failedRun.stages.find((s) => s.name === "preference")!
      assert.strictEqual(failedStage.status, "failed")
      assert.include(failedStage.stderrTail ?? "", "RuntimeError: boom")
      assert.strictEqual(failedRun.stages.find((s) => s.name === "generate")!.status, "pending")
      const before = calls.length
      yield* runner.run(plan, options)
      assert.strictEqual(calls.length, before)
      failKto = false
      const retried = yield* runner.run(plan, { ...options, retryFailed: true })
      assert.isTrue(retried.runs.every((r) => r.status === "completed"))
      assert.strictEqual(calls.length - before, 2 * 3)
    }))
  })

  it.scopedLive("records a crashed executor (defect) and a hang past the stage timeout as failures", () =>
    harness((context) =>
      context.stage.kind === "items" ? Effect.die(new Error("segfault-like crash"))
      : context.stage.kind === "tiny-model" && context.stage.inputs["seed"] === 1 ? Effect.never
      : undefined, ({ options }) => Effect.gen(function* () {
      const plan = { ...(yield* loadExperiment(fixture)), stageTimeoutSeconds: 0.5 }
      const runner = yield* Runner
      const store = yield* RunStore
      const summary = yield* runner.run(plan, options)
      assert.isTrue(summary.runs.every((r) => r.status === "failed"))
      const stages = yield* store.stagesOf(plan.name)
      const items = stages.find((s) => s.kind === "items")!
      assert.include(items.error ?? "", "segfault-like crash")
      const hung = stages.find((s) => s.kind === "tiny-model" && s.status === "failed")!
      assert.include(hung.error ?? "", "timed out")
      assert.isTrue(stages.some((s) => s.kind === "train" && s.status === "completed"))
    })))
})
