// Interrupted training resumes from the stage's last checkpoint through `empo run` (real TRL SFT on a tiny model):
// the step count continues instead of starting at 1, and the checkpoint folder is removed once the stage completes.
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PluginsLive } from "../src/plugins.ts"
import { empoInProcess } from "./support/inProcess.ts"
import { edExperimentYaml } from "./support/experimentYaml.ts"

const MAX_STEPS = 16

const checkpointsIn = (dir: string) =>
  fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^checkpoint-\d+$/.test(n) && fs.existsSync(path.join(dir, n, "trainer_state.json"))) : []

describe("training resumes from its checkpoints", () => {
  it.live("an SFT stage interrupted after a checkpoint continues from it on the rerun", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-resume-"))
      const file = path.join(dir, "resume.yaml")
      const db = path.join(dir, "empo.db")
      const work = path.join(dir, "stages")
      fs.writeFileSync(file, edExperimentYaml({
        name: "resume",
        limit: 128,
        stages: [`  sft: { optimizer: sft, preset: tiny-cpu, params: { maxSteps: ${MAX_STEPS}, saveSteps: 4, batchSize: 4 } }`]
      }))
      const run = (...extra: Array<string>) => empoInProcess(["run", file, "--db", db, "--work-dir", work, ...extra], PluginsLive)
      const plan = JSON.parse((yield* run("--dry-run", "--json")).stdout) as { stages: ReadonlyArray<{ id: string; kind: string }> }
      const sft = plan.stages.find((s) => s.kind === "train")!.id
      const checkpoints = path.join(work, `${sft}.checkpoints`)

      const first = yield* Effect.fork(run())
      yield* Effect.gen(function* () {
        while (checkpointsIn(checkpoints).length === 0) yield* Effect.sleep("100 millis")
      }).pipe(Effect.timeoutFail({ duration: "150 seconds", onTimeout: () => new Error("no checkpoint was written") }))
      yield* Fiber.interrupt(first)
      const saved = Math.max(...checkpointsIn(checkpoints).map((n) => Number(n.slice("checkpoint-".length))))
      assert.isBelow(saved, MAX_STEPS)

      const second = yield* run("--json")
      assert.strictEqual(second.exit._tag, "Success", second.stdout)
      const record = JSON.parse(fs.readFileSync(path.join(work, sft, "empo-train.json"), "utf8")) as { steps: number }
      assert.strictEqual(record.steps, MAX_STEPS)
      assert.isFalse(fs.existsSync(checkpoints), "the checkpoint folder is removed once the stage completed")

      const points = yield* Effect.flatMap(RunStore, (store) =>
        Effect.flatMap(store.listRuns({ experiment: "resume" }), (runs) => store.metricPointsSince(runs[0]!.id, 0, 100_000))).pipe(
        Effect.scoped, Effect.provide(RunStore.layer(db)), Effect.provide(NodeContext.layer))
      const steps = points.filter((p) => p.stageId === sft && p.key === "loss").map((p) => p.step)
      // Step 1 was logged once (by the first attempt): the rerun went on from the checkpoint, not from scratch.
      assert.strictEqual(steps.filter((s) => s === 1).length, 1)
      assert.strictEqual(Math.max(...steps), MAX_STEPS)
      assert.includeMembers(steps, [saved + 1, MAX_STEPS])
      fs.rmSync(dir, { recursive: true, force: true })
    }), 300_000)
})
