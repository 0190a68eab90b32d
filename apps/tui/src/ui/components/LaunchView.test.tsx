/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { render } from "ink-testing-library"
import { describe, expect, it } from "vitest"
import type { LaunchPreview } from "../../data/Launcher.ts"
import { initialLaunch, type LaunchState } from "../state/launch.ts"
import { LaunchView } from "./LaunchView.tsx"

describe("LaunchView", () => {
  it("lists the spec files with the cursor row", () => {
    const state: LaunchState = { ...initialLaunch, files: ["experiments/a.yaml", "experiments/b.yaml"], cursor: 1 }
    const { lastFrame } = render(<LaunchView state={state} height={20} width={80} />)
    expect(lastFrame()).toContain("experiments/a.yaml")
    expect(lastFrame()).toContain("experiments/b.yaml")
  })

  it("shows each problem under the source line it points at", () => {
    const state: LaunchState = {
      ...initialLaunch,
      phase: { _tag: "Invalid", file: "x.yaml", source: ["name: x", "stages:", "  preference:", "    params:", "      beta: high"], issues: [{ line: 5, column: 13, field: "stages.preference.params.beta", message: "Expected number, actual \"high\"" }] }
    }
    const frame = render(<LaunchView state={state} height={20} width={80} />).lastFrame() ?? ""
    expect(frame).toContain("x.yaml: 1 problem(s)")
    expect(frame).toContain("   5 │       beta: high")
    expect(frame).toContain("5:13 stages.preference.params.beta: Expected number")
  })

  it("previews runs with their cached stages and how to start", () => {
    const preview = {
      plan: { name: "quick" }, stages: 7, cachedStages: 3,
      runs: [{ id: "aaaaaaaaaaaa", label: "beta=0.1 seed=0", stages: 5, cached: 5 }, { id: "bbbbbbbbbbbb", label: "beta=0.5 seed=0", stages: 5, cached: 3 }]
    } as unknown as LaunchPreview
    const frame = render(<LaunchView state={{ ...initialLaunch, phase: { _tag: "Preview", file: "q.yaml", preview } }} height={20} width={80} />).lastFrame() ?? ""
    expect(frame).toContain("quick: 2 runs, 7 stages (3 cached) — y starts the runner")
    expect(frame).toMatch(/beta=0\.5 seed=0\s+bbbbbbbb\s+3\/5 cached/)
  })
})
