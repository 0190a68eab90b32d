import { sharedDataDir } from "@empo/core/testing/sharedData"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Launcher } from "../src/data/Launcher.ts"
import { makeTestWorld, type TestWorld } from "./fixtures/testRuntime.ts"

const spec = (beta: string) => [
  "name: launch-test", "seeds: [0, 1]", "data:", `  source: ${path.join(sharedDataDir(), "empathetic_dialogues")}`, "model:", "  kind: tiny", "stages:", "  preference:", "    optimizer: dpo",
  "    params:", `      beta: ${beta}`, "  generate:", "    limit: 4", "  evaluate:", "    metrics: [length]", ""
].join("\n")

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("Launcher", () => {
  let world: TestWorld
  beforeEach(async () => {
    world = await makeTestWorld()
  })
  afterEach(async () => {
    delete process.env["EMPO_SCRIPTED_STEP_MS"]
    await world.dispose()
  })
  const launcher = <A, E>(f: (l: Launcher["Type"]) => Effect.Effect<A, E>) => world.runtime.runPromiseExit(Launcher.pipe(Effect.flatMap(f)))

  it("lists specs, previews a valid one and reports a bad field with its line", async () => {
    fs.writeFileSync(path.join(world.dir, "experiments", "good.yaml"), spec("0.1"))
    fs.writeFileSync(path.join(world.dir, "experiments", "bad.yaml"), spec("high"))
    fs.mkdirSync(path.join(world.dir, "experiments", "_fixtures"))
    fs.writeFileSync(path.join(world.dir, "experiments", "_fixtures", "ignored.yaml"), spec("0.1"))
    const files = await launcher((l) => l.listSpecs())
    expect(Exit.isSuccess(files) && files.value.map((f) => path.basename(f))).toEqual(["bad.yaml", "good.yaml"])

    const preview = await launcher((l) => l.preview(path.join(world.dir, "experiments", "good.yaml")))
    if (!Exit.isSuccess(preview)) throw new Error(String(preview.cause))
    expect(preview.value.runs.map((r) => r.label)).toEqual(["seed=0", "seed=1"])
    expect(preview.value.cachedStages).toBe(0)

    const bad = await launcher((l) => l.preview(path.join(world.dir, "experiments", "bad.yaml")))
    expect(Exit.isFailure(bad) && bad.cause._tag === "Fail" && bad.cause.error).toMatchObject({
      _tag: "SpecError", issues: [{ line: 11, field: "stages.preference.params.beta" }]
    })
  })

  it("starts the runner detached, finds it again, and cancels it with SIGINT (stages end up interrupted)", async () => {
    process.env["EMPO_SCRIPTED_STEP_MS"] = "400"
    const file = path.join(world.dir, "experiments", "good.yaml")
    fs.writeFileSync(file, spec("0.1"))
    const preview = await launcher((l) => l.preview(file))
    if (!Exit.isSuccess(preview)) throw new Error(String(preview.cause))
    const started = await launcher((l) => l.start(preview.value.plan))
    if (!Exit.isSuccess(started)) throw new Error(String(started.cause))
    const { pid, logFile } = started.value
    expect(path.dirname(logFile)).toBe(path.join(world.dir, "launches"))
    expect(isAlive(pid)).toBe(true)

    // Wait until the runner is inside a training stage, as a user would before cancelling.
    const running = async () => world.withStore((store) => store.stagesOf("launch-test"))
    const deadline = Date.now() + 90_000
    while (!(await running()).some((s) => s.kind === "train" && s.status === "running")) {
      if (Date.now() > deadline) throw new Error("the runner never started a training stage")
      await new Promise((r) => setTimeout(r, 200))
    }

    const found = await launcher((l) => l.launchOf("launch-test"))
    expect(Exit.isSuccess(found) && found.value._tag === "Some" && found.value.value.pid).toBe(pid)
    const cancelled = await launcher((l) => l.cancel("launch-test"))
    expect(Exit.isSuccess(cancelled) && cancelled.value).toBe(pid)
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100))

    const stages = await running()
    expect(stages.filter((s) => s.kind === "train").map((s) => s.status)).toContain("interrupted")
    const runs = await world.withStore((store) => store.listRuns({ experiment: "launch-test" }))
    expect(runs.map((r) => r.status)).toEqual(["interrupted", "interrupted"])
    // Nothing left to cancel now.
    const again = await launcher((l) => l.cancel("launch-test"))
    expect(Exit.isFailure(again)).toBe(true)
  }, 180_000)
})
