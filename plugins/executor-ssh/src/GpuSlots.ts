/**
 * The SSH executor's scheduler: each host offers GPU slots (`gpus: [0, 1]`) or, without GPUs, CPU `slots`. A stage
 * takes all the GPUs it asks for on ONE host (a 4-GPU training needs a host with 4 free), at least one; on a CPU
 * host it takes one slot. Taking is a software transaction (Effect STM): a stage waits until some host has room,
 * trying its preferred host first (a reattached job keeps its place), and never holds part of a request while waiting.
 */
import * as Effect from "effect/Effect"
import * as STM from "effect/STM"
import * as TRef from "effect/TRef"

/** One host as the scheduler sees it. */
export interface SlotHost<H> {
  readonly name: string
  readonly host: H
  /** GPU indices; empty = a CPU host with `cpuSlots` slots. */
  readonly gpus: ReadonlyArray<number>
  readonly cpuSlots: number
}

/** What a stage got: its host and GPU indices (empty on a CPU host). */
export interface Granted<H> {
  readonly host: H
  readonly gpus: ReadonlyArray<number>
}

/** Why a request can never be met (no host has that many GPUs): the caller reports it at once instead of waiting. */
export class Unsatisfiable {
  readonly _tag = "Unsatisfiable"
  constructor(readonly reason: string) {}
}

export const makeGpuSlots = <H>(hosts: ReadonlyArray<SlotHost<H>>) => Effect.gen(function* () {
  const units = yield* Effect.forEach(hosts, (h) => TRef.make<ReadonlyArray<boolean>>(Array.from({ length: h.gpus.length > 0 ? h.gpus.length : h.cpuSlots }, () => false)))
  const need = (h: SlotHost<H>, gpus: number | undefined) => (h.gpus.length > 0 ? Math.max(1, Math.ceil(gpus ?? 1)) : 1)

  // Takes `n` free units of host `i`, or retries (the transaction reruns when a unit is released).
  const takeOn = (i: number, n: number): STM.STM<Granted<H> & { readonly index: number; readonly units: ReadonlyArray<number> }> =>
    STM.flatMap(TRef.get(units[i]!), (busy) => {
      const free = busy.flatMap((b, u) => (b ? [] : [u]))
      if (free.length < n) return STM.retry
      const chosen = free.slice(0, n)
      return TRef.set(units[i]!, busy.map((b, u) => b || chosen.includes(u))).pipe(
        STM.as({ host: hosts[i]!.host, gpus: hosts[i]!.gpus.length > 0 ? chosen.map((u) => hosts[i]!.gpus[u]!) : [], index: i, units: chosen }))
    })

  const release = (index: number, taken: ReadonlyArray<number>) =>
    STM.commit(TRef.update(units[index]!, (busy) => busy.map((b, u) => (taken.includes(u) ? false : b))))

  /** Waits for room (interruptibly) and holds it until the scope closes. */
  const reserve = (request: { readonly gpus?: number | undefined; readonly host?: string | undefined }) => Effect.gen(function* () {
    const order = hosts.map((_, i) => i).sort((a, b) => Number(hosts[b]!.name === request.host) - Number(hosts[a]!.name === request.host))
    const able = order.filter((i) => hosts[i]!.gpus.length === 0 || need(hosts[i]!, request.gpus) <= hosts[i]!.gpus.length)
    if (able.length === 0) {
      const most = Math.max(...hosts.map((h) => h.gpus.length))
      return yield* Effect.fail(new Unsatisfiable(`a stage asks for ${request.gpus} GPUs on one host; the largest host has ${most}`))
    }
    const attempt = able.map((i) => takeOn(i, need(hosts[i]!, request.gpus))).reduce((first, next) => STM.orElse(first, () => next))
    const granted = yield* Effect.acquireRelease(Effect.interruptible(STM.commit(attempt)), (g) => release(g.index, g.units))
    return { host: granted.host, gpus: granted.gpus } satisfies Granted<H>
  })

  /** Stages at once when each takes one unit. */
  const capacity = hosts.reduce((n, h) => n + (h.gpus.length > 0 ? h.gpus.length : h.cpuSlots), 0)
  return { reserve, capacity }
})
