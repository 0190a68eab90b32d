import * as prand from "pure-rand"

/** A seeded generator; every draw of a study (items, bundles, display order) comes from one of these. */
export const generator = (seed: number) => prand.xoroshiro128plus(seed | 0)
type Gen = ReturnType<typeof generator>

/** A seeded Fisher–Yates shuffle (a new array). */
export const shuffle = <A>(xs: ReadonlyArray<A>, gen: Gen): Array<A> => {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = prand.unsafeUniformIntDistribution(0, i, gen)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

/** How to pick the items of a study. */
export interface SamplingPlan {
  /** Items drawn per emotion (the study: 4). */
  readonly perEmotion: number
  /** Total items; the rest after the stratified draw are the first unsampled items (file order) of `extraEmotions`. */
  readonly items: number
  /** Emotions the extras come from (the study: sad, surprised, proud); empty = any. */
  readonly extraEmotions: ReadonlyArray<string>
  readonly seed: number
}

/** The study's plan: 4 per emotion (128 of 32 emotions) plus 7 extras from sad/surprised/proud = 135 items. */
export const studyPlan: SamplingPlan = { perEmotion: 4, items: 135, extraEmotions: ["sad", "surprised", "proud"], seed: 42 }

/**
 * The study's stratified sampling (empo-method §5.8): `perEmotion` items per emotion, then the first items not
 * yet sampled (file order) whose emotion is one of `extraEmotions` until there are `items`; the result shuffled.
 * Seeded, so the same candidates and seed give the same items. An emotion with fewer items gives all it has.
 */
export const sampleItems = <A extends { readonly emotion: string }>(candidates: ReadonlyArray<A>, plan: SamplingPlan): Array<A> => {
  const gen = generator(plan.seed)
  const byEmotion = new Map<string, Array<number>>()
  candidates.forEach((c, i) => byEmotion.set(c.emotion, [...(byEmotion.get(c.emotion) ?? []), i]))
  let chosen: Array<number> = []
  for (const emotion of [...byEmotion.keys()].sort()) chosen.push(...shuffle(byEmotion.get(emotion)!, gen).slice(0, plan.perEmotion))
  if (chosen.length > plan.items) chosen = shuffle(chosen, gen).slice(0, plan.items)
  const taken = new Set(chosen)
  const extras = new Set(plan.extraEmotions)
  for (let i = 0; i < candidates.length && chosen.length < plan.items; i++) {
    if (taken.has(i) || (extras.size > 0 && !extras.has(candidates[i]!.emotion))) continue
    chosen.push(i)
    taken.add(i)
  }
  return shuffle(chosen, gen).map((i) => candidates[i]!)
}

/** One rating slot: an item shown with one condition's response. */
export interface Unit {
  readonly item: string
  readonly condition: string
}

/**
 * Splits every (item, condition) unit, `ratersPerItem` times over, into bundles of `itemsPerRater` for one rater
 * each. Round r lays the units out as position j → (item π_r(j mod N), condition (j mod N + ⌊j/N⌋) mod C) and cuts
 * it into consecutive runs: any `itemsPerRater` ≤ N consecutive positions have distinct items, so a rater never
 * sees one dialogue twice, and conditions cycle within each bundle. Rounds follow each other, so the bundles handed
 * out first cover every unit once before any unit gets a second rating. Display order within a bundle is shuffled.
 */
export const makeBundles = (
  items: ReadonlyArray<string>,
  conditions: ReadonlyArray<string>,
  options: { readonly ratersPerItem: number; readonly itemsPerRater: number; readonly seed: number }
): Array<Array<Unit>> => {
  const gen = generator(options.seed + 1)
  const n = items.length
  const c = conditions.length
  const rounds: Array<Array<Array<Unit>>> = []
  for (let r = 0; r < options.ratersPerItem; r++) {
    const perm = shuffle(items, gen)
    const condOrder = shuffle(conditions, gen)
    const bundles: Array<Array<Unit>> = []
    for (let start = 0; start < n * c; start += options.itemsPerRater) {
      const bundle: Array<Unit> = []
      for (let j = start; j < Math.min(start + options.itemsPerRater, n * c); j++) {
        bundle.push({ item: perm[j % n]!, condition: condOrder[(j % n + Math.floor(j / n)) % c]! })
      }
      bundles.push(bundle)
    }
    rounds.push(shuffle(bundles, gen))
  }
  return rounds.flatMap((round) => round.map((bundle) => shuffle(bundle, gen)))
}
