/**
 * The study's template/span folding (MichiganNLP/empathy_eval `ngrams.py`, empo-method §5.5), computed
 * incrementally. The original recounts every n-gram of every response after each merge (minutes to hours).
 * Here only n-grams that can repeat are counted, apriori-style: an n-gram occurrence is tracked when n = 2 or
 * when its (n−1)-token prefix occurs at least twice (otherwise it occurs at most once and has weight 1).
 * Counts change only in the responses a merge rewrites, and the next span comes from a max-heap whose keys
 * (weight, n, first occurrence) are exact for the entry a record is currently queued with. The selection rule,
 * tie-breaks and the string-replace + re-tokenize step are the original's, so the templates are identical.
 */

import { NgramTable } from "./internal/NgramTable.ts"

/** Tokenizes a string (must be the same tokenizer that produced the initial tokens). */
export type Tokenize = (text: string) => ReadonlyArray<string>

export interface FoldingResult {
  /** Final token lists (the responses with spans replaced by span tokens). */
  readonly templates: ReadonlyArray<ReadonlyArray<string>>
  /** Span token → the n-gram it replaced (may itself contain span tokens), in creation order. */
  readonly spans: ReadonlyMap<string, ReadonlyArray<string>>
}

/** The span token of the k-th merge: `span_` + 16 digits (the original used 16 digits of a random hash). */
export const spanToken = (k: number): string => `span_${String(k).padStart(16, "0")}`

// n-grams are keyed by (n, double polynomial hash): two moduli below 2^26 keep every product exact in a
// double, and the pair is packed into one 52-bit number. Separate maps per n make a collision need two
// different n-grams of the same length with equal 52-bit hashes.
const P1 = 67_108_859
const P2 = 67_108_837
const B1 = 1_000_003
const B2 = 999_983
const mod = (x: number, p: number): number => ((x % p) + p) % p

class PowerTable {
  readonly p1: Array<number> = [1]
  readonly p2: Array<number> = [1]
  ensure(n: number): void {
    while (this.p1.length <= n) {
      this.p1.push((this.p1[this.p1.length - 1]! * B1) % P1)
      this.p2.push((this.p2[this.p2.length - 1]! * B2) % P2)
    }
  }
}

/**
 * A candidate span. `at` is filled in lazily (only candidates near the top ever need it): the response that
 * holds the n-gram first and the distance of that occurrence from the response's end. Measuring from the
 * end keeps the value exact for occurrences after an edit and only ever too large before one (responses
 * shrink), so a popped entry can be checked and re-queued instead of re-queuing everything on each edit.
 */
interface HeapEntry {
  readonly weight: number
  readonly n: number
  /** First occurrence in the original Counter's order: response index, then position. */
  readonly r: number
  readonly i: number
  readonly record: number
}

/** Max weight, then shortest n (the original's `min(..., key=len)`), then first occurrence. */
const before = (a: HeapEntry, b: HeapEntry): boolean =>
  a.weight !== b.weight ? a.weight > b.weight : a.n !== b.n ? a.n < b.n : a.r !== b.r ? a.r < b.r : a.i < b.i

class CandidateHeap {
  private readonly items: Array<HeapEntry> = []
  get size(): number {
    return this.items.length
  }
  push(e: HeapEntry): void {
    const items = this.items
    items.push(e)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }
  pop(): HeapEntry | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < items.length && before(items[l]!, items[best]!)) best = l
        if (r < items.length && before(items[r]!, items[best]!)) best = r
        if (best === i) break
        ;[items[i], items[best]] = [items[best]!, items[i]!]
        i = best
      }
    }
    return top
  }
}

/**
 * Folds the responses' token lists into templates. `tokenize` re-tokenizes a response after each string
 * replacement, exactly as the original does with NLTK's `word_tokenize`.
 */
