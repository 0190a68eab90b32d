import { ED_EMOTIONS, type Emotion } from "@empo/core"
import { makePrng, permutation } from "./Prng.ts"

/** A prompt that can take negatives, and whose gold target can serve as another prompt's negative. */
export interface Candidate {
  readonly id: string
  readonly emotion: Emotion
  readonly target: string
}

/** One negative: the gold target of `items[rejected]` is a rejected reply for `items[prompt]`. */
export interface Negative {
  readonly prompt: number
  readonly rejected: number
  /** 0-based draw index (which of the k negatives). */
  readonly draw: number
}

/** The pairing result plus what it could not do. */
export interface Pairing {
  readonly negatives: Array<Negative>
  /** Faithful mode: pairs dropped because the rejected text equals the chosen one (or is the same dialogue). */
  readonly droppedIdentical: number
  /** Balanced mode: prompts that got fewer than k negatives because the pool was too small. */
  readonly shortPrompts: number
}

/** Sampling modes. */
export type Mode = "faithful" | "balanced"

const differentDialogue = (items: ReadonlyArray<Candidate>, prompt: number, candidate: number): boolean =>
  candidate !== prompt && items[candidate]!.id !== items[prompt]!.id && items[candidate]!.target !== items[prompt]!.target

/**
 * `balanced`: every prompt gets k distinct negatives from dialogues whose emotion is one of its
 * opposites — never its own dialogue, never a text equal to its chosen reply, never repeated within the
 * prompt. Per prompt emotion the pool is dealt from a shuffled deck, so each opposite dialogue is used
 * once before any is used twice (without replacement where possible); the deck is reshuffled when it
 * runs out. Negatives come out grouped by prompt (item order), draws 0…k-1, so prompts never mix.
 * Each emotion has its own PRNG stream, so one label's pool does not shift another's draws.
 */
export const balancedPairing = (
  items: ReadonlyArray<Candidate>,
  opposites: (emotion: Emotion) => ReadonlyArray<Emotion>,
  k: number,
  seed: number
): Pairing => {
  const byEmotion = new Map<Emotion, Array<number>>()
  items.forEach((item, i) => {
    const list = byEmotion.get(item.emotion)
    if (list === undefined) byEmotion.set(item.emotion, [i])
    else list.push(i)
  })
  const ids = items.map((item) => item.id)
  const targets = items.map((item) => item.target)
  const perPrompt: Array<Array<Negative> | undefined> = new Array(items.length)
  let shortPrompts = 0
  ED_EMOTIONS.forEach((emotion, emotionIndex) => {
    const prompts = byEmotion.get(emotion)
    if (prompts === undefined) return
    const opposite = opposites(emotion)
    const pool = opposite.length === 1 ? (byEmotion.get(opposite[0]!) ?? []) : poolOf(items, new Set(opposite))
    const rng = makePrng(seed, emotionIndex + 1)
    let deck = permutation(pool, rng)
    let top = 0
    for (const prompt of prompts) {
      const picked: Array<Negative> = []
      // Eligible: another dialogue, a text different from the chosen one and from those already picked.
      const eligible = (c: number): boolean => {
        if (c === prompt || ids[c] === ids[prompt] || targets[c] === targets[prompt]) return false
        for (const n of picked) if (n.rejected === c || targets[n.rejected] === targets[c]) return false
        return true
      }
      for (let draw = 0; draw < k && pool.length > 0; draw++) {
        let found = scan(deck, top, eligible)
        if (found < 0) {
          deck = permutation(pool, rng)
          top = 0
          found = scan(deck, 0, eligible)
          if (found < 0) break
        }
        const card = deck[found]!
        deck[found] = deck[top]!
        deck[top] = card
        top++
        picked.push({ prompt, rejected: card, draw })
      }
      if (opposite.length > 0 && picked.length < k) shortPrompts++
      perPrompt[prompt] = picked
    }
  })
  const negatives: Array<Negative> = []
  for (const list of perPrompt) if (list !== undefined) for (const n of list) negatives.push(n)
  return { negatives, droppedIdentical: 0, shortPrompts }
}

