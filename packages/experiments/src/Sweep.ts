import { canonicalJson, getPath } from "./internal/canonical.ts"
import type { Distribution, SweepSpec } from "./ExperimentSpec.ts"

/** The values one run takes on the swept axes, by dotted path, in axis order. */
export type Assignment = ReadonlyArray<readonly [path: string, value: unknown]>

/** A sweep axis that cannot be expanded; `axis` is the YAML path of the offending block. */
export interface SweepProblem {
  readonly axis: ReadonlyArray<string>
  readonly message: string
}

// mulberry32: tiny, seedable and identical on every platform, so `random` sweeps are reproducible.
const mulberry32 = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sample = (d: Distribution, next: () => number): unknown => {
  if ("uniform" in d) return d.uniform[0] + (d.uniform[1] - d.uniform[0]) * next()
  if ("logUniform" in d) return Math.exp(Math.log(d.logUniform[0]) + (Math.log(d.logUniform[1]) - Math.log(d.logUniform[0])) * next())
  if ("intUniform" in d) return d.intUniform[0] + Math.floor((d.intUniform[1] - d.intUniform[0] + 1) * next())
  return d.choice[Math.floor(d.choice.length * next())]
}

const checkDistribution = (path: string, d: Distribution): string | undefined => {
  const range = "uniform" in d ? d.uniform : "logUniform" in d ? d.logUniform : "intUniform" in d ? d.intUniform : undefined
  return range !== undefined && range[0] > range[1] ? `range of ${path} is empty: ${range[0]} > ${range[1]}` : undefined
}

const product = (blocks: ReadonlyArray<ReadonlyArray<Assignment>>): Array<Assignment> =>
  blocks.reduce<Array<Assignment>>((acc, block) => acc.flatMap((left) => block.map((right) => [...left, ...right])), [[]])

/** Expands a sweep into assignments (grid × zip × random), or the problems that prevent it. Pure. */
export const expandSweep = (sweep: SweepSpec | undefined): { readonly assignments: Array<Assignment> } | { readonly problems: Array<SweepProblem> } => {
  if (sweep === undefined) return { assignments: [[]] }
  const problems: Array<SweepProblem> = []
  const gridAxes = Object.entries(sweep.grid)
  const zipAxes = Object.entries(sweep.zip)
  const randomAxes = Object.entries(sweep.random?.params ?? {})
  const seen = new Map<string, string>()
  for (const [block, axes] of [["grid", gridAxes], ["zip", zipAxes], ["random", randomAxes]] as const) {
    for (const [path] of axes) {
      const root = path.split(".")[0]!
      if (["name", "description", "seeds", "sweep"].includes(root)) {
        problems.push({ axis: ["sweep", block, path], message: `\`${root}\` cannot be swept${root === "seeds" ? " (list the seeds under `seeds:`)" : ""}` })
      }
      const other = seen.get(path)
      if (other !== undefined) problems.push({ axis: ["sweep", block, path], message: `axis ${path} is also swept in ${other}` })
      seen.set(path, block)
    }
  }
  const lengths = new Set(zipAxes.map(([, values]) => values.length))
  if (lengths.size > 1) {
    problems.push({ axis: ["sweep", "zip"], message: `zip lists must have the same length, found ${zipAxes.map(([p, v]) => `${p}: ${v.length}`).join(", ")}` })
  }
  for (const [path, d] of randomAxes) {
    const problem = checkDistribution(path, d)
    if (problem !== undefined) problems.push({ axis: ["sweep", "random", "params", path], message: problem })
  }
  if (problems.length > 0) return { problems }

  const grid = gridAxes.map(([path, values]) => values.map((v): Assignment => [[path, v]]))
  const zipLength = zipAxes[0]?.[1].length ?? 0
  const zip: Array<Assignment> = zipAxes.length === 0 ? [[]] : Array.from({ length: zipLength }, (_, i) => zipAxes.map(([path, values]) => [path, values[i]] as const))
  const random: Array<Assignment> = sweep.random === undefined
    ? [[]]
    : (() => {
      const next = mulberry32(sweep.random.seed)
      return Array.from({ length: sweep.random.n }, () => randomAxes.map(([path, d]) => [path, sample(d, next)] as const))
    })()
  return { assignments: product([...grid, zip, random]) }
}

/** True when a resolved config matches every key of an `exclude` rule. */
export const isExcluded = (config: unknown, rules: ReadonlyArray<Readonly<Record<string, unknown>>>): boolean =>
  rules.some((rule) => Object.entries(rule).every(([path, value]) => canonicalJson(getPath(config, path.split("."))) === canonicalJson(value)))