export const foldSpans = (
  initial: ReadonlyArray<ReadonlyArray<string>>,
  tokenize: Tokenize,
  onProgress?: (spansCreated: number) => void
): FoldingResult => {
  const ids = new Map<string, number>()
  const names: Array<string> = []
  const intern = (token: string): number => {
    let id = ids.get(token)
    if (id === undefined) {
      id = names.length
      ids.set(token, id)
      names.push(token)
    }
    return id
  }
  const table = new NgramTable()
  // Tracked occurrences of a record, each encoded as response · 2^16 + start: inline while there is one
  // (most n-grams, created and dropped on every rewrite), a Set once the n-gram repeats.
  let single = new Float64Array(1 << 20)
  const occurrences: Array<Set<number> | undefined> = []
  const at = (r: number, i: number): number => r * 65_536 + i
  const powers = new PowerTable()
  const responses: Array<ReadonlyArray<number>> = []
  const prefix1: Array<Float64Array> = []
  const prefix2: Array<Float64Array> = []
  const setResponse = (r: number, seq: ReadonlyArray<number>): void => {
    powers.ensure(seq.length)
    const h1 = new Float64Array(seq.length + 1)
    const h2 = new Float64Array(seq.length + 1)
    for (let k = 0; k < seq.length; k++) {
      h1[k + 1] = (h1[k]! * B1 + seq[k]! + 1) % P1
      h2[k + 1] = (h2[k]! * B2 + seq[k]! + 1) % P2
    }
    responses[r] = seq
    prefix1[r] = h1
    prefix2[r] = h2
  }
  const recordOf = (r: number, i: number, j: number): number => {
    const n = j - i + 1
    const h1 = prefix1[r]!
    const h2 = prefix2[r]!
    return table.record(mod(h1[j + 1]! - h1[i]! * powers.p1[n]!, P1), mod(h2[j + 1]! - h2[i]! * powers.p2[n]!, P2), n)
  }
  // Records whose occurrences changed during the current merge; each is re-queued afterwards only if its
  // key (count, first occurrence) differs from the one it is queued with. A rewritten response untracks and
  // re-tracks all its n-grams, so most records end a merge exactly where they started.
  const changed: Array<number> = []
  let stamp = new Int32Array(1 << 20)
  let merge = 1
  const touch = (rec: number): void => {
    if (rec >= stamp.length) {
      const grown = new Int32Array(stamp.length * 2)
      grown.set(stamp)
      stamp = grown
    }
    if (stamp[rec] !== merge) {
      stamp[rec] = merge
      changed.push(rec)
    }
  }

  /** Tracks occurrence [i..j] of response r, and the extensions that become trackable with it. */
  const add = (r: number, i: number, j: number): void => {
    const rec = recordOf(r, i, j)
    const self = at(r, i)
    const count = ++table.count[rec]!
    touch(rec)
    const n = j - i + 1
    if (count === 1) {
      if (rec >= single.length) {
        const grown = new Float64Array(single.length * 2)
        grown.set(single)
        single = grown
      }
      single[rec] = self
    } else if (count > 2) occurrences[rec]!.add(self)
    else {
      const other = single[rec]!
      occurrences[rec] = new Set([other, self])
      table.ids[rec] ??= responses[r]!.slice(i, j + 1)
      // The n-gram now repeats, so the extension of its other occurrence becomes trackable too.
      const otherR = Math.floor(other / 65_536)
      const otherI = other % 65_536
      if (otherI + n < responses[otherR]!.length) add(otherR, otherI, otherI + n)
    }
    if (count >= 2 && j + 1 < responses[r]!.length) add(r, i, j + 1)
  }

  /** Untracks occurrence [i..j] of response r, and the extensions that stop being trackable. */
  const remove = (r: number, i: number, j: number): void => {
    const rec = recordOf(r, i, j)
    const count = --table.count[rec]!
    touch(rec)
    const n = j - i + 1
    if (count >= 2) occurrences[rec]!.delete(at(r, i))
    else if (count === 1) {
      const set = occurrences[rec]!
      set.delete(at(r, i))
      single[rec] = set.values().next().value!
      occurrences[rec] = undefined
    }
    if (count >= 1 && j + 1 < responses[r]!.length) remove(r, i, j + 1)
    if (count === 1) {
      const other = single[rec]!
      const otherR = Math.floor(other / 65_536)
      const otherI = other % 65_536
      if (otherI + n < responses[otherR]!.length) remove(otherR, otherI, otherI + n)
    }
    if (count === 0) {
      queued.delete(rec)
      table.remove(rec)
    }
  }

  const heap = new CandidateHeap()
  /** The entry each repeated record is currently queued with; other entries for it are stale. */
  const queued = new Map<number, HeapEntry>()
  const queue = (rec: number): void => {
    const count = table.count[rec]!
    if (count < 2) {
      queued.delete(rec)
      return
    }
    // The encoding orders occurrences by response, then start: the minimum is the first occurrence.
    let first = Infinity
    for (const v of occurrences[rec]!) if (v < first) first = v
    const r = Math.floor(first / 65_536)
    const i = first % 65_536
    const n = table.n[rec]!
    const current = queued.get(rec)
    if (current !== undefined && current.weight === count * n && current.n === n && current.r === r && current.i === i) return
    const entry = { weight: count * n, n, r, i, record: rec }
    queued.set(rec, entry)
    heap.push(entry)
  }
  const flushChanged = (): void => {
    for (const rec of changed) queue(rec)
    changed.length = 0
    merge++
  }

  initial.forEach((tokens, r) => {
    setResponse(r, tokens.map(intern))
    for (let i = 0; i + 1 < tokens.length; i++) add(r, i, i + 1)
  })
  flushChanged()

  const spans = new Map<string, ReadonlyArray<string>>()
  const retokenized = new Map<string, ReadonlyArray<number>>()
  let created = 0
  for (;;) {
    let chosen: HeapEntry | undefined
    while (heap.size > 0) {
      const top = heap.pop()!
      if (queued.get(top.record) === top) {
        chosen = top
        break
      }
    }
    if (chosen === undefined) break
    const gramIds = table.ids[chosen.record]!
    const token = spanToken(++created)
    const gram = gramIds.map((id) => names[id]!)
    spans.set(token, gram)
    const needle = gram.join(" ")
    const affected = [...new Set([...occurrences[chosen.record]!].map((v) => Math.floor(v / 65_536)))].sort((a, b) => a - b)
    for (const r of affected) {
      const old = responses[r]!
      for (let i = 0; i + 1 < old.length; i++) remove(r, i, i + 1)
      const replaced = old.map((id) => names[id]!).join(" ").replaceAll(needle, token)
      let next = retokenized.get(replaced)
      if (next === undefined) {
        next = tokenize(replaced).map(intern)
        retokenized.set(replaced, next)
      }
      setResponse(r, next)
      for (let i = 0; i + 1 < next.length; i++) add(r, i, i + 1)
    }
    flushChanged()
    onProgress?.(created)
  }
  return { templates: responses.map((seq) => seq.map((id) => names[id]!)), spans }
}
