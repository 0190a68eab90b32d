import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { type Dialogue, ED_EMOTIONS, type Emotion, type GrounderShape, PreferencePair } from "@empo/core"
import { sharedData } from "@empo/core/testing/sharedData"
import { type GenerationItemData, generationItems } from "@empo/data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { buildRows, type DpoRow, Grounders, PLUTCHIK_1, PLUTCHIK_ORIGINAL } from "../src/index.ts"
import { realDialogues } from "./fixtures.ts"

const K = 3
const userMap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "empo-pairing-")), "theory.yaml")
fs.writeFileSync(userMap, "joyful: [sad, devastated]\nsad: joyful\nproud: [ashamed, embarrassed, guilty]\n")
const fromFiles = (options: ConstructorParameters<typeof Grounders.GrounderOptions>[0]) =>
  Grounders.makeGrounder(Grounders.GrounderOptions.make(options)).pipe(Effect.provide(NodeContext.layer), Effect.orDie)
// Every grounder of the registry: the four built-in tables plus the two read from files.
const grounders: ReadonlyArray<{ readonly id: string; readonly make: Effect.Effect<GrounderShape> }> = [
  ...[Grounders.plutchik1, Grounders.plutchikOriginal, Grounders.randomOther, Grounders.sameEmotion].map((g) => ({ id: g.id, make: Effect.succeed(g) })),
  { id: "vad-distance", make: fromFiles({ grounder: "vad-distance", lexicon: sharedData("lexicons", "NRC-VAD-Lexicon.txt") }) },
  { id: "user-map", make: fromFiles({ grounder: "user-map", grounderMap: userMap }) }
]

const testSplit = (all: ReadonlyArray<Dialogue>) => all.filter((d) => d.split === "test")

/** Checks every DPO row against the real items: chosen = the prompt's gold, rejected = gold of an opposite-emotion dialogue. */
const checkRows = (rows: ReadonlyArray<DpoRow>, items: ReadonlyArray<GenerationItemData>, grounder: GrounderShape) => {
  const byId = new Map(items.map((i) => [i.id, i]))
  for (const row of rows) {
    const prompt = byId.get(row.provenance.dialogueId)!
    const rejected = byId.get(row.provenance.rejectedDialogueId)!
    expect(prompt).toBeDefined()
    expect(rejected).toBeDefined()
    expect(row.prompt).toEqual(prompt.prompt)
    expect(row.prompt.at(-1)!.role).toBe("user")
    expect(row.chosen).toEqual([{ role: "assistant", content: prompt.target }])
    expect(row.rejected).toEqual([{ role: "assistant", content: rejected.target }])
    expect(grounder.opposites(prompt.emotion)).toContain(rejected.emotion)
    expect(row.provenance.emotion).toBe(prompt.emotion)
    expect(row.provenance.rejectedEmotion).toBe(rejected.emotion)
    expect(row.provenance.rejectedDialogueId).not.toBe(row.provenance.dialogueId)
    expect(row.rejected[0]!.content).not.toBe(row.chosen[0]!.content)
  }
}

const perPrompt = (rows: ReadonlyArray<DpoRow>) => {
  const counts = new Map<string, Array<string>>()
  for (const r of rows) counts.set(r.provenance.dialogueId, [...(counts.get(r.provenance.dialogueId) ?? []), r.provenance.rejectedDialogueId])
  return counts
}

