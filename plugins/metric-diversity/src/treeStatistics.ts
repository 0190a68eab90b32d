/** Statistics the study prints for a folded corpus (`gather_tree_stats.print_stats`, empo-method §5.5). */
export interface TreeStatistics {
  readonly uniqueTemplates: number
  readonly uniqueResponses: number
  /** Nodes of the prefix tree of templates, root included. */
  readonly nodesFolded: number
  /** Nodes of the prefix tree of the plain tokenized responses, root included. */
  readonly nodesUnfolded: number
  /** Distinct tokens starting with `span_` in the recursive span count (can exceed spansCreated, §9.23). */
  readonly spanNodes: number
  readonly spansCreated: number
  readonly foldedRootChildren: number
  readonly uniqueStartingWords: number
  readonly compressionRatio: number
  /** Most frequent spans by recursive count, unfolded to text. */
  readonly topSpans: ReadonlyArray<{ readonly span: string; readonly text: string; readonly count: number }>
}

/** Node count of the prefix tree over `sequences` (the original's `num_nodes`: 1 for a childless root). */
export const prefixTreeNodes = (sequences: ReadonlyArray<ReadonlyArray<string>>): { readonly nodes: number; readonly rootChildren: number } => {
  interface TrieNode {
    readonly children: Map<string, TrieNode>
  }
  const root: TrieNode = { children: new Map() }
  let nodes = 1
  for (const seq of sequences) {
    let cur = root
    for (const token of seq) {
      let next = cur.children.get(token)
      if (next === undefined) {
        next = { children: new Map() }
        cur.children.set(token, next)
        nodes++
      }
      cur = next
    }
  }
  return { nodes, rootChildren: root.children.size }
}

/**
 * Recursive span frequency (`ngrams.span_frequency`): every token of every template is counted, and a span
 * token's own n-gram is counted again, recursively. Returned in first-seen order, as the original's dict.
 */
export const spanFrequency = (
  templates: ReadonlyArray<ReadonlyArray<string>>,
  spans: ReadonlyMap<string, ReadonlyArray<string>>
): Map<string, number> => {
  const freq = new Map<string, number>()
  const visit = (tokens: ReadonlyArray<string>): void => {
    for (const token of tokens) {
      freq.set(token, (freq.get(token) ?? 0) + 1)
      const inner = spans.get(token)
      if (inner !== undefined) visit(inner)
    }
  }
  for (const t of templates) visit(t)
  for (const key of [...freq.keys()]) if (!key.startsWith("span_")) freq.delete(key)
  return freq
}

/** The text a span stands for, with nested spans expanded. */
export const unfoldSpan = (span: string, spans: ReadonlyMap<string, ReadonlyArray<string>>): string =>
  (spans.get(span) ?? [span]).map((t) => (spans.has(t) ? unfoldSpan(t, spans) : t)).join(" ")

export const treeStatistics = (
  responses: ReadonlyArray<string>,
  tokenized: ReadonlyArray<ReadonlyArray<string>>,
  templates: ReadonlyArray<ReadonlyArray<string>>,
  spans: ReadonlyMap<string, ReadonlyArray<string>>,
  topK = 10
): TreeStatistics => {
  const folded = prefixTreeNodes(templates)
  const unfolded = prefixTreeNodes(tokenized)
  const freq = spanFrequency(templates, spans)
  // Stable sort keeps first-seen order among equal counts, like Counter.most_common.
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1]).slice(0, topK)
  return {
    uniqueTemplates: new Set(templates.map((t) => t.join("\u0001"))).size,
    uniqueResponses: new Set(responses).size,
    nodesFolded: folded.nodes,
    nodesUnfolded: unfolded.nodes,
    spanNodes: freq.size,
    spansCreated: spans.size,
    foldedRootChildren: folded.rootChildren,
    uniqueStartingWords: unfolded.rootChildren,
    compressionRatio: folded.nodes / unfolded.nodes,
    topSpans: top.map(([span, count]) => ({ span, count, text: unfoldSpan(span, spans) }))
  }
}
