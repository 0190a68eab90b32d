import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import { makeGpuSlots } from "../src/GpuSlots.ts"

const hosts = [
  { name: "big", host: "big", gpus: [0, 1, 2, 3], cpuSlots: 1 },
  { name: "small", host: "small", gpus: [4, 7], cpuSlots: 1 }
]

/** Reserves in a scope of its own, so a test can release one reservation while others stay held. */
const hold = (slots: Effect.Effect.Success<ReturnType<typeof makeGpuSlots<string>>>, request: { gpus?: number; host?: string }) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const granted = yield* slots.reserve(request).pipe(Scope.extend(scope))
    return { ...granted, release: Scope.close(scope, Exit.void) }
  })

const waiting = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) => Effect.map(Fiber.poll(fiber), (o) => o._tag === "None")

describe("the SSH GPU-slot scheduler", () => {
  it.live("gives a multi-GPU stage all its GPUs on one host and never part of a request while it waits", () => Effect.gen(function* () {
    const slots = yield* makeGpuSlots(hosts)
    assert.strictEqual(slots.capacity, 6)
    const four = yield* hold(slots, { gpus: 4 })
    assert.deepStrictEqual([four.host, four.gpus], ["big", [0, 1, 2, 3]])
    const one = yield* hold(slots, { gpus: 1 })
    assert.deepStrictEqual([one.host, one.gpus], ["small", [4]])
    // Three GPUs: neither host has them free now; the one free GPU of `small` is not taken meanwhile.
    const three = yield* Effect.fork(hold(slots, { gpus: 3 }))
    yield* Effect.sleep("50 millis")
    assert.isTrue(yield* waiting(three))
    const last = yield* hold(slots, {})
    assert.deepStrictEqual([last.host, last.gpus], ["small", [7]])
    yield* four.release
    const got = yield* Fiber.join(three)
    assert.deepStrictEqual([got.host, got.gpus], ["big", [0, 1, 2]])
  }))

  it.live("fails at once when no host has that many GPUs; prefers the requested host", () => Effect.gen(function* () {
    const slots = yield* makeGpuSlots(hosts)
    const refused = yield* Effect.flip(Effect.scoped(slots.reserve({ gpus: 8 })))
    assert.strictEqual(refused.reason, "a stage asks for 8 GPUs on one host; the largest host has 4")
    const placed = yield* hold(slots, { gpus: 2, host: "small" })
    assert.deepStrictEqual([placed.host, placed.gpus], ["small", [4, 7]])
    // The requested host is full: another one serves.
    const elsewhere = yield* hold(slots, { gpus: 1, host: "small" })
    assert.strictEqual(elsewhere.host, "big")
  }))

  it.live("a CPU host runs `slots` stages at once, one slot each whatever they ask; an interrupted wait takes nothing", () => Effect.gen(function* () {
    const slots = yield* makeGpuSlots([{ name: "cpu", host: "cpu", gpus: [], cpuSlots: 2 }])
    const a = yield* hold(slots, { gpus: 2 })
    const b = yield* hold(slots, {})
    assert.deepStrictEqual([a.gpus, b.gpus], [[], []])
    const third = yield* Effect.fork(hold(slots, {}))
    yield* Effect.sleep("50 millis")
    assert.isTrue(yield* waiting(third))
    yield* Fiber.interrupt(third)
    yield* a.release
    const fourth = yield* hold(slots, {})
    assert.strictEqual(fourth.host, "cpu")
    // Both slots are held again (b and fourth): one more waits.
    const fifth = yield* Effect.fork(hold(slots, {}))
    yield* Effect.sleep("50 millis")
    assert.isTrue(yield* waiting(fifth))
    yield* Fiber.interrupt(fifth)
  }))
})
