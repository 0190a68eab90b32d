import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import { repoRoot, sharedData } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { analyze, holm, krippendorffIntervalAlpha, pairedTTestGreater } from "../src/Analysis.ts"
import { parseRatingsCsv } from "../src/RatingsCsv.ts"

const heData = sharedData("human_eval", "he_data.csv")
const dims = ["Dim1", "Dim2", "Dim3", "Dim4", "Dim5"]

interface Reference {
  readonly conditions: Record<string, Record<string, { mean: number; sd: number; n: number }>>
  readonly pairs: ReadonlyArray<{ dim: string; a: string; b: string; t: number; p: number; d: number }>
  readonly alpha: Record<string, number>
}
// pandas + scipy, the study's notebook's tools, computing the same numbers independently.
const reference = (): Reference => JSON.parse(execFileSync(path.join(repoRoot(), ".venv/bin/python"), [path.join(import.meta.dirname, "he_reference.py"), heData], { encoding: "utf8" }))

describe("human analyze on the study's he_data.csv", () => {
  it.effect("reproduces the per-condition means, the paired tests, d and alpha", () =>
    Effect.gen(function* () {
      const table = yield* parseRatingsCsv(heData, fs.readFileSync(heData, "utf8"))
      assert.deepStrictEqual(table.dims, dims)
      assert.strictEqual(table.ratings.length, 2025)
      const result = analyze(table.ratings, { dims, tested: dims.slice(0, 4) })
      // The study's figures (empo-method §5.8 / the notebook): two anchors, then everything against pandas/scipy.
      assert.strictEqual(result.conditions["zephyr_base"]!["Dim1"]!.mean.toFixed(2), "80.38")
      assert.strictEqual(result.conditions["human_targets"]!["Dim2"]!.mean.toFixed(2), "60.27")
      const ref = reference()
      assert.deepStrictEqual(Object.keys(result.conditions).sort(), Object.keys(ref.conditions).sort())
      for (const [c, byDim] of Object.entries(ref.conditions)) {
        for (const [dim, s] of Object.entries(byDim)) {
          const got = result.conditions[c]![dim]!
          assert.closeTo(got.mean, s.mean, 1e-9, `${c} ${dim} mean`)
          assert.closeTo(got.sd, s.sd, 1e-9, `${c} ${dim} sd`)
          assert.strictEqual(got.n, s.n)
        }
      }
      assert.strictEqual(result.pairs.length, ref.pairs.length)
      for (const r of ref.pairs) {
        const got = result.pairs.find((p) => p.dim === r.dim && p.a === r.a && p.b === r.b)!
        assert.closeTo(got.t, r.t, 1e-9, `${r.dim} ${r.a}>${r.b} t`)
        assert.closeTo(got.p, r.p, 1e-9, `${r.dim} ${r.a}>${r.b} p`)
        assert.closeTo(got.d, r.d, 1e-9, `${r.dim} ${r.a}>${r.b} d`)
      }
      const significant = (ps: ReadonlyArray<{ dim: string; a: string; b: string; p: number }>) =>
        ps.filter((p) => p.p < 0.05).map((p) => `${p.dim} ${p.a}>${p.b}`).sort()
      assert.deepStrictEqual(result.pairs.filter((p) => p.significant).map((p) => `${p.dim} ${p.a}>${p.b}`).sort(), significant(ref.pairs))
      assert.isAbove(significant(ref.pairs).length, 5)
      for (const dim of dims) assert.closeTo(result.alpha[dim]!, ref.alpha[dim]!, 1e-9, `alpha ${dim}`)
      for (const dim of dims) assert.isTrue(Math.abs(result.length_r[dim]!) < 1)
    }).pipe(Effect.provide(NodeContext.layer)), 120_000)

  it("Holm adjusts step-down and keeps order", () => {
    assert.deepStrictEqual(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
  })

  it("one-sided paired t and interval alpha on hand-checked data", () => {
    const { t, p } = pairedTTestGreater([3, 4, 5, 6], [1, 3, 3, 5])
    assert.closeTo(t, 1.5 / (Math.sqrt(1 / 3) / 2), 1e-12)
    assert.isBelow(p, 0.05)
    assert.strictEqual(krippendorffIntervalAlpha([[1, 1], [5, 5], [9, 9]]), 1)
    assert.isBelow(krippendorffIntervalAlpha([[1, 9], [9, 1], [5, 5]]), 0)
  })

  it.effect("a bad cell is refused with its line and column", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(parseRatingsCsv("bad.csv", "model,ED_index,annotator,Dim1\nA,1,1,50\nB,1,2,lots\n"))
      assert.strictEqual(error.message, "bad.csv:3: not a number: \"lots\" (field `Dim1`)")
    }))
})