describe("pairing on the real shared ED data", () => {
  it("covers every registered grounder", () => expect(grounders.map((g) => g.id).sort()).toEqual(Grounders.GROUNDERS.map((g) => g.id).sort()))

  for (const { id, make } of grounders) {
    it.effect(`balanced × ${id}: k distinct opposite negatives per prompt, never its own dialogue`, () =>
      Effect.gen(function*() {
        const grounder = yield* make
        const dialogues = testSplit(yield* realDialogues())
        const built = buildRows(dialogues, { kind: "dpo", mode: "balanced", negatives: K, seed: 7 }, grounder)
        const rows = built.rows as ReadonlyArray<DpoRow>
        checkRows(rows, built.items, grounder)
        const counts = perPrompt(rows)
        const emotionsWithPairs = new Set(ED_EMOTIONS.filter((e) => grounder.opposites(e).length > 0))
        for (const item of built.items) {
          const negatives = counts.get(item.id) ?? []
          expect(new Set(negatives).size).toBe(negatives.length)
          if (emotionsWithPairs.has(item.emotion)) expect(negatives.length).toBe(K)
          else expect(negatives.length).toBe(0)
        }
        expect(built.pairing!.shortPrompts).toBe(0)
        // Rows are grouped by prompt with draws 0..k-1: prompts never mix.
        rows.forEach((r, i) => expect(r.provenance.draw).toBe(i % K))
        for (let i = 0; i < rows.length; i += K) expect(new Set(rows.slice(i, i + K).map((r) => r.provenance.dialogueId)).size).toBe(1)
        for (const r of rows) Schema.decodeUnknownSync(PreferencePair)(r)
      }))

    it.effect(`faithful × ${id}: the study's pairing, ≤ k per prompt, interleaved draws`, () =>
      Effect.gen(function*() {
        const grounder = yield* make
        const dialogues = testSplit(yield* realDialogues())
        const built = buildRows(dialogues, { kind: "dpo", mode: "faithful", negatives: K, seed: 7 }, grounder)
        const rows = built.rows as ReadonlyArray<DpoRow>
        checkRows(rows, built.items, grounder)
        expect(rows.length % K).toBe(0)
        rows.forEach((r, i) => expect(r.provenance.draw).toBe(i % K))
        for (const [, negatives] of perPrompt(rows)) expect(negatives.length).toBeLessThanOrEqual(K)
        if (grounder.id === "plutchik-original") {
          const emotions = new Set(rows.map((r) => r.provenance.emotion))
          expect([...emotions].every((e) => PLUTCHIK_ORIGINAL[e] !== undefined)).toBe(true)
        }
        if (grounder.id === "same-emotion") expect(built.pairing!.droppedIdentical).toBeGreaterThan(0)
      }))
  }

  it.effect("balanced deals the opposite pool evenly: uses of any two pool dialogues differ by at most 1", () =>
    Effect.gen(function*() {
      const all = yield* realDialogues()
      for (const split of ["test", "train"] as const) {
        const built = buildRows(all.filter((d) => d.split === split), { kind: "dpo", mode: "balanced", negatives: K, seed: 5 }, Grounders.plutchik1)
        const rows = built.rows as ReadonlyArray<DpoRow>
        for (const e of ED_EMOTIONS) {
          const pool = built.items.filter((i) => i.emotion === PLUTCHIK_1[e]).map((i) => i.id)
          const uses = new Map(pool.map((id) => [id, 0]))
          for (const r of rows) if (r.provenance.emotion === e) uses.set(r.provenance.rejectedDialogueId, uses.get(r.provenance.rejectedDialogueId)! + 1)
          const counts = [...uses.values()]
          if (counts.length > 0) expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
        }
      }
    }))

  it.effect("--limit-prompts keeps the first N prompts with the same negatives as the unlimited build; --limit keeps N rows", () =>
    Effect.gen(function*() {
      const dialogues = testSplit(yield* realDialogues())
      const full = buildRows(dialogues, { kind: "dpo", mode: "balanced", negatives: K, seed: 9 }, Grounders.plutchik1)
      const limited = buildRows(dialogues, { kind: "dpo", mode: "balanced", negatives: K, seed: 9, limitPrompts: 40 }, Grounders.plutchik1)
      expect(limited.prompts).toBe(40)
      expect(limited.rows.length).toBe(40 * K)
      expect(limited.rows).toEqual(full.rows.slice(0, 40 * K))
      // Faithful draws interleave prompts, so 40 rows are not the rows of 40 prompts.
      const faithful = buildRows(dialogues, { kind: "dpo", mode: "faithful", negatives: K, seed: 9 }, Grounders.plutchik1)
      const faithfulRows = buildRows(dialogues, { kind: "dpo", mode: "faithful", negatives: K, seed: 9, limit: 40 }, Grounders.plutchik1)
      expect(faithfulRows.rows).toEqual(faithful.rows.slice(0, 40))
      expect(faithfulRows.negatives).toEqual(faithful.negatives.slice(0, 40))
      const faithfulPrompts = buildRows(dialogues, { kind: "dpo", mode: "faithful", negatives: K, seed: 9, limitPrompts: 40 }, Grounders.plutchik1)
      expect(faithfulPrompts.rows).not.toEqual(faithfulRows.rows)
      const both = buildRows(dialogues, { kind: "dpo", mode: "faithful", negatives: K, seed: 9, limitPrompts: 40, limit: 5 }, Grounders.plutchik1)
      expect(both.rows).toEqual(faithfulPrompts.rows.slice(0, 5))
      const sft = buildRows(dialogues, { kind: "sft", mode: "balanced", negatives: K, seed: 9, limitPrompts: 7 }, undefined)
      expect(sft.rows.length).toBe(7)
      expect(buildRows(dialogues, { kind: "sft", mode: "balanced", negatives: K, seed: 9, limit: 7 }, undefined).rows).toEqual(sft.rows)
    }))

  it.effect("is deterministic for a seed and changes with the seed (both modes)", () =>
    Effect.gen(function*() {
      const dialogues = testSplit(yield* realDialogues())
      for (const mode of ["faithful", "balanced"] as const) {
        const a = buildRows(dialogues, { kind: "dpo", mode, negatives: K, seed: 42 }, Grounders.plutchik1).rows
        const b = buildRows(dialogues, { kind: "dpo", mode, negatives: K, seed: 42 }, Grounders.plutchik1).rows
        const c = buildRows(dialogues, { kind: "dpo", mode, negatives: K, seed: 43 }, Grounders.plutchik1).rows
        expect(JSON.stringify(a)).toBe(JSON.stringify(b))
        expect(JSON.stringify(a)).not.toBe(JSON.stringify(c))
      }
    }))

  it.effect("faithful pads the opposite list once and truncates to |em| exactly like the study", () =>
    Effect.gen(function*() {
      const dialogues = testSplit(yield* realDialogues())
      const items = generationItems(dialogues)
      const built = buildRows(dialogues, { kind: "dpo", mode: "faithful", negatives: 1, seed: 1 }, Grounders.plutchik1)
      const rows = built.rows as ReadonlyArray<DpoRow>
      // With one draw nothing is truncated by the interleave: for every label E, the pairs are the
      // first min(|em|, |op padded once|) conversations of E that are prompts and whose partner is one.
      const ids = (e: Emotion) => dialogues.filter((d) => d.emotion === e).map((d) => d.id)
      for (const e of ED_EMOTIONS) {
        const em = ids(e)
        const op = ids(PLUTCHIK_1[e])
        const paddedLength = em.length > op.length ? Math.min(em.length, 2 * op.length) : em.length
        const paired = new Set(em.slice(0, paddedLength))
        const rowsOfE = rows.filter((r) => r.provenance.emotion === e)
        for (const r of rowsOfE) expect(paired.has(r.provenance.dialogueId)).toBe(true)
        // Only the first |em| opposite conversations in file order can ever be used (truncation).
        const usable = new Set(op.slice(0, em.length))
        for (const r of rowsOfE) expect(usable.has(r.provenance.rejectedDialogueId)).toBe(true)
        expect(rowsOfE.length).toBeLessThanOrEqual(paddedLength)
      }
      expect(items.length).toBeGreaterThan(rows.length / 2)
    }))

  it.effect("KTO: one desirable then k undesirable rows per prompt; SFT: whole dialogues", () =>
    Effect.gen(function*() {
      const dialogues = testSplit(yield* realDialogues())
      const kto = buildRows(dialogues, { kind: "kto", mode: "balanced", negatives: 2, seed: 3 }, Grounders.plutchik1).rows as ReadonlyArray<{ label: boolean; completion: Array<{ content: string }>; prompt: unknown }>
      expect(kto.length % 3).toBe(0)
      for (let i = 0; i < kto.length; i += 3) {
        expect(kto.slice(i, i + 3).map((r) => r.label)).toEqual([true, false, false])
        expect(kto[i + 1]!.prompt).toEqual(kto[i]!.prompt)
        expect(kto[i + 1]!.completion[0]!.content).not.toBe(kto[i]!.completion[0]!.content)
      }
      const sft = buildRows(dialogues, { kind: "sft", mode: "balanced", negatives: 3, seed: 0, systemPrompt: "S" }, undefined).rows as ReadonlyArray<{ messages: Array<{ role: string; content: string }>; dialogueId: string }>
      expect(sft.length).toBe(dialogues.length)
      const d = dialogues.find((x) => x.id === sft[0]!.dialogueId)!
      expect(sft[0]!.messages.map((m) => m.content)).toEqual(["S", ...d.turns])
      expect(sft[0]!.messages.map((m) => m.role).slice(0, 3)).toEqual(["system", "user", "assistant"])
    }))
})
