// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { HumanStore, planStudy, studyStatements } from "@empo/human"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { storeLayer } from "./fixtures/seedStore.ts"
import { eachTestWorld, renderApp } from "./fixtures/appWorld.tsx"
import { type TestWorld, waitFor } from "./fixtures/testRuntime.ts"

/** A 3-item, 2-condition study with one rater half-way, written by another connection (as `empo human serve` would). */
const seedStudy = (world: TestWorld) => {
  const line = (k: number, response: string) => JSON.stringify({ id: String(k), prompt: [{ role: "user", content: `c${k}` }], response, target: "g", prev: `c${k}`, emotion: "proud" })
  for (const name of ["a", "b"]) fs.writeFileSync(path.join(world.dir, `${name}.jsonl`), [0, 1, 2].map((k) => line(k, `${name}${k}`)).join("\n"))
  return Effect.runPromise(Effect.gen(function* () {
    const human = yield* HumanStore
    yield* human.createStudy(yield* planStudy({
      id: "pilot-study", title: "Pilot ratings", statements: studyStatements, ratersPerItem: 2, itemsPerRater: 3, attentionChecks: 0,
      conditions: [{ name: "a", kind: "file", file: path.join(world.dir, "a.jsonl") }, { name: "b", kind: "file", file: path.join(world.dir, "b.jsonl") }],
      plan: { perEmotion: 3, items: 3, extraEmotions: [], seed: 1 }
    }))
    const rater = yield* human.claimBundle(yield* human.enter("pilot-study", { externalId: "r1", prolificStudy: null, prolificSession: null, token: null }))
    for (let k = 0; k < 2; k++) {
      const item = Option.getOrThrow(yield* human.currentItem(rater))
      yield* human.submit(rater, { assignment: `${item.bundle}.${item.position}`, values: { Dim1: 1, Dim2: 2, Dim3: 3, Dim4: 4, Dim5: 0 } })
    }
  }).pipe(Effect.provide(HumanStore.layerNoDeps.pipe(Layer.provideMerge(storeLayer(world.dbPath)), Layer.provideMerge(NodeContext.layer)))))
}

describe("Studies screen", () => {
  const world = eachTestWorld()

  it("H lists the store's human studies with their progress, updating as ratings arrive", async () => {
    const { frame, stdin, unmount } = renderApp(world())
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    expect(frame()).toContain("H studies")
    stdin.write("H")
    await waitFor(frame, (f) => f.includes("no human studies yet"))
    await seedStudy(world())
    // 3 items × 2 conditions × 2 ratings = 12 planned in 4 bundles; 2 rated, nobody finished.
    const listed = await waitFor(frame, (f) => f.includes("pilot-study"))
    expect(listed).toMatch(/pilot-study\s+2\/12\s+[█░]+\s+16%\s+0\/4\s+Pilot ratings/)
    expect(listed).toContain("studies")
    stdin.write("\u001B")
    await waitFor(frame, (f) => f.includes("dpo-beta"))
    unmount()
  }, 60_000)
})
