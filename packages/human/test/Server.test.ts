import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { FastifyInstance } from "fastify"
import * as fs from "node:fs"
import * as path from "node:path"
import { planStudy } from "../src/Batch.ts"
import { HumanStore } from "../src/HumanStore.ts"
import { makeServer } from "../src/Server.ts"
import { studyStatements } from "../src/Statements.ts"
import { makeStudy, storeRuntime } from "./support.ts"

const adminToken = "t0ken-for-tests"

const form = (payload: Record<string, string | number>) =>
  new URLSearchParams(Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)])).toString()

/** One rater's browser: the cookie jar of `fastify.inject` calls. */
const browser = (app: FastifyInstance) => {
  let cookie = ""
  const call = async (method: "GET" | "POST", url: string, payload?: Record<string, string | number>) => {
    const res = await app.inject({
      method, url, headers: { cookie, ...(payload === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" }) },
      ...(payload === undefined ? {} : { payload: form(payload) })
    })
    const set = res.headers["set-cookie"]
    if (typeof set === "string") cookie = set.split(";")[0]!
    return res
  }
  return { call, get cookie() { return cookie }, set cookie(c: string) { cookie = c } }
}

const assignmentOf = (body: string) => /name="assignment" value="([\d.]+)"/.exec(body)?.[1]
const rating = (assignment: string, k = 0) => ({ assignment, Dim1: 10 + k, Dim2: 20 + k, Dim3: 30 + k, Dim4: 40 + k, Dim5: "1" })

const enter = async (b: ReturnType<typeof browser>, query: string) => {
  const res = await b.call("GET", `/?${query}`)
  assert.strictEqual(res.statusCode, 303, res.body)
  await b.call("GET", "/intro")
  await b.call("GET", "/example")
  const start = await b.call("POST", "/start")
  assert.strictEqual(start.statusCode, 303)
  return res
}

describe("human serve (fastify inject against a real SQLite store)", () => {
  it("a Prolific rater goes through intro, example and every item to the completion code; ratings are stored as given", async () => {
    const { runtime, id } = await makeStudy()
    const app = await makeServer(runtime, { studyId: id, adminToken })
    const b = browser(app)
    const first = await b.call("GET", "/?PROLIFIC_PID=5f1e2d3c4b5a&STUDY_ID=study9&SESSION_ID=sess1")
    assert.strictEqual(first.headers.location, "intro")
    assert.match(String(first.headers["set-cookie"]), /HttpOnly/)
    assert.match((await b.call("GET", "/intro")).body, /I agree, continue/)
    assert.match((await b.call("GET", "/example")).body, /A solved example/)
    await b.call("POST", "/start")
    const given: Array<string> = []
    for (let k = 0; k < 5; k++) {
      const page = await b.call("GET", "/item")
      assert.strictEqual(page.statusCode, 200)
      assert.include(page.body, `Item ${k + 1} of 5`)
      assert.notInclude(page.body, "zephyr_")
      const assignment = assignmentOf(page.body)!
      given.push(assignment)
      const res = await b.call("POST", "/item", rating(assignment, k))
      assert.strictEqual(res.statusCode, 303, res.body)
      assert.strictEqual(res.headers.location, k === 4 ? "done" : "item")
    }
    const done = await b.call("GET", "/done")
    assert.include(done.body, "C0DE42")
    assert.include(done.body, "https://app.prolific.com/submissions/complete?cc=C0DE42")
    const stored = await runtime.runPromise(Effect.flatMap(HumanStore, (s) => s.ratingsOf(id)))
    assert.strictEqual(stored.length, 5)
    assert.deepStrictEqual(stored.map((r) => r.externalId), Array(5).fill("5f1e2d3c4b5a"))
    assert.deepStrictEqual(stored.map((r) => r.values), [0, 1, 2, 3, 4].map((k) => ({ Dim1: 10 + k, Dim2: 20 + k, Dim3: 30 + k, Dim4: 40 + k, Dim5: 1 })))
    assert.strictEqual(stored.filter((r) => r.attention).length, 1)
    await app.close()
    await runtime.dispose()
  })

  it("refuses crafted POSTs with 4xx and stores nothing; replay after completion is 409", async () => {
    const { runtime, id } = await makeStudy({ attentionChecks: 0 })
    const app = await makeServer(runtime, { studyId: id, adminToken })
    const a = browser(app)
    const b = browser(app)
    await enter(a, "u=alice")
    await enter(b, "u=bob")
    const mine = assignmentOf((await a.call("GET", "/item")).body)!
    const theirs = assignmentOf((await b.call("GET", "/item")).body)!
    assert.notStrictEqual(mine.split(".")[0], theirs.split(".")[0])
    const count = async () => (await runtime.runPromise(Effect.flatMap(HumanStore, (s) => s.ratingsOf(id)))).length
    const cases: Array<[string, Record<string, string | number>, number]> = [
      ["slider above 100", { ...rating(mine), Dim1: 101 }, 400],
      ["slider below 0", { ...rating(mine), Dim2: -1 }, 400],
      ["slider not an integer", { ...rating(mine), Dim3: "50.5" }, 400],
      ["slider not a number", { ...rating(mine), Dim4: "lots" }, 400],
      ["missing field", { assignment: mine, Dim1: 50, Dim2: 50, Dim3: 50 }, 400],
      ["missing assignment", { Dim1: 50, Dim2: 50, Dim3: 50, Dim4: 50 }, 400],
      ["unknown field", { ...rating(mine), Dim9: 3 }, 400],
      ["bad checkbox value", { ...rating(mine), Dim5: "<b>" }, 400],
      ["malformed assignment", rating("1.2.3"), 400],
      ["unknown item", rating("9999.0"), 404],
      ["another rater's item", rating(theirs), 403],
      ["not the current item", rating(`${mine.split(".")[0]}.${Number(mine.split(".")[1]) + 1}`), 409]
    ]
    for (const [what, body, status] of cases) {
      const res = await a.call("POST", "/item", body)
      assert.strictEqual(res.statusCode, status, `${what}: ${res.body}`)
    }
    const huge = await app.inject({
      method: "POST", url: "/item", headers: { cookie: a.cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: `assignment=${mine}&Dim1=1&Dim2=1&Dim3=1&Dim4=1&pad=${"x".repeat(200_000)}`
    })
    assert.strictEqual(huge.statusCode, 413)
    const json = await app.inject({ method: "POST", url: "/item", headers: { cookie: a.cookie, "content-type": "application/json" }, payload: JSON.stringify(rating(mine)) })
    assert.strictEqual(json.statusCode, 415, "only form posts are parsed")
    const noCookie = await app.inject({ method: "POST", url: "/item", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: form(rating(mine)) })
    assert.strictEqual(noCookie.statusCode, 403)
    assert.strictEqual(await count(), 0, "nothing stored by refused requests")
    // The same page again is still the same item; then the whole bundle, then a replay.
    assert.strictEqual(assignmentOf((await a.call("GET", "/item")).body), mine)
    for (let k = 0; k < 4; k++) {
      const assignment = assignmentOf((await a.call("GET", "/item")).body)!
      assert.strictEqual((await a.call("POST", "/item", rating(assignment, k))).statusCode, 303)
    }
    assert.strictEqual(await count(), 4)
    const replay = await a.call("POST", "/item", rating(mine))
    assert.strictEqual(replay.statusCode, 409)
    assert.strictEqual(await count(), 4)
    await app.close()
    await runtime.dispose()
  })

  it("admin view is 401 without its token; raters cannot enter as someone else", async () => {
    const { runtime, id } = await makeStudy()
    const app = await makeServer(runtime, { studyId: id, adminToken })
    const alice = browser(app)
    await enter(alice, "PROLIFIC_PID=alice1&STUDY_ID=s&SESSION_ID=one")
    assert.strictEqual((await app.inject({ method: "GET", url: "/admin" })).statusCode, 401)
    assert.strictEqual((await app.inject({ method: "GET", url: "/admin?token=wrong" })).statusCode, 401)
    assert.strictEqual((await app.inject({ method: "GET", url: "/admin", headers: { authorization: "Bearer nope" } })).statusCode, 401)
    const admin = await app.inject({ method: "GET", url: "/admin", headers: { authorization: `Bearer ${adminToken}` } })
    assert.strictEqual(admin.statusCode, 200)
    assert.include(admin.body, "alice1")
    assert.include(admin.body, "zephyr_dpo")
    // Someone else's browser with alice's id but another session is refused; her own session id resumes.
    const mallory = browser(app)
    assert.strictEqual((await mallory.call("GET", "/?PROLIFIC_PID=alice1&STUDY_ID=s&SESSION_ID=two")).statusCode, 403)
    assert.strictEqual((await mallory.call("GET", "/?u=alice1")).statusCode, 403)
    assert.strictEqual((await mallory.call("GET", "/item")).statusCode, 403)
    assert.strictEqual((await mallory.call("GET", "/done")).statusCode, 403)
    assert.strictEqual((await app.inject({ method: "GET", url: "/?u=%3Cscript%3E" })).statusCode, 400)
    assert.strictEqual((await app.inject({ method: "GET", url: "/" })).statusCode, 400)
    await app.close()
    await runtime.dispose()
  })

  it("shows response and dialogue text with HTML escaped", async () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "empo-human-xss-"))
    const line = (id: number, response: string) => JSON.stringify({
      id: String(id), prompt: [{ role: "system", content: "sys" }, { role: "user", content: `I <b>won</b> & "cheered" ${id}` }],
      response, target: "gold <i>turn</i>", prev: "I won", emotion: "proud"
    })
    fs.writeFileSync(path.join(dir, "a.jsonl"), [0, 1, 2].map((k) => line(k, `<script>alert(${k})</script><img src=x onerror=alert(1)>`)).join("\n"))
    fs.writeFileSync(path.join(dir, "b.jsonl"), [0, 1, 2].map((k) => line(k, `plain ${k}`)).join("\n"))
    const runtime = storeRuntime(path.join(dir, "empo.db"))
    await runtime.runPromise(Effect.gen(function* () {
      const study = yield* planStudy({
        id: "xss", title: "T <u>", conditions: [{ name: "a", kind: "file", file: path.join(dir, "a.jsonl") }, { name: "b", kind: "file", file: path.join(dir, "b.jsonl") }],
        plan: { perEmotion: 3, items: 3, extraEmotions: [], seed: 1 }, statements: studyStatements, ratersPerItem: 1, itemsPerRater: 3, attentionChecks: 0
      })
      yield* (yield* HumanStore).createStudy(study)
    }))
    const app = await makeServer(runtime, { studyId: "xss", adminToken })
    const b = browser(app)
    await enter(b, "u=x")
    let sawScript = false
    for (let k = 0; k < 3; k++) {
      const body = (await b.call("GET", "/item")).body
      assert.notInclude(body, "<script>")
      assert.notInclude(body, "<img")
      assert.notInclude(body, "<b>won")
      assert.include(body, "I &lt;b&gt;won&lt;/b&gt; &amp; &quot;cheered&quot;")
      assert.notInclude(body, ">sys<", "the system prompt is not shown")
      sawScript ||= body.includes("&lt;script&gt;alert(")
      assert.strictEqual((await b.call("POST", "/item", rating(assignmentOf(body)!))).statusCode, 303)
    }
    assert.isTrue(sawScript)
    assert.include((await b.call("GET", "/done")).body, "T &lt;u&gt;")
    await app.close()
    await runtime.dispose()
  })

  it("a restarted server resumes every rater at the item they were on", async () => {
    const { runtime, id, db } = await makeStudy()
    const app = await makeServer(runtime, { studyId: id, adminToken })
    const b = browser(app)
    await enter(b, "u=resumer")
    for (let k = 0; k < 2; k++) await b.call("POST", "/item", rating(assignmentOf((await b.call("GET", "/item")).body)!, k))
    const before = assignmentOf((await b.call("GET", "/item")).body)
    await app.close()
    await runtime.dispose()
    const again = storeRuntime(db)
    const app2 = await makeServer(again, { studyId: id, adminToken })
    const b2 = browser(app2)
    b2.cookie = b.cookie
    const page = await b2.call("GET", "/item")
    assert.strictEqual(assignmentOf(page.body), before)
    assert.include(page.body, "Item 3 of 5")
    assert.strictEqual((await b2.call("GET", "/?u=resumer")).headers.location, "item")
    await app2.close()
    await again.dispose()
  })

  it("a full study refuses newcomers (410), or hands them the bundle idle longest when reclaiming", async () => {
    const { runtime, id } = await makeStudy()
    const holders = await runtime.runPromise(Effect.gen(function* () {
      const store = yield* HumanStore
      const out = []
      for (let k = 0; k < 12; k++) {
        out.push(yield* store.claimBundle(yield* store.enter(id, { externalId: `holder${k}`, prolificStudy: null, prolificSession: null, token: null })))
        yield* Effect.sleep("2 millis")
      }
      const first = Option.getOrThrow(yield* store.currentItem(out[0]!))
      yield* store.submit(out[0]!, { assignment: `${first.bundle}.${first.position}`, values: { Dim1: 1, Dim2: 1, Dim3: 1, Dim4: 1, Dim5: 0 } })
      return out
    }))
    assert.strictEqual(new Set(holders.map((h) => h.bundle)).size, 12)
    const strict = await makeServer(runtime, { studyId: id, adminToken })
    const late = browser(strict)
    await late.call("GET", "/?u=late")
    assert.strictEqual((await late.call("POST", "/start")).statusCode, 410)
    await strict.close()
    const reclaiming = await makeServer(runtime, { studyId: id, adminToken, reclaimAfterMs: 0 })
    const newcomer = browser(reclaiming)
    await newcomer.call("GET", "/?u=newcomer")
    assert.strictEqual((await newcomer.call("POST", "/start")).statusCode, 303)
    const taken = assignmentOf((await newcomer.call("GET", "/item")).body)!
    // holder0 rated last, so holder1 (idle since it entered) loses its bundle; its old item is no longer its own.
    assert.strictEqual(Number(taken.split(".")[0]), holders[1]!.bundle)
    const gone = browser(reclaiming)
    gone.cookie = `empo_rater=${holders[1]!.token}`
    assert.strictEqual((await gone.call("POST", "/item", rating(taken))).statusCode, 403)
    assert.strictEqual((await gone.call("GET", "/item")).headers.location, "intro")
    await reclaiming.close()
    await runtime.dispose()
  })
})
