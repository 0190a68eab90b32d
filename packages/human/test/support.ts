import * as NodeContext from "@effect/platform-node/NodeContext"
import { sharedData } from "@empo/core/testing/sharedData"
import { RunStore } from "@empo/store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { planStudy } from "../src/Batch.ts"
import { HumanStore, type NewStudy } from "../src/HumanStore.ts"
import { studyStatements } from "../src/Statements.ts"

/** A real store in a temp folder with the human tables (migration 0006), as `empo human serve` opens it. */
export const storeRuntime = (db: string) =>
  ManagedRuntime.make(HumanStore.layerNoDeps.pipe(Layer.provideMerge(RunStore.layer(db)), Layer.provideMerge(NodeContext.layer)))

export const predictions = {
  baseline: sharedData("predictions", "baseline_zephyr-7b-sft-full.txt"),
  dpo: sharedData("predictions", "dpo_zephyr-7b-sft-full124_d270.txt")
}

const planned = new Map<string, NewStudy>()

/**
 * A small study of the study's own prediction files: 8 items (1 per emotion, first 8 emotions' worth after the
 * shuffle) × 3 conditions × 2 raters each, 4 items per rater (12 bundles) plus one attention check per bundle.
 */
export const makeStudy = async (options: { readonly attentionChecks?: number; readonly id?: string } = {}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "empo-human-"))
  const db = path.join(dir, "empo.db")
  const runtime = storeRuntime(db)
  const id = options.id ?? "pilot"
  await runtime.runPromise(Effect.gen(function* () {
    // Planning reads two 2,540-row files; the plan is deterministic, so each test file pays for it once.
    const key = `${options.attentionChecks ?? 1}`
    const study = { ...(planned.get(key) ?? planned.set(key, yield* planStudy({
      id, title: "Empathy pilot",
      conditions: [
        { name: "zephyr_base", kind: "file", file: predictions.baseline },
        { name: "zephyr_dpo", kind: "file", file: predictions.dpo },
        { name: "human_targets", kind: "gold" }
      ],
      plan: { perEmotion: 1, items: 8, extraEmotions: [], seed: 7 },
      statements: studyStatements,
      ratersPerItem: 2, itemsPerRater: 4, attentionChecks: options.attentionChecks ?? 1,
      completionCode: "C0DE42", redirectUrl: "https://app.prolific.com/submissions/complete?cc=C0DE42"
    })).get(key)!), id }
    yield* (yield* HumanStore).createStudy(study)
  }))
  return { dir, db, runtime, id }
}
