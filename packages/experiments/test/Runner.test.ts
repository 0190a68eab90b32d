import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { Plugins } from "../src/Plugins.ts"
import { compareExperiment, renderCsv } from "../src/Compare.ts"
import { isUserFacingError } from "@empo/core"
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import { type RunId, RunStore, type StageId } from "@empo/store"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import * as path from "node:path"
import { loadExperiment } from "../src/SpecLoader.ts"
import { Runner, type RunnerOptions, WorkDirError } from "../src/Runner.ts"
import { StageFailure, type StageContext } from "../src/StageExecutors.ts"
import { scriptedExecutors } from "./fixtures/scriptedExecutors.ts"
import { TestPlugins, TestPluginsWithIpo } from "./fixtures/plugins.ts"

const fixture = path.join(repoRoot(), "experiments/_fixtures/sweep/experiment.yaml")

const harness = <A, E>(
  behave: ((context: StageContext) => Effect.Effect<void, StageFailure> | undefined) | undefined,
  body: (env: { calls: Array<string>; options: RunnerOptions; dir: string }) => Effect.Effect<A, E, Runner | RunStore | FileSystem.FileSystem | Path.Path | Plugins>,
  summary?: (context: StageContext) => Readonly<Record<string, number>> | undefined,
  plugins: Layer.Layer<Plugins, unknown> = TestPlugins
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped()
    const calls: Array<string> = []
    const layer = Runner.layer.pipe(
      Layer.provideMerge(RunStore.layer(path.join(dir, "empo.db"))),
      Layer.provide(scriptedExecutors({ calls, ...(behave === undefined ? {} : { behave }), ...(summary === undefined ? {} : { summary }) })),
      Layer.provide(NodeContext.layer)
    )
    const options: RunnerOptions = { workDir: path.join(dir, "stages"), concurrency: 2, retryFailed: false, host: "test", pid: process.pid }
    return yield* body({ calls, options, dir }).pipe(Effect.provide(layer))
  }).pipe(Effect.provide(Layer.merge(NodeContext.layer, plugins)))

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

describe("Runner, summary metrics", () => {
  // What TRL would report: one SFT loss for the shared checkpoint, a preference loss per optimizer and β.
  const trainingSummary = (context: StageContext) => {
    const inputs = context.stage.inputs as { readonly kind?: string; readonly optimizer?: string; readonly params?: { readonly beta?: number } }
    switch (context.stage.kind) {
      case "dataset": return { rows: inputs.kind === "sft" ? 40 : 120 }
      case "train": return inputs.optimizer === "sft"
        ? { loss: 2.5, train_loss: 2.6 }
        : { loss: (inputs.optimizer === "ipo" ? 10 : 1) * inputs.params!.beta!, "rewards/margins": inputs.params!.beta! * 3 }
      default: return undefined
    }
  }

  it.scopedLive("are named by stage role: a DPO/IPO sweep compares distinct sft.loss and preference.loss", () =>
    harness(undefined, ({ options, dir }) => Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const file = path.join(dir, "dpo-ipo.yaml")
      yield* fs.writeFileString(file, [
        "name: dpo-ipo",
        "seeds: [0, 1]",
        `data: { source: ${JSON.stringify(sharedData("empathetic_dialogues"))}, limit: 32 }`,
        "model: { kind: tiny }",
        "stages:",
        "  sft: { optimizer: sft }",
        "  preference: { optimizer: dpo, params: { beta: 0.1 } }",
        "  generate: { limit: 8 }",
        "  evaluate: { metrics: [length] }",
        "sweep:",
        "  grid:",
        "    stages.preference.optimizer: [dpo, ipo]",
        "    stages.preference.params.beta: [0.1, 0.5]",
        ""
      ].join("\n"))
      const plan = yield* loadExperiment(file)
      const store = yield* RunStore
      const ran = yield* (yield* Runner).run(plan, options)
      assert.isTrue(ran.runs.every((r) => r.status === "completed"))

      const detail = yield* store.showRun(plan.runs[0]!.id)
      const keys = detail.summary.map((s) => s.key)
      assert.sameMembers(keys, ["dataset-sft.rows", "dataset-preference.rows", "sft.loss", "sft.train_loss", "preference.loss",
        "preference.rewards/margins", "length.length_mean", "length.other"])

      const data = yield* store.comparisonData(plan.name)
      const table = compareExperiment(plan.name, data, { metrics: ["sft.loss", "preference.loss", "dataset-preference.rows"] })
      if (!("rows" in table)) throw table
      assert.deepStrictEqual(table.metrics, ["sft.loss", "preference.loss", "dataset-preference.rows"])
      const byConfig = Object.fromEntries(table.rows.map((r) => [`${r.params["stages.preference.optimizer"]} ${r.params["stages.preference.params.beta"]}`, r]))
      assert.sameMembers(Object.keys(byConfig), ["dpo 0.1", "dpo 0.5", "ipo 0.1", "ipo 0.5"])
      for (const [config, row] of Object.entries(byConfig)) {
        const [optimizer, beta] = [config.split(" ")[0], Number(config.split(" ")[1])]
        assert.strictEqual(row.metrics["sft.loss"]!.mean, 2.5, config)
        assert.strictEqual(row.metrics["sft.loss"]!.n, 2, config)
        assert.closeTo(row.metrics["preference.loss"]!.mean, (optimizer === "ipo" ? 10 : 1) * beta, 1e-12, config)
        assert.strictEqual(row.metrics["dataset-preference.rows"]!.mean, 120)
      }
      // The old name selects nothing, and says which keys there are.
      const old = compareExperiment(plan.name, data, { metrics: ["train.loss"] })
      assert.isFalse("rows" in old)
      assert.includeMembers([...(old as { known: ReadonlyArray<string> }).known], ["sft.loss", "preference.loss"])
      // Training keys keep their direction under either role.
      const plugins = yield* Plugins
      assert.strictEqual(plugins.metricKey("sft.loss")?.direction, "lower")
      assert.strictEqual(plugins.metricKey("preference.loss")?.direction, "lower")
      assert.strictEqual(plugins.metricKey("preference.rewards/margins")?.direction, "higher")
      assert.isUndefined(plugins.metricKey("train.loss"))
      const csv = renderCsv(table)
      assert.include(csv.split("\n")[0]!, "preference.loss")
    }), trainingSummary, TestPluginsWithIpo))
})

