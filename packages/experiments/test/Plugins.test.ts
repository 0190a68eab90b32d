import { assert, describe, it } from "@effect/vitest"
import { MetricRegistry } from "@empo/metrics/MetricRegistry"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { StagePlugin } from "../src/Stage.ts"
import { Plugins } from "../src/Plugins.ts"
import { testMetrics, testOptimizers } from "./fixtures/plugins.ts"

const stage = (id: string): StagePlugin => ({ manifest: { id, kind: "stage", version: "0", description: id }, kinds: [], plan: () => {} })

describe("Plugins (the catalogue)", () => {
  it.effect("refuses a repeated id within a kind, and allows one id across kinds", () =>
    Effect.gen(function* () {
      const metric = yield* Effect.flip(Plugins.make({ metrics: [...testMetrics, ...testMetrics], optimizers: testOptimizers }))
      assert.deepInclude(metric, { _tag: "DuplicatePluginError", kind: "metric", id: "length" })
      const optimizer = yield* Effect.flip(Plugins.make({ metrics: testMetrics, optimizers: [...testOptimizers, testOptimizers[0]!] }))
      assert.strictEqual(optimizer.message, "two optimizer plugins share the id `dpo`")
      const stages = yield* Effect.flip(Plugins.make({ metrics: [], optimizers: [], stages: [stage("bench"), stage("bench")] }))
      assert.deepInclude(stages, { kind: "stage", id: "bench" })
      // A stage and an optimizer may share an id: ids are unique within a kind.
      const plugins = yield* Plugins.make({ metrics: testMetrics, optimizers: testOptimizers, stages: [stage("dpo")] })
      assert.deepStrictEqual(plugins.ids("stage"), ["dpo"])
    }))

  it.effect("looks plugins up by kind; an unknown id fails with the known ids in its message", () =>
    Effect.gen(function* () {
      const plugins = yield* Plugins.make({ metrics: testMetrics, optimizers: testOptimizers, stages: [stage("bench")] })
      assert.strictEqual((yield* plugins.optimizer("kto")).manifest.id, "kto")
      assert.strictEqual((yield* plugins.metric("length")).manifest.id, "length")
      assert.strictEqual((yield* plugins.get("stage", "bench")).manifest.id, "bench")
      const unknown = yield* Effect.flip(plugins.optimizer("ppo"))
      assert.deepInclude(unknown, { _tag: "UnknownPluginError", kind: "optimizer", id: "ppo", known: ["dpo", "kto", "sft"] })
      assert.strictEqual(unknown.message, "unknown optimizer `ppo`; known optimizers: dpo, kto, sft")
      assert.strictEqual(unknown.exitCode, 2)
      assert.include((yield* Effect.flip(plugins.get("executor", "slurm"))).message, "known executors: (none)")
    }))

  it.effect("the metric registry is built from the catalogue's metric plugins", () =>
    Effect.gen(function* () {
      const registry = yield* MetricRegistry
      assert.deepStrictEqual(registry.ids, ["length"])
    }).pipe(Effect.provide(Plugins.metricRegistry.pipe(Layer.provide(Plugins.layer({ metrics: testMetrics, optimizers: testOptimizers }))))))
})
