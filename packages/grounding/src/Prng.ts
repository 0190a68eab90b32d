/**
 * A small seeded PRNG, so datasets are byte-identical for a seed on every machine (never Math.random).
 * Algorithm: mulberry32 (Tommy Ettinger, public domain) — 32-bit state, passes gjrand/PractRand to
 * 2^32 outputs, far more than a shuffle of ~20k dialogues needs. Independent streams (one per draw)
 * come from mixing the seed and a stream index with the splitmix32 finaliser.
 */
export interface Prng {
  /** Uniform float in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly nextInt: (n: number) => number
}

/** A generator for `seed` (any integer; taken modulo 2^32) and an optional stream index. */
export const makePrng = (seed: number, stream = 0): Prng => {
  let state = mix32((seed >>> 0) ^ mix32(stream + 0x9e3779b9))
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, nextInt: (n) => Math.floor(next() * n) }
}

const mix32 = (x: number): number => {
  let z = x >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** Fisher–Yates shuffle of a copy (like `numpy.random.permutation`). */
export const permutation = <A>(xs: ReadonlyArray<A>, rng: Prng): Array<A> => {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1)
    const tmp = out[i]!
    out[i] = out[j]!
    out[j] = tmp
  }
  return out
}