const poolOf = (items: ReadonlyArray<Candidate>, emotions: ReadonlySet<Emotion>): Array<number> => {
  const out: Array<number> = []
  items.forEach((item, i) => {
    if (emotions.has(item.emotion)) out.push(i)
  })
  return out
}

const scan = (deck: ReadonlyArray<number>, from: number, ok: (c: number) => boolean): number => {
  for (let i = from; i < deck.length; i++) if (ok(deck[i]!)) return i
  return -1
}

/**
 * `faithful`: the study's pairing (empo-method §2.2–2.3), seeded. For each of k independent draws and
 * each label E (map order) with opposites O: `em` = E's conversation ids in order of first appearance
 * (including dialogues too short to be prompts), `op` = O's; pad `op` ONCE with its own head when
 * shorter, or truncate it to |em|; permute `op`; pair em[i] → perm[i]. A pair survives when both ends
 * are prompts. Draw lists are interleaved a1,b1,c1,a2,… and truncated to the shortest (so a triple may
 * mix prompts, as in the original). The one deviation: a pair whose rejected reply equals its chosen
 * reply (same-emotion control, duplicated texts) is dropped and counted, not emitted.
 */
export const faithfulPairing = (
  items: ReadonlyArray<Candidate>,
  firstAppearance: ReadonlyArray<{ readonly id: string; readonly emotion: Emotion }>,
  opposites: (emotion: Emotion) => ReadonlyArray<Emotion>,
  k: number,
  seed: number
): Pairing => {
  const itemIndex = new Map<string, number>()
  items.forEach((item, i) => itemIndex.set(item.id, i))
  const idsByEmotion = new Map<Emotion, Array<string>>()
  const seen = new Set<string>()
  for (const d of firstAppearance) {
    if (seen.has(d.id)) continue
    seen.add(d.id)
    const list = idsByEmotion.get(d.emotion)
    if (list === undefined) idsByEmotion.set(d.emotion, [d.id])
    else list.push(d.id)
  }
  const lists: Array<Array<Negative>> = []
  let droppedIdentical = 0
  for (let draw = 0; draw < k; draw++) {
    const rng = makePrng(seed, 1000 + draw)
    const opposite = new Map<string, string>()
    for (const emotion of ED_EMOTIONS) {
      const targets = opposites(emotion)
      if (targets.length === 0) continue
      const em = idsByEmotion.get(emotion) ?? []
      let op = targets.length === 1 ? (idsByEmotion.get(targets[0]!) ?? []) : firstAppearanceOf(firstAppearance, new Set(targets))
      if (em.length > op.length) op = [...op, ...op.slice(0, em.length - op.length)]
      else if (em.length < op.length) op = op.slice(0, em.length)
      const perm = permutation(op, rng)
      const n = Math.min(em.length, perm.length)
      for (let i = 0; i < n; i++) opposite.set(em[i]!, perm[i]!)
    }
    const list: Array<Negative> = []
    items.forEach((item, prompt) => {
      const other = opposite.get(item.id)
      const rejected = other === undefined ? undefined : itemIndex.get(other)
      if (rejected === undefined) return
      if (!differentDialogue(items, prompt, rejected)) {
        droppedIdentical++
        return
      }
      list.push({ prompt, rejected, draw })
    })
    lists.push(list)
  }
  const shortest = lists.length === 0 ? 0 : Math.min(...lists.map((l) => l.length))
  const negatives: Array<Negative> = []
  for (let i = 0; i < shortest; i++) for (const list of lists) negatives.push(list[i]!)
  return { negatives, droppedIdentical, shortPrompts: 0 }
}

const firstAppearanceOf = (dialogues: ReadonlyArray<{ readonly id: string; readonly emotion: Emotion }>, emotions: ReadonlySet<Emotion>): Array<string> => {
  const out: Array<string> = []
  const seen = new Set<string>()
  for (const d of dialogues) {
    if (emotions.has(d.emotion) && !seen.has(d.id)) {
      seen.add(d.id)
      out.push(d.id)
    }
  }
  return out
}
