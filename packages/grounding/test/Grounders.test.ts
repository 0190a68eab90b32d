import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it, layer } from "@effect/vitest"
import { ED_EMOTIONS, InputError } from "@empo/core"
import { sharedData, sharedDataDir } from "@empo/core/testing/sharedData"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Grounders, PLUTCHIK_1, PLUTCHIK_ORIGINAL } from "../src/index.ts"

const lexicon = sharedData("lexicons", "NRC-VAD-Lexicon.txt")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "empo-grounders-"))
const writeTmp = (name: string, text: string) => {
  const p = path.join(tmp, name)
  fs.writeFileSync(p, text)
  return p
}

describe("the study's maps", () => {
  it("plutchik-1 has the 32 labels in the study's order and its 4 asymmetries", () => {
    expect(Object.keys(PLUTCHIK_1)).toEqual([...ED_EMOTIONS])
    const asymmetric = ED_EMOTIONS.filter((e) => PLUTCHIK_1[PLUTCHIK_1[e]] !== e)
    expect(asymmetric).toEqual(["sentimental", "grateful", "prepared", "guilty"])
    const targets = new Set(Object.values(PLUTCHIK_1))
    expect(ED_EMOTIONS.filter((e) => !targets.has(e))).toEqual(["sentimental", "grateful", "prepared", "guilty"])
  })
  it("plutchik-original has only the 9 wheel entries", () => {
    expect(Object.keys(PLUTCHIK_ORIGINAL).length).toBe(9)
    expect(Grounders.plutchikOriginal.opposites("proud")).toEqual([])
    expect(Grounders.plutchikOriginal.opposites("joyful")).toEqual(["sad"])
  })
  it("random = every other label; same-emotion = itself", () => {
    expect(Grounders.randomOther.opposites("sad").length).toBe(31)
    expect(Grounders.randomOther.opposites("sad")).not.toContain("sad")
    expect(Grounders.sameEmotion.opposites("sad")).toEqual(["sad"])
  })
})

layer(NodeContext.layer)("grounders from files", (it) => {
  it.effect("vad-distance picks, for each label, the farthest other label in NRC-VAD space", () =>
    Effect.gen(function*() {
      const g = yield* Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "vad-distance", lexicon }))
      const points = Grounders.parseVadLexicon(fs.readFileSync(lexicon, "utf8"), lexicon)
      if (points instanceof InputError) throw points
      expect(points.anticipating.term).toBe("anticipation")
      expect(points.joyful.term).toBe("joyful")
      expect(points.joyful.vad).toEqual([0.99, 0.74, 0.667]) // the file's line "joyful\t0.990\t0.740\t0.667"
      const dist = (a: (typeof ED_EMOTIONS)[number], b: (typeof ED_EMOTIONS)[number]) => Math.hypot(...points[a].vad.map((x, i) => x - points[b].vad[i]!))
      for (const e of ED_EMOTIONS) {
        const [o] = g.opposites(e)
        expect(o).toBeDefined()
        expect(o).not.toBe(e)
        for (const other of ED_EMOTIONS) if (other !== e) expect(dist(e, o!)).toBeGreaterThanOrEqual(dist(e, other))
      }
      // A positive, high-dominance label lands on a negative, low-valence one.
      expect(["devastated", "ashamed", "terrified", "lonely", "sad", "disgusted", "guilty", "afraid", "embarrassed", "anxious", "apprehensive"]).toContain(g.opposites("proud")[0])
    }))

  it.effect("a user YAML map is read, with lists and the `opposites:` wrapper", () =>
    Effect.gen(function*() {
      const file = writeTmp("ok.yaml", "opposites:\n  joyful: sad\n  proud: [ashamed, guilty]\n")
      const g = yield* Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "user-map", grounderMap: file }))
      expect(g.opposites("joyful")).toEqual(["sad"])
      expect(g.opposites("proud")).toEqual(["ashamed", "guilty"])
      expect(g.opposites("sad")).toEqual([])
    }))

  it.effect("a bad user map names file, line and the bad key or label", () =>
    Effect.gen(function*() {
      const badLabel = writeTmp("bad-label.yaml", "joyful: sad\nproud:\n  - ashamed\n  - gloomy\n")
      const e1 = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "user-map", grounderMap: badLabel })))
      expect(e1).toBeInstanceOf(InputError)
      expect(e1.message).toBe(`${badLabel}:4: unknown opposite label "gloomy" for proud (expected one of the 32 ED labels) (field \`proud\`)`)
      const badKey = writeTmp("bad-key.yaml", "joyful: sad\nhappy: sad\n")
      const e2 = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "user-map", grounderMap: badKey })))
      expect(e2.message).toContain(`${badKey}:2: unknown emotion label "happy" as a key`)
      const broken = writeTmp("broken.yaml", "joyful: [sad\n")
      const e3 = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "user-map", grounderMap: broken })))
      expect(e3.message).toMatch(/broken\.yaml:\d+: invalid YAML/)
    }))

  it.effect("vad-distance without a lexicon reads the data folder's NRC-VAD copy, and says where it looked", () =>
    Effect.gen(function*() {
      const explicit = yield* Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "vad-distance", lexicon }))
      const withDataDir = ConfigProvider.fromMap(new Map([["EMPO_DATA_DIR", sharedDataDir()], ["EMPO_CACHE", tmp]]))
      const fromFolder = yield* Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "vad-distance" })).pipe(Effect.withConfigProvider(withDataDir))
      for (const e of ED_EMOTIONS) expect(fromFolder.opposites(e)).toEqual(explicit.opposites(e))
      const nowhere = ConfigProvider.fromMap(new Map([["EMPO_CACHE", tmp], ["HOME", tmp]]))
      const missing = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "vad-distance" })).pipe(Effect.withConfigProvider(nowhere)))
      expect(missing).toBeInstanceOf(InputError)
      expect(missing.message).toContain(path.join(tmp, "lexicons", "NRC-VAD-Lexicon.txt"))
      expect(missing.message).toContain("data.lexicon")
    }))

  it.effect("unknown ids list the known ones; missing files are input errors", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "wheel-2" })))
      expect(e.message).toContain("unknown grounder \"wheel-2\"; known grounders: plutchik-1, plutchik-original, user-map, vad-distance, random, same-emotion")
      const missing = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "vad-distance", lexicon: path.join(tmp, "nope.txt") })))
      expect(missing).toBeInstanceOf(InputError)
      expect(missing.message).toContain("nope.txt: file not found")
      const noMap = yield* Effect.flip(Grounders.makeGrounder(Grounders.GrounderOptions.make({ grounder: "user-map" })))
      expect(noMap.message).toContain("needs --grounder-map")
    }))
})
