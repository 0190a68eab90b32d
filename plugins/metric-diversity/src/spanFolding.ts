/**
 * The study's template/span folding (MichiganNLP/empathy_eval `ngrams.py`, empo-method §5.5), computed
 * incrementally: the original recounts every n-gram of every response after each merge (minutes to hours);
 * here n-gram counts are kept in a hash map and only the responses a merge touches are recounted, and the
 * next span is taken from a lazy max-heap. The selection rule, tie-breaks and the string-replace +
 * re-tokenize step are the original's, so the resulting templates are identical.
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
  readonly record: number
  readonly version: number
  readonly at: { readonly r: number; readonly fromEnd: number } | undefined
}

/** Max weight, then shortest n, then unresolved first, then earliest first occurrence (the original's Counter order). */
const before = (a: HeapEntry, b: HeapEntry): boolean => {
  if (a.weight !== b.weight) return a.weight > b.weight
  if (a.n !== b.n) return a.n < b.n
  if (a.at === undefined || b.at === undefined) return a.at === undefined && b.at !== undefined
  if (a.at.r !== b.at.r) return a.at.r < b.at.r
  return a.at.fromEnd > b.at.fromEnd
}

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
  // Records whose count rose during the current merge; each is queued once when the merge is done.
  const risen: Array<number> = []
  let queueing = false
  const heap = new CandidateHeap()
  // bigram hash → responses containing it (with multiplicity), to find the responses holding an n-gram.
  const postings = new Map<number, Map<number, number>>()
  const powers = new PowerTable()
  const responses: Array<Array<number>> = initial.map((tokens) => tokens.map(intern))

  const post = (bigram: number, r: number, delta: number): void => {
    let m = postings.get(bigram)
    if (m === undefined) {
      m = new Map()
      postings.set(bigram, m)
    }
    const v = (m.get(r) ?? 0) + delta
    if (v === 0) m.delete(r)
    else m.set(r, v)
  }
  /** Adds (delta = 1) or removes (−1) the n-grams [i..j] of `seq` with i < startBound and j ≥ endBound. */
  const account = (r: number, seq: ReadonlyArray<number>, delta: number, startBound: number, endBound: number): void => {
    const L = seq.length
    powers.ensure(L)
    const h1 = new Array<number>(L + 1)
    const h2 = new Array<number>(L + 1)
    h1[0] = 0
    h2[0] = 0
    for (let k = 0; k < L; k++) {
      h1[k + 1] = (h1[k]! * B1 + seq[k]! + 1) % P1
      h2[k + 1] = (h2[k]! * B2 + seq[k]! + 1) % P2
    }
    for (let i = 0; i < Math.min(startBound, L - 1); i++) {
      for (let j = Math.max(i + 1, endBound); j < L; j++) {
        const n = j - i + 1
        const a = mod(h1[j + 1]! - h1[i]! * powers.p1[n]!, P1)
        const b = mod(h2[j + 1]! - h2[i]! * powers.p2[n]!, P2)
        const rec = table.record(a, b, n)
        const count = (table.count[rec]! += delta)
        table.version[rec]!++
        if (count >= 2) {
          table.ids[rec] ??= seq.slice(i, j + 1)
          // A decrement leaves the old, heavier entry queued; it is re-queued at its true weight when popped.
          if (queueing && delta > 0) risen.push(rec)
        } else if (count === 0) table.remove(rec)
        if (n === 2) post(a * 67_108_864 + b, r, delta)
      }
    }
  }
  responses.forEach((seq, r) => account(r, seq, 1, seq.length, 0))
  table.forEachRepeated((rec) => heap.push({ weight: table.count[rec]! * table.n[rec]!, n: table.n[rec]!, record: rec, version: table.version[rec]!, at: undefined }))
  queueing = true

  const bigramKey = (a: number, b: number): number =>
    ((a + 1) * B1 + b + 1) % P1 * 67_108_864 + ((a + 1) * B2 + b + 1) % P2
  const holdersOf = (gram: ReadonlyArray<number>): Array<number> =>
    [...(postings.get(bigramKey(gram[0]!, gram[1]!))?.keys() ?? [])]
      .filter((r) => findNgram(responses[r]!, gram) !== -1)
      .sort((a, b) => a - b)

  const locate = (gram: ReadonlyArray<number>): { r: number; fromEnd: number } => {
    const r = holdersOf(gram)[0]!
    return { r, fromEnd: responses[r]!.length - findNgram(responses[r]!, gram) }
  }

  const spans = new Map<string, ReadonlyArray<string>>()
  const retokenized = new Map<string, ReadonlyArray<number>>()
  let created = 0
  for (;;) {
    let chosenEntry: HeapEntry | undefined
    while (heap.size > 0) {
      const top = heap.pop()!
      if (top.version !== table.version[top.record]) {
        // Stale: the count fell since. Re-queue once per version at the true weight.
        const rec = top.record
        if (table.count[rec]! >= 2 && table.requeued[rec] !== table.version[rec]) {
          table.requeued[rec] = table.version[rec]!
          heap.push({ weight: table.count[rec]! * table.n[rec]!, n: table.n[rec]!, record: rec, version: table.version[rec]!, at: undefined })
        }
        continue
      }
      const at = locate(table.ids[top.record]!)
      if (top.at === undefined || at.r !== top.at.r || at.fromEnd !== top.at.fromEnd) {
        heap.push({ ...top, at })
        continue
      }
      chosenEntry = top
      break
    }
    if (chosenEntry === undefined) break
    const chosenIds = table.ids[chosenEntry.record]!
    const token = spanToken(++created)
    const gram = chosenIds.map((id) => names[id]!)
    spans.set(token, gram)
    const needle = gram.join(" ")
    for (const r of holdersOf(chosenIds)) {
      const old = responses[r]!
      const replaced = old.map((id) => names[id]!).join(" ").replaceAll(needle, token)
      let next = retokenized.get(replaced)
      if (next === undefined) {
        next = tokenize(replaced).map(intern)
        retokenized.set(replaced, next)
      }
      // Only n-grams overlapping the changed middle differ; the shared prefix and suffix are left alone.
      let prefix = 0
      while (prefix < old.length && prefix < next.length && old[prefix] === next[prefix]) prefix++
      let suffix = 0
      while (suffix < old.length - prefix && suffix < next.length - prefix && old[old.length - 1 - suffix] === next[next.length - 1 - suffix]) suffix++
      if (next.length <= old.length) {
        account(r, old, -1, old.length - suffix, prefix)
        account(r, next, 1, next.length - suffix, prefix)
      } else {
        // A response that grew would leave queued positions too small; recount it whole (rare).
        account(r, old, -1, old.length, 0)
        account(r, next, 1, next.length, 0)
      }
      responses[r] = [...next]
    }
    for (const rec of risen) {
      if (table.count[rec]! >= 2 && table.requeued[rec] !== table.version[rec]) {
        table.requeued[rec] = table.version[rec]!
        heap.push({ weight: table.count[rec]! * table.n[rec]!, n: table.n[rec]!, record: rec, version: table.version[rec]!, at: undefined })
      }
    }
    risen.length = 0
    onProgress?.(created)
  }
  return { templates: responses.map((seq) => seq.map((id) => names[id]!)), spans }
}

const findNgram = (seq: ReadonlyArray<number>, gram: ReadonlyArray<number>): number => {
  outer: for (let i = 0; i + gram.length <= seq.length; i++) {
    for (let k = 0; k < gram.length; k++) if (seq[i + k] !== gram[k]) continue outer
    return i
  }
  return -1
}
