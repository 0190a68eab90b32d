import type { Key } from "ink"
import { describe, expect, it } from "vitest"
import { formatCell, restrictToRuns, shortParamNames, varyingParams } from "../../src/compare/sweepComparison.ts"
import { sparkline } from "../../src/ui/components/Sparkline.tsx"
import { Command, describeKeys, keyBindings, matches, splitKeys } from "../../src/ui/key/keyBindings.ts"

const noKey: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false,
  capsLock: false, numLock: false
} as Key

describe("key bindings", () => {
  it("matches characters, named keys and ctrl chords", () => {
    expect(matches(Command.Down, "j", noKey)).toBe(true)
    expect(matches(Command.Down, "", { ...noKey, downArrow: true })).toBe(true)
    expect(matches(Command.Down, "k", noKey)).toBe(false)
    expect(matches(Command.Quit, "c", { ...noKey, ctrl: true })).toBe(true)
    expect(matches(Command.Compare, "c", { ...noKey, ctrl: true })).toBe(false)
    expect(matches(Command.Back, "", { ...noKey, escape: true })).toBe(true)
  })

  it("binds every command and describes its keys for the help", () => {
    for (const command of Object.values(Command)) expect(keyBindings[command].length).toBeGreaterThan(0)
    expect(describeKeys(Command.Down)).toBe("↓/j")
    expect(describeKeys(Command.Select)).toBe("space")
  })

  it("splits keys that arrived in one read, but not escape sequences", () => {
    expect(splitKeys("jj", noKey)).toEqual([["j", noKey], ["j", noKey]])
    expect(splitKeys("a\r", noKey)).toEqual([["a", noKey], ["", { ...noKey, return: true }]])
    expect(splitKeys("\u001b[A", noKey)).toEqual([["\u001b[A", noKey]])
    expect(splitKeys("c", { ...noKey, ctrl: true })).toEqual([["c", { ...noKey, ctrl: true }]])
  })
})

describe("sparkline", () => {
  it("maps the range onto eight levels and resamples to the width", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe("▁▂▃▄▅▆▇█")
    expect(sparkline([1, 1, 1], 10)).toBe("▄▄▄")
    expect(sparkline(Array.from({ length: 1000 }, (_, i) => -i), 20)).toHaveLength(20)
    expect(sparkline([], 10)).toBe("")
  })
})

describe("compare helpers", () => {
  it("finds the axes of a sweep and short unambiguous names", () => {
    const params = [
      { runId: "a", key: "stages.preference.params.beta", value: 0.1 }, { runId: "a", key: "seed", value: 0 }, { runId: "a", key: "model.kind", value: "tiny" },
      { runId: "b", key: "stages.preference.params.beta", value: 0.5 }, { runId: "b", key: "seed", value: 1 }, { runId: "b", key: "model.kind", value: "tiny" }
    ]
    expect(varyingParams(params)).toEqual(["stages.preference.params.beta"])
    expect(shortParamNames(["stages.sft.params.lr", "stages.preference.params.lr", "data.limit"])).toEqual({
      "stages.sft.params.lr": "sft.params.lr", "stages.preference.params.lr": "preference.params.lr", "data.limit": "limit"
    })
  })

  it("formats mean ± CI with markers", () => {
    expect(formatCell({ n: 3, mean: 0.41234, ci95: 0.009937, p: 0.004 })).toBe("0.4123±0.0099**")
    expect(formatCell({ n: 1, mean: 0.62, ci95: Number.NaN })).toBe("0.62")
  })

  it("restricts comparison data to chosen runs", () => {
    const data = { runs: [{ id: "a" }, { id: "b" }], params: [{ runId: "a" }, { runId: "b" }], summary: [{ runId: "b" }] }
    expect(restrictToRuns(data as never, ["b"])).toEqual({ runs: [{ id: "b" }], params: [{ runId: "b" }], summary: [{ runId: "b" }] })
    expect(restrictToRuns(data as never, undefined)).toBe(data)
  })
})
