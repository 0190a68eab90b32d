/**
 * Edit distance with insertions, deletions, substitutions and swaps of two neighbours each costing 1 (optimal
 * string alignment), case-insensitive: `vaild` is one edit from `valid`.
 */
export const editDistance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  const d: Array<Array<number>> = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const row = d[i]!
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[x.length]![y.length]!
}

/**
 * The known name closest to a misspelt one, when it is close enough to be a typo: at most a third of the
 * longer name's characters differ (at least one), so `maxStep` finds `maxSteps` but `foo` finds nothing.
 */
export const closestName = (name: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const d = editDistance(name, candidate)
    if (d < bestDistance && d <= Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3))) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}
