/**
 * Counts of n-grams keyed by (n, two 26-bit polynomial hashes), in typed arrays: an open-addressing table
 * (linear probing, backward-shift deletion) over records with stable ids, so heap entries and occurrence
 * sets can refer to a record by number. A `Map` with 52-bit number keys boxes every key and was
 * several times slower on the study's corpora.
 */
export class NgramTable {
  count = new Int32Array(1 << 20)
  n = new Int32Array(1 << 20)
  private h1 = new Int32Array(1 << 20)
  private h2 = new Int32Array(1 << 20)
  /** Token ids of records that have repeated (needed when one is chosen as a span). */
  readonly ids: Array<ReadonlyArray<number> | undefined> = []
  private records = 0
  private readonly free: Array<number> = []
  private live = 0
  /** Slots of 4 ints [h1, h2, n, record + 1] so a probe reads one cache line; record + 1 = 0 marks empty. */
  private slots = new Int32Array(4 << 20)
  private mask = (1 << 20) - 1

  private home(h1: number, h2: number, n: number): number {
    return (Math.imul(h1, 0x9e3779b1) ^ Math.imul(h2 + n, 0x85ebca6b)) & this.mask
  }

  /** The record of an n-gram, created with count 0 when absent. */
  record(h1: number, h2: number, n: number): number {
    const slots = this.slots
    let s = this.home(h1, h2, n)
    for (;;) {
      const o = s << 2
      const v = slots[o + 3]!
      if (v === 0) break
      if (slots[o] === h1 && slots[o + 1] === h2 && slots[o + 2] === n) return v - 1
      s = (s + 1) & this.mask
    }
    const r = this.allocate(h1, h2, n)
    this.place(s, r)
    if (++this.live * 2 > this.mask + 1) this.rehash()
    return r
  }

  private place(s: number, r: number): void {
    const o = s << 2
    this.slots[o] = this.h1[r]!
    this.slots[o + 1] = this.h2[r]!
    this.slots[o + 2] = this.n[r]!
    this.slots[o + 3] = r + 1
  }

  /** Drops a record whose count reached 0; its id is reused. */
  remove(r: number): void {
    const slots = this.slots
    let i = this.home(this.h1[r]!, this.h2[r]!, this.n[r]!)
    while (slots[(i << 2) + 3] !== r + 1) i = (i + 1) & this.mask
    slots[(i << 2) + 3] = 0
    let j = i
    for (;;) {
      j = (j + 1) & this.mask
      const q = slots[(j << 2) + 3]! - 1
      if (q === -1) break
      const k = this.home(slots[j << 2]!, slots[(j << 2) + 1]!, slots[(j << 2) + 2]!)
      const movable = j > i ? (k <= i || k > j) : (k <= i && k > j)
      if (movable) {
        slots.copyWithin(i << 2, j << 2, (j << 2) + 4)
        slots[(j << 2) + 3] = 0
        i = j
      }
    }
    this.ids[r] = undefined
    this.free.push(r)
    this.live--
  }

  private allocate(h1: number, h2: number, n: number): number {
    let r = this.free.pop()
    if (r === undefined) {
      r = this.records++
      if (r >= this.count.length) this.growRecords()
    }
    this.h1[r] = h1
    this.h2[r] = h2
    this.n[r] = n
    this.count[r] = 0
    return r
  }

  private growRecords(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2)
      b.set(a)
      return b
    }
    this.count = grow(this.count)
    this.n = grow(this.n)
    this.h1 = grow(this.h1)
    this.h2 = grow(this.h2)
  }

  private rehash(): void {
    const old = this.slots
    this.slots = new Int32Array(old.length * 2)
    this.mask = (this.slots.length >> 2) - 1
    for (let o = 3; o < old.length; o += 4) {
      const v = old[o]!
      if (v === 0) continue
      let s = this.home(old[o - 3]!, old[o - 2]!, old[o - 1]!)
      while (this.slots[(s << 2) + 3] !== 0) s = (s + 1) & this.mask
      this.slots.set(old.subarray(o - 3, o + 1), s << 2)
    }
  }
}
