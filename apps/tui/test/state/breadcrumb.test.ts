import { describe, expect, it } from "vitest"
import { initialNavigation, type NavigationState, navigationReducer, type Screen } from "../../src/ui/state/navigation.ts"

const open = (state: NavigationState, screen: Screen) => navigationReducer(state, { _tag: "Open", screen })
const kinds = (state: NavigationState) => state.stack.map((s) => ("experiment" in s ? `${s.kind}:${s.experiment}` : s.kind))

describe("the breadcrumb does not grow on repeated navigation (issue 11 item 9)", () => {
  it("sweep → launch (n) → the launched sweep, twice: back at the sweep, not sweep › launch › sweep › launch › sweep", () => {
    let s = open(initialNavigation, { kind: "sweep", experiment: "e" })
    for (let i = 0; i < 2; i++) {
      s = open(s, { kind: "launch" })
      s = open(s, { kind: "sweep", experiment: "e" })
    }
    expect(kinds(s)).toEqual(["experiments", "sweep:e"])
    expect(kinds(navigationReducer(s, { _tag: "Back" }))).toEqual(["experiments"])
  })

  it("sweep → run → compare → the same run again returns to it; another experiment's sweep is a new place", () => {
    let s = open(initialNavigation, { kind: "sweep", experiment: "e" })
    s = open(s, { kind: "run", experiment: "e", runId: "r1" })
    s = open(s, { kind: "compare", experiment: "e", runIds: undefined })
    s = open(s, { kind: "run", experiment: "e", runId: "r1" })
    expect(kinds(s)).toEqual(["experiments", "sweep:e", "run:e"])
    s = open(s, { kind: "compare", experiment: "e", runIds: ["r1", "r2"] })
    s = open(s, { kind: "compare", experiment: "e", runIds: undefined })
    expect(kinds(s)).toEqual(["experiments", "sweep:e", "run:e", "compare:e"])
    expect(kinds(open(s, { kind: "sweep", experiment: "f" }))).toEqual(["experiments", "sweep:e", "run:e", "compare:e", "sweep:f"])
  })
})
