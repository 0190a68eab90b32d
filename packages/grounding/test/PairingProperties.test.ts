import { describe, expect, it } from "@effect/vitest"
import { ED_EMOTIONS, type Emotion } from "@empo/core"
import * as fc from "fast-check"
import { balancedPairing, type Candidate, faithfulPairing, Grounders, makePrng, permutation } from "../src/index.ts"

const emotions = ED_EMOTIONS.slice(0, 5)
const emotion = fc.constantFrom(...emotions)
// Small vocabularies of targets so duplicate texts (which must never be chosen==rejected) occur.
const candidates = fc.array(fc.record({ emotion, target: fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h") }), { minLength: 0, maxLength: 60 })
  .map((xs) => xs.map((x, i): Candidate => ({ id: `hit:${i}_conv:${i}`, emotion: x.emotion, target: `${x.target}${i % 7}` })))
const oppositeTable = fc.dictionary(emotion, fc.uniqueArray(emotion, { maxLength: 3 }))
  .map((t) => (e: Emotion): ReadonlyArray<Emotion> => t[e] ?? [])

describe("pairing properties (fast-check)", () => {
  it.prop("balanced: every prompt gets min(k, distinct eligible targets) distinct negatives from its opposites", [candidates, oppositeTable, fc.integer({ min: 1, max: 5 }), fc.integer()], ([items, opposites, k, seed]) => {
    const { negatives } = balancedPairing(items, opposites, k, seed)
    const byPrompt = new Map<number, Array<number>>()
    for (const n of negatives) byPrompt.set(n.prompt, [...(byPrompt.get(n.prompt) ?? []), n.rejected])
    items.forEach((item, p) => {
      const got = byPrompt.get(p) ?? []
      const allowed = new Set(opposites(item.emotion))
      const eligibleTexts = new Set(items.filter((c, i) => i !== p && allowed.has(c.emotion) && c.target !== item.target).map((c) => c.target))
      expect(got.length).toBe(Math.min(k, eligibleTexts.size))
      expect(new Set(got).size).toBe(got.length)
      expect(new Set(got.map((r) => items[r]!.target)).size).toBe(got.length)
      for (const r of got) {
        expect(r).not.toBe(p)
        expect(allowed.has(items[r]!.emotion)).toBe(true)
        expect(items[r]!.target).not.toBe(item.target)
      }
    })
    // grouped by prompt, in prompt order of each emotion, draws 0..n-1
    let last = -1
    for (const n of negatives) {
      if (n.prompt !== last) {
        expect(n.draw).toBe(0)
        last = n.prompt
      }
    }
  })

  it.prop("balanced: a large enough pool is used without replacement before any repeat", [fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer()], ([prompts, k, seed]) => {
    // prompts×k draws from a pool of exactly prompts×k distinct opposite dialogues: each used once.
    const items: Array<Candidate> = [
      ...Array.from({ length: prompts }, (_, i): Candidate => ({ id: `p${i}`, emotion: "sad", target: `p${i}` })),
      ...Array.from({ length: prompts * k }, (_, i): Candidate => ({ id: `o${i}`, emotion: "joyful", target: `o${i}` }))
    ]
    const only = (e: Emotion): ReadonlyArray<Emotion> => (e === "sad" ? ["joyful"] : [])
    const { negatives } = balancedPairing(items, only, k, seed)
    expect(negatives.length).toBe(prompts * k)
    expect(new Set(negatives.map((n) => n.rejected)).size).toBe(prompts * k)
  })

  it.prop("faithful: k interleaved draws of equal length, each rejected from the opposites, never chosen", [candidates, fc.integer({ min: 1, max: 4 }), fc.integer()], ([items, k, seed]) => {
    const { negatives } = faithfulPairing(items, items, Grounders.plutchik1.opposites, k, seed)
    expect(negatives.length % k).toBe(0)
    negatives.forEach((n, i) => {
      expect(n.draw).toBe(i % k)
      expect(Grounders.plutchik1.opposites(items[n.prompt]!.emotion)).toContain(items[n.rejected]!.emotion)
      expect(items[n.rejected]!.target).not.toBe(items[n.prompt]!.target)
    })
  })

  it.prop("both modes are pure functions of (items, seed)", [candidates, fc.integer()], ([items, seed]) => {
    expect(balancedPairing(items, Grounders.randomOther.opposites, 3, seed)).toEqual(balancedPairing(items, Grounders.randomOther.opposites, 3, seed))
    expect(faithfulPairing(items, items, Grounders.randomOther.opposites, 3, seed)).toEqual(faithfulPairing(items, items, Grounders.randomOther.opposites, 3, seed))
  })

  it.prop("permutation is a permutation, and the PRNG stays in range", [fc.array(fc.integer()), fc.integer(), fc.integer({ min: 1, max: 1000 })], ([xs, seed, n]) => {
    const rng = makePrng(seed)
    expect([...permutation(xs, rng)].sort()).toEqual([...xs].sort())
    for (let i = 0; i < 50; i++) {
      const v = rng.nextInt(n)
      expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true)
    }
  })
})
