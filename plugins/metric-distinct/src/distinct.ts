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
