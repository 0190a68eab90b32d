import { assert, describe, it } from "@effect/vitest"
import {
  bootstrapMeanCi,
  cohensD,
  cohensDz,
  mean,
  pairedBootstrapDeltaCi,
  pairedPermutationTest,
  pairedTTest,
  quantile,
  standardDeviation,
  welchTTest
} from "../src/Statistics.ts"

// Expected values: textbook formulas evaluated independently in Python (t tail by numerical integration of
// the t density; scipy is not installed in .venv), and the t-table value t(0.975, 10) = 2.228138852.
const a = [1, 2, 3, 4, 5]
const b = [2, 4, 6, 8, 10]

describe("t-tests and effect sizes", () => {
  it("Welch's t-test", () => {
    const r = welchTTest(a, b)
    assert.closeTo(r.t, -1.8973665961010275, 1e-12)
    assert.closeTo(r.df, 5.882352941176471, 1e-12)
    assert.closeTo(r.p, 0.10753119493072061, 1e-8)
  })

  it("paired t-test and d_z", () => {
    const after = [0.5, 2.5, 1.0, 2.0, 3.0]
    const r = pairedTTest(a, after)
    assert.closeTo(r.t, 2.331086069657434, 1e-12)
    assert.strictEqual(r.df, 4)
    assert.closeTo(r.p, 0.08015667421024164, 1e-8)
    assert.closeTo(cohensDz(a, after), 1.0424933826313663, 1e-12)
  })

  it("p-value at the t-table critical value is 0.05", () => {
    // Two samples of 6 with a known t: use the paired test on differences scaled to t = 2.228138852 (df 10 needs n = 11).
    const d = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((x) => x - 6)
    const shift = (2.228138852 * standardDeviation(d)) / Math.sqrt(d.length)
    const r = pairedTTest(d.map((x) => x + shift), d.map(() => 0))
    assert.closeTo(r.t, 2.228138852, 1e-9)
    assert.closeTo(r.p, 0.05, 1e-8)
  })

  it("Cohen's d with the pooled SD", () => {
    assert.closeTo(cohensD(a, b), -1.2, 1e-12)
  })

  it("quantile interpolates like NumPy", () => {
    assert.strictEqual(quantile([1, 2, 3, 4], 0.5), 2.5)
    assert.strictEqual(quantile([1, 2, 3, 4], 0), 1)
    assert.closeTo(quantile([10, 20, 30], 0.25), 15, 1e-12)
  })
})

describe("resampling", () => {
  const xs = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3 + 1)
  it("bootstrap CI is seeded, contains the mean and narrows with more data", () => {
    const ci = bootstrapMeanCi(xs, { seed: 7 })
    assert.deepStrictEqual(bootstrapMeanCi(xs, { seed: 7 }), ci)
    assert.notDeepEqual(bootstrapMeanCi(xs, { seed: 8 }), ci)
    assert.isBelow(ci.low, mean(xs))
    assert.isAbove(ci.high, mean(xs))
    const wide = bootstrapMeanCi(xs.slice(0, 20), { seed: 7 })
    assert.isAbove(wide.high - wide.low, ci.high - ci.low)
    // Normal approximation: half-width ≈ 1.96 · SD / √n.
    assert.closeTo((ci.high - ci.low) / 2, 1.96 * standardDeviation(xs) / Math.sqrt(xs.length), 0.05)
  })

  it("paired permutation test: seeded, never 0, small for a real shift, large for none", () => {
    const shifted = xs.map((x) => x + 0.5)
    const r = pairedPermutationTest(shifted, xs, { seed: 1, permutations: 2000 })
    assert.deepStrictEqual(pairedPermutationTest(shifted, xs, { seed: 1, permutations: 2000 }), r)
    assert.strictEqual(r.p, 1 / 2001)
    const noise = xs.map((x, i) => x + (i % 2 === 0 ? 0.01 : -0.01))
    assert.isAbove(pairedPermutationTest(noise, xs, { seed: 1, permutations: 2000 }).p, 0.5)
    const ci = pairedBootstrapDeltaCi(shifted, xs, { seed: 3 })
    assert.closeTo(ci.estimate, 0.5, 1e-12)
  })
})
