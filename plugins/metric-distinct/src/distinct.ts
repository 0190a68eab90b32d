/** Counts of the n-grams of one order over a corpus. */
export interface NgramTally {
  readonly total: number
  readonly counts: ReadonlyMap<string, number>
}

// Tokens never contain U+0001, so joining with it keeps n-grams distinct.
const SEP = "\u0001"

/** The n-grams of one token list (within the list only, never across responses). */
export const ngrams = (tokens: ReadonlyArray<string>, n: number): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(SEP))
  return out
}

/** Corpus tally of n-grams of order `n`, counted within each response. */
export const tallyNgrams = (corpus: ReadonlyArray<ReadonlyArray<string>>, n: number): NgramTally => {
  const counts = new Map<string, number>()
  let total = 0
  for (const tokens of corpus) {
    for (const g of ngrams(tokens, n)) {
      counts.set(g, (counts.get(g) ?? 0) + 1)
      total++
    }
  }
  return { total, counts }
}

/** distinct-n: unique n-grams / all n-grams (NaN when there are none). */
export const distinctRatio = (tally: NgramTally): number => tally.total === 0 ? Number.NaN : tally.counts.size / tally.total

/** Shannon entropy (bits) of the n-gram distribution. */
export const ngramEntropy = (tally: NgramTally): number => {
  if (tally.total === 0) return Number.NaN
  let h = 0
  for (const c of tally.counts.values()) {
    const p = c / tally.total
    h -= p * Math.log2(p)
  }
  return h
}

/** distinct-n of a single response. */
export const itemDistinct = (tokens: ReadonlyArray<string>, n: number): number => {
  const grams = ngrams(tokens, n)
  return grams.length === 0 ? Number.NaN : new Set(grams).size / grams.length
}

/** distinct-n and entropy of a corpus, as {@link distinctRatio} and {@link ngramEntropy} give them for its tally. */
export interface CorpusNgramStats {
  readonly distinct: number
  readonly entropy: number
}

/**
 * Counts a corpus's n-grams as integers: each response is tokenized and its n-grams of every order interned once (by
 * its text), so scoring the same responses again, as the corpus bootstrap of `empo eval --compare` does hundreds of
 * times over resampled items, only adds up integers. Its results equal the string tallies bit for bit: n-grams are
 * visited in the order of their first occurrence, as a Map iterates them, so the entropy sums its terms in the same
 * order. It remembers every response it has seen: one per metric instance, which lives as long as one evaluation.
 */
export class NgramCounter {
  // One id space for every order: n-grams of different orders never join to the same string.
  private readonly ids = new Map<string, number>()
  private readonly responses = new Map<string, ReadonlyMap<number, { readonly grams: Int32Array; readonly itemDistinct: number }>>()
  private counts = new Int32Array(1 << 12)
  private readonly firstSeen: Array<number> = []

  constructor(private readonly orders: ReadonlyArray<number>, private readonly tokenize: (text: string) => ReadonlyArray<string>) {}

  /** The interned n-grams of one response in order `n`. */
  private response(text: string, n: number) {
    let entry = this.responses.get(text)
    if (entry === undefined) {
      const tokens = this.tokenize(text)
      entry = new Map(this.orders.map((order) => {
        const grams = Int32Array.from(ngrams(tokens, order), (g) => {
          let id = this.ids.get(g)
          if (id === undefined) this.ids.set(g, id = this.ids.size)
          return id
        })
        return [order, { grams, itemDistinct: grams.length === 0 ? Number.NaN : new Set(grams).size / grams.length }] as const
      }))
      this.responses.set(text, entry)
    }
    const order = entry.get(n)
    if (order === undefined) throw new RangeError(`NgramCounter counts orders ${this.orders.join(", ")}, not ${n}`)
    return order
  }

  /** The response's own distinct-n ({@link itemDistinct}). */
  itemDistinct(text: string, n: number): number {
    return this.response(text, n).itemDistinct
  }

  /** distinct-n and entropy over the responses, each taken as often as it appears. */
  corpus(texts: ReadonlyArray<string>, n: number): CorpusNgramStats {
    const grams = texts.map((text) => this.response(text, n).grams)
    if (this.counts.length < this.ids.size) this.counts = new Int32Array(Math.max(this.ids.size, this.counts.length * 2))
    const counts = this.counts
    const firstSeen = this.firstSeen
    firstSeen.length = 0
    let total = 0
    for (const ids of grams) {
      total += ids.length
      for (let i = 0; i < ids.length; i++) if (counts[ids[i]!]!++ === 0) firstSeen.push(ids[i]!)
    }
    let entropy = 0
    for (const id of firstSeen) {
      const p = counts[id]! / total
      entropy -= p * Math.log2(p)
      counts[id] = 0
    }
    return total === 0 ? { distinct: Number.NaN, entropy: Number.NaN } : { distinct: firstSeen.length / total, entropy }
  }
}