// Real OS errors, provoked in ways that hold as root (where chmod does not stop writes): a path under a regular
// file (ENOTDIR), a file squatting on a folder's name (EEXIST), /dev/full (ENOSPC), a dangling link (ENOENT).
describe("Runner, file-system failures", () => {
  const isKtoTrain = (context: StageContext) =>
    context.stage.kind === "train" && (context.stage.inputs as { optimizer?: string }).optimizer === "kto"

  /** A hook's file-system setup; a failure there is the test's own bug, hence a defect. */
  const onDisk = <A>(f: (fs: FileSystem.FileSystem) => Effect.Effect<A, unknown>) =>
    Effect.flatMap(FileSystem.FileSystem, f).pipe(Effect.orDie, Effect.asVoid, Effect.provide(NodeContext.layer))

  /** Nothing is left running or half-written, whatever failed. */
  const assertConsistent = (experiment: string, workDir: string) => Effect.gen(function* () {
    const store = yield* RunStore
    const fs = yield* FileSystem.FileSystem
    const stages = yield* store.stagesOf(experiment)
    assert.deepStrictEqual(stages.filter((s) => s.status === "running").map((s) => s.id), [])
    const runs = yield* store.listRuns({ experiment })
    assert.deepStrictEqual(runs.filter((r) => r.status === "running").map((r) => r.id), [])
    assert.deepStrictEqual((yield* fs.readDirectory(workDir)).filter((name) => name.endsWith(".partial")), [])
    for (const s of stages.filter((s) => s.status === "failed")) assert.isFalse(yield* fs.exists(path.join(workDir, s.id)), s.id)
  })

  it.scopedLive("a work dir that cannot be created ends the sweep with WorkDirError (exit code 1) before any stage runs", () =>
    harness(undefined, ({ calls, options, dir }) => Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const store = yield* RunStore
      const plan = yield* loadExperiment(fixture)
      const blocker = path.join(dir, "not-a-folder")
      yield* fs.writeFileString(blocker, "a regular file\n")
      const workDir = path.join(blocker, "stages")
      const error = yield* (yield* Runner).run(plan, { ...options, workDir }).pipe(Effect.flip)
      assert.instanceOf(error, WorkDirError)
      assert.strictEqual(error.message, `cannot create work dir ${workDir}: ENOTDIR: not a directory`)
      assert.isTrue(isUserFacingError(error))
      assert.strictEqual(error.exitCode, 1)
      assert.deepStrictEqual(calls, [])
      assert.deepStrictEqual(yield* store.stagesOf(plan.name), [])
    })))

  it.scopedLive("a stage whose output folder cannot be created fails alone; its runs' later stages are skipped, the others complete", () => {
    let squat = true
    return harness((context) =>
      squat && isKtoTrain(context)
        ? onDisk((fs) => fs.writeFileString(context.outputDir, "squatter\n"))
        : undefined, ({ calls, options }) => Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      const runner = yield* Runner
      const store = yield* RunStore
      const summary = yield* runner.run(plan, options)
      assert.deepStrictEqual(summary.runs.map((r) => r.status), ["completed", "completed", "completed", "completed", "failed", "failed"])
      assert.strictEqual(summary.failed, 2)
      const failedRun = yield* store.showRun(summary.runs[4]!.id)
      assert.strictEqual(failedRun.run.status, "failed")
      const train = failedRun.stages.find((s) => s.name === "preference")!
      assert.strictEqual(train.status, "failed")
      assert.strictEqual(train.error, `cannot create ${path.join(options.workDir, train.id)}.partial: EEXIST: file already exists`)
      assert.deepStrictEqual(yield* store.artifactsOf(train.id), [])
      assert.deepStrictEqual(failedRun.stages.filter((s) => s.name === "generate" || s.name === "evaluate").map((s) => s.status), ["pending", "pending"])
      const other = yield* store.showRun(summary.runs[0]!.id)
      assert.isTrue(other.stages.every((s) => s.status === "completed"))
      yield* assertConsistent(plan.name, options.workDir)

      squat = false
      const before = calls.length
      const retried = yield* runner.run(plan, { ...options, retryFailed: true })
      assert.isTrue(retried.runs.every((r) => r.status === "completed"))
      assert.strictEqual(calls.length - before, 3 * 2)
      assert.strictEqual((yield* store.getStage(train.id)).pipe((o) => o._tag === "Some" ? o.value.attempts : 0), 2)
    }))
  })

  it.scopedLive.skipIf(!existsSync("/dev/full"))("disk full while a stage writes its files (ENOSPC) fails that stage with the path and the OS reason", () =>
    harness((context) =>
      context.stage.kind === "generate" && context.stage.inputs["seed"] === 1
        ? onDisk((fs) =>
            fs.makeDirectory(context.outputDir, { recursive: true }).pipe(Effect.zipRight(fs.symlink("/dev/full", path.join(context.outputDir, "out.txt")))))
        : undefined, ({ options }) => Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      const store = yield* RunStore
      const summary = yield* (yield* Runner).run(plan, options)
      assert.deepStrictEqual(summary.runs.filter((r) => r.status === "failed").map((r) => r.label.endsWith("seed=1")), [true, true, true])
      assert.strictEqual(summary.runs.filter((r) => r.status === "completed").length, 3)
      const stages = yield* store.stagesOf(plan.name)
      const failed = stages.filter((s) => s.status === "failed")
      assert.deepStrictEqual(failed.map((s) => s.kind), ["generate", "generate", "generate"])
      for (const s of failed) assert.strictEqual(s.error, `cannot write ${path.join(options.workDir, s.id)}.partial/out.txt: ENOSPC: no space left on device`)
      assert.strictEqual(stages.filter((s) => s.kind === "evaluate" && s.status === "completed").length, 3)
      yield* assertConsistent(plan.name, options.workDir)
    })))

  it.scopedLive("the runner's own read of a stage's files fails (dangling link): that stage fails, nothing of it is kept", () => {
    let target: string | undefined
    return harness((context) =>
      context.stage.id === target
        ? onDisk((fs) =>
            fs.makeDirectory(context.outputDir, { recursive: true }).pipe(
              Effect.zipRight(fs.symlink(path.join(context.outputDir, "deleted.bin"), path.join(context.outputDir, "checkpoint.bin")))))
        : undefined, ({ options }) => Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      target = plan.runs[0]!.stages.find((s) => s.name === "generate")!.stageId
      const store = yield* RunStore
      const summary = yield* (yield* Runner).run(plan, options)
      assert.deepStrictEqual(summary.runs.map((r) => r.status), ["failed", "completed", "completed", "completed", "completed", "completed"])
      const failed = (yield* store.stagesOf(plan.name)).filter((s) => s.status === "failed")
      assert.deepStrictEqual(failed.map((s) => s.id), [target])
      assert.strictEqual(failed[0]!.error, `cannot read ${path.join(options.workDir, target)}.partial/checkpoint.bin: ENOENT: no such file or directory`)
      assert.deepStrictEqual(yield* store.artifactsOf(failed[0]!.id), [])
      yield* assertConsistent(plan.name, options.workDir)
    }))
  })

  it.scopedLive("an executor that dies on a file-system error is recorded as a crash naming the path and reason", () => {
    let target: string | undefined
    return harness((context) =>
      context.stage.id === target
        ? onDisk((fs) => fs.makeDirectory(path.join(context.upstream["items"]!, "out.txt", "cache"), { recursive: true }))
        : undefined, ({ options }) => Effect.gen(function* () {
      const plan = yield* loadExperiment(fixture)
      target = plan.runs[2]!.stages.find((s) => s.name === "generate")!.stageId
      const items = plan.stages.get(target as StageId)!.deps["items"]!
      const store = yield* RunStore
      const summary = yield* (yield* Runner).run(plan, options)
      assert.deepStrictEqual(summary.runs.map((r) => r.status), ["completed", "completed", "failed", "completed", "completed", "completed"])
      const failed = (yield* store.stagesOf(plan.name)).filter((s) => s.status === "failed")
      assert.deepStrictEqual(failed.map((s) => s.id), [target])
      assert.strictEqual(failed[0]!.error, `executor crashed: cannot create ${path.join(options.workDir, items, "out.txt", "cache")}: ENOTDIR: not a directory`)
      yield* assertConsistent(plan.name, options.workDir)
    }))
  })
})
