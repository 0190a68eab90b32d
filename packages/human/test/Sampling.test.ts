import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { sharedData } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { loadPredictions, planStudy } from "../src/Batch.ts"
import { displayText, turnsOfTemplate } from "../src/Display.ts"
import { parseStatements, studyStatements } from "../src/Statements.ts"
import { makeBundles, sampleItems, studyPlan } from "../src/Sampling.ts"
import { predictions } from "./support.ts"

const conditions = ["zephyr_base", "zephyr_dpo", "zephyr_base_output_limit", "SFT", "human_targets"]

describe("sampling as the study did", () => {
  it.effect("4 per emotion plus 7 sad/surprised/proud extras = 135 items, seeded", () =>
    Effect.gen(function* () {
      const items = yield* loadPredictions(predictions.baseline)
      assert.strictEqual(items.length, 2540)
      const sampled = sampleItems(items, studyPlan)
      assert.strictEqual(sampled.length, 135)
      assert.strictEqual(new Set(sampled.map((s) => s.id)).size, 135)
      const perEmotion = new Map<string, number>()
      for (const s of sampled) perEmotion.set(s.emotion, (perEmotion.get(s.emotion) ?? 0) + 1)
      assert.strictEqual(perEmotion.size, 32)
      const extra = [...perEmotion].filter(([, n]) => n > 4)
      assert.isTrue(extra.every(([e]) => ["sad", "surprised", "proud"].includes(e)))
      assert.strictEqual(extra.reduce((acc, [, n]) => acc + n - 4, 0), 7)
      assert.deepStrictEqual(sampleItems(items, studyPlan).map((s) => s.id), sampled.map((s) => s.id), "same seed, same items")
      assert.notDeepEqual(sampleItems(items, { ...studyPlan, seed: 43 }).map((s) => s.id), sampled.map((s) => s.id))
    }).pipe(Effect.provide(NodeContext.layer)))

  it("bundles: every unit rated 3 times, 15 per rater, no dialogue twice, 3 of each condition per bundle", () => {
    const items = Array.from({ length: 135 }, (_, i) => `item${i}`)
    const bundles = makeBundles(items, conditions, { ratersPerItem: 3, itemsPerRater: 15, seed: 42 })
    assert.strictEqual(bundles.length, 135)
    const seen = new Map<string, number>()
    for (const b of bundles) {
      assert.strictEqual(b.length, 15)
      assert.strictEqual(new Set(b.map((u) => u.item)).size, 15)
      for (const c of conditions) assert.strictEqual(b.filter((u) => u.condition === c).length, 3)
      for (const u of b) seen.set(`${u.item}/${u.condition}`, (seen.get(`${u.item}/${u.condition}`) ?? 0) + 1)
    }
    assert.strictEqual(seen.size, 675)
    assert.isTrue([...seen.values()].every((n) => n === 3))
    // The first 45 bundles handed out cover every unit once.
    assert.strictEqual(new Set(bundles.slice(0, 45).flatMap((b) => b.map((u) => `${u.item}/${u.condition}`))).size, 675)
  })

  it.effect("display text is the study's tidy_chat (system prompt stripped, Speaker/Listener turns)", () =>
    Effect.gen(function* () {
      const { parse } = yield* Effect.promise(() => import("csv-parse/sync"))
      const rows = parse(fs.readFileSync(sharedData("human_eval", "he_data.csv"), "utf8"), { columns: true }) as Array<Record<string, string>>
      // The gold condition's shown reply is in tidy_chat only (neither gens nor gen_targets hold it), so the
      // dialogue part is compared for it and the whole text for the model conditions.
      const marker = "\nListener (Response): "
      for (const row of rows) {
        const tidy = row["tidy_chat"]!
        const shown = row["model"] === "human_targets" ? tidy.slice(tidy.lastIndexOf(marker) + marker.length) : row["gens"]!
        assert.strictEqual(displayText(turnsOfTemplate(row["chat_templates"]!), shown), tidy)
      }
    }))

  it.effect("a study's plan is seeded end to end, with attention checks in every bundle", () =>
    Effect.gen(function* () {
      const plan = () => planStudy({
        id: "s", title: "t", statements: studyStatements, ratersPerItem: 3, itemsPerRater: 15, attentionChecks: 2,
        conditions: [{ name: "zephyr_base", kind: "file", file: predictions.baseline }, { name: "zephyr_dpo", kind: "file", file: predictions.dpo }, { name: "human_targets", kind: "gold" }],
        plan: studyPlan, completionCode: "X"
      })
      const a = yield* plan()
      const b = yield* plan()
      assert.deepStrictEqual(a.bundles, b.bundles)
      assert.strictEqual(a.items.length, 137)
      assert.isTrue(a.bundles.every((u) => u.length === 17 && u.filter((x) => x.condition === "attention").length === 2))
      const gold = a.items.find((i) => !i.attention)!
      assert.strictEqual(gold.responses["human_targets"]!.response, gold.responses["human_targets"]!.target)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("a statements YAML with a bad field is refused naming it; the shipped study file is the default", () =>
    Effect.gen(function* () {
      const shipped = path.join(import.meta.dirname, "../statements/empo-study.yaml")
      assert.deepStrictEqual(yield* parseStatements(shipped, fs.readFileSync(shipped, "utf8")), studyStatements)
      const ok = yield* parseStatements("s.yaml", "statements:\n  - { key: Q1, kind: slider, text: Helpful }\nscale: { min: 0, max: 10, start: 5, anchors: [no, yes] }\n")
      assert.strictEqual(ok.statements[0]!.key, "Q1")
      const bad = yield* Effect.flip(parseStatements("s.yaml", "statements:\n  - { key: Q1, kind: dial, text: Helpful }\nscale: { min: 0, max: 10, start: 5, anchors: [no, yes] }\n"))
      assert.match(bad.message, /^s\.yaml: [\s\S]*kind[\s\S]*dial/)
    }))
})
