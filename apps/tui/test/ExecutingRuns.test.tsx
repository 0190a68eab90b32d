// Explicit JSX runtime: tsx may compile this file outside the repo tsconfig (`empo tui` started from any folder).
/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { RunId } from "@empo/store"
import { describe, expect, it } from "vitest"
import { assembleSweepRows } from "../src/data/TuiStore.ts"
import { eachTestWorld, renderApp } from "./fixtures/appWorld.tsx"
import { waitFor } from "./fixtures/testRuntime.ts"

const run = (id: string) => ({ id: id as RunId, label: id, seed: 0, position: 0, status: "running" as const })
const stage = (runId: string, leaseExpiresAt: number | null, status: "running" | "pending" = "running") =>
  ({ runId: runId as RunId, name: "preference", status, error: null, leaseExpiresAt })

describe("only runs that are executing show `running` (issue 11 item 9)", () => {
  it("a running run whose stages hold no live lease is queued", () => {
    const now = 1_000_000
    const rows = assembleSweepRows(
      [run("live"), run("expired"), run("waiting")], [],
      [stage("live", now + 5_000), stage("expired", now - 1), stage("waiting", null, "pending")], [], now)
    expect(rows.map((r) => [r.id, r.status])).toEqual([["live", "running"], ["expired", "queued"], ["waiting", "queued"]])
  })

  describe("on a real store", () => {
    const world = eachTestWorld()

    it("the experiments and sweep screens count and show a started-but-waiting run as pending / queued", async () => {
      // As the runner does at start: every run of the sweep is marked running, though one has no stage executing.
      await world().withStore((store) => store.setRunStatus(world().seeded.failedRun, "running"))
      const { frame, stdin, unmount } = renderApp(world())
      // total, completed, running, failed, interrupted, pending: the waiting run counts as pending
      const experiments = await waitFor(frame, (f) => f.includes("dpo-beta"))
      expect(experiments).toMatch(/dpo-beta\s+6\s+4\s+1\s+0\s+0\s+1/)
      stdin.write("\r")
      const sweep = await waitFor(frame, (f) => f.includes("6/6 runs"))
      expect(sweep.match(/\brunning\b/g)?.length).toBe(1)
      expect(sweep).toMatch(/0\.5\s+1\s+queued/)
      unmount()
    })
  })
})
