import formbody from "@fastify/formbody"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify"
import { timingSafeEqual } from "node:crypto"
import { RatingRefused } from "./Errors.ts"
import { HumanStore } from "./HumanStore.ts"
import { adminPage, donePage, examplePage, introPage, itemPage, messagePage } from "./Pages.ts"
import type { RaterRow, StudyRow } from "./Rows.ts"
import { sliders } from "./Statements.ts"

/** What runs the handlers' effects: a `ManagedRuntime` of the store, or the command's own runtime. */
export interface HumanRuntime {
  readonly runPromiseExit: <A, E>(effect: Effect.Effect<A, E, HumanStore>) => Promise<Exit.Exit<A, unknown>>
}

export interface ServeOptions {
  readonly studyId: string
  readonly adminToken: string
  /** When every bundle is held, a bundle idle this long is handed to a new rater (undefined: never). */
  readonly reclaimAfterMs?: number | undefined
  /** Largest accepted request body; a rating form is well under 1 KiB. */
  readonly bodyLimit?: number
}

const cookieName = "empo_rater"
const idPattern = "^[A-Za-z0-9_.:@-]{1,128}$"

const tokenOf = (request: FastifyRequest): string | null => {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [k, v] = part.trim().split("=")
    if (k === cookieName && v !== undefined && /^[0-9a-f]{48}$/.test(v)) return v
  }
  return null
}

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The rater web app of one study (fastify): intro → solved example → one item per page → completion code, and an
 * admin page behind a token. Every rating is one SQLite transaction before the next page is sent, so a crash
 * loses nothing a rater was told was saved. Bodies are validated by JSON schema (built from the study's
 * statements) before any handler runs, and capped at `bodyLimit`.
 */
export const makeServer = async (runtime: HumanRuntime, options: ServeOptions): Promise<FastifyInstance> => {
  const run = <A, E>(effect: Effect.Effect<A, E, HumanStore>) => runtime.runPromiseExit(effect)
  const studyExit = await run(Effect.flatMap(HumanStore, (s) => s.getStudy(options.studyId)))
  if (Exit.isFailure(studyExit)) throw Cause.squash(studyExit.cause)
  const study: StudyRow = studyExit.value

  // Fastify's Ajv strips unknown fields by default; a crafted field must be refused, not silently dropped.
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 16 * 1024, logger: false, ajv: { customOptions: { removeAdditional: false } } })
  // The pages post plain forms only; any other body type is refused (415) before it is parsed.
  app.removeAllContentTypeParsers()
  await app.register(formbody)

  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).header("content-type", "text/html; charset=utf-8").header("cache-control", "no-store")
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
      .send(body)

  const refuse = (reply: FastifyReply, status: number, reason: string) => html(reply, status, messagePage(status >= 500 ? "Something went wrong" : "Not possible", reason))

  const settle = async <A>(reply: FastifyReply, effect: Effect.Effect<A, unknown, HumanStore>, onValue: (a: A) => unknown) => {
    const exit = await run(effect)
    if (Exit.isSuccess(exit)) return onValue(exit.value)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure) && failure.value instanceof RatingRefused) return refuse(reply, failure.value.status, failure.value.reason)
    app.log.error(Cause.pretty(exit.cause))
    return refuse(reply, 500, "the server could not read or store this; please try again")
  }

  const withRater = (request: FastifyRequest) =>
    Effect.gen(function* () {
      const token = tokenOf(request)
      const store = yield* HumanStore
      const rater = token === null ? Option.none<RaterRow>() : yield* store.raterByToken(study.id, token)
      if (Option.isNone(rater)) return yield* new RatingRefused({ status: 403, reason: "open the study through your personal study link first" })
      return rater.value
    })

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    return refuse(reply, status, status === 413 ? "the request is too large" : status < 500 ? `the request is not valid: ${error.message}` : "the server failed")
  })
  app.setNotFoundHandler((_request, reply) => refuse(reply, 404, "there is no such page"))

  const idString = { type: "string", pattern: idPattern } as const
  app.get<{ Querystring: { PROLIFIC_PID?: string; STUDY_ID?: string; SESSION_ID?: string; u?: string } }>("/", {
    schema: { querystring: { type: "object", properties: { PROLIFIC_PID: idString, STUDY_ID: idString, SESSION_ID: idString, u: idString } } }
  }, (request, reply) => {
    const q = request.query
    const externalId = q.PROLIFIC_PID ?? q.u
    if (externalId === undefined) return refuse(reply, 400, "this link is missing your participant id (PROLIFIC_PID or u)")
    return settle(reply, Effect.flatMap(HumanStore, (s) => s.enter(study.id, {
      externalId, prolificStudy: q.STUDY_ID ?? null, prolificSession: q.SESSION_ID ?? null, token: tokenOf(request)
    })), (rater) =>
      reply.code(303).header("set-cookie", `${cookieName}=${rater.token}; Path=/; HttpOnly; SameSite=Lax`)
        .header("location", rater.completedAt !== null ? "done" : rater.bundle === null ? "intro" : "item").send())
  })

  app.get("/intro", (request, reply) => settle(reply, withRater(request), () => html(reply, 200, introPage(study))))
  app.get("/example", (request, reply) => settle(reply, withRater(request), () => html(reply, 200, examplePage(study))))
  app.post("/start", (request, reply) =>
    settle(reply, Effect.flatMap(withRater(request), (r) => Effect.flatMap(HumanStore, (s) => s.claimBundle(r, options.reclaimAfterMs))), () =>
      reply.code(303).header("location", "item").send()))

  app.get("/item", (request, reply) =>
    settle(reply, Effect.gen(function* () {
      const rater = yield* withRater(request)
      return { rater, item: yield* (yield* HumanStore).currentItem(rater) }
    }), ({ rater, item }) =>
      rater.bundle === null ? reply.code(303).header("location", "intro").send()
        : Option.isNone(item) ? reply.code(303).header("location", "done").send()
        : html(reply, 200, itemPage(study, item.value))))

  const slider = { type: "integer", minimum: study.statements.scale.min, maximum: study.statements.scale.max } as const
  const ratingBody = {
    type: "object",
    additionalProperties: false,
    required: ["assignment", ...sliders(study.statements).map((s) => s.key)],
    properties: {
      assignment: { type: "string", pattern: "^\\d{1,9}\\.\\d{1,9}$" },
      ...Object.fromEntries(study.statements.statements.map((s) => [s.key, s.kind === "slider" ? slider : { type: "string", enum: ["1", "on"] }]))
    }
  }
  app.post<{ Body: Record<string, string | number> }>("/item", { schema: { body: ratingBody } }, (request, reply) => {
    const values = Object.fromEntries(study.statements.statements.map((s) =>
      [s.key, s.kind === "slider" ? Number(request.body[s.key]) : request.body[s.key] === undefined ? 0 : 1]))
    return settle(reply, Effect.gen(function* () {
      const rater = yield* withRater(request)
      return yield* (yield* HumanStore).submit(rater, { assignment: String(request.body["assignment"]), values })
    }), ({ completed }) => reply.code(303).header("location", completed ? "done" : "item").send())
  })

  app.get("/done", (request, reply) =>
    settle(reply, withRater(request), (rater) =>
      rater.completedAt === null ? reply.code(303).header("location", "item").send() : html(reply, 200, donePage(study))))

  app.get<{ Querystring: { token?: string } }>("/admin", (request, reply) => {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1]
    const given = bearer ?? request.query.token
    if (given === undefined || !sameSecret(given, options.adminToken)) {
      return html(reply.header("www-authenticate", "Bearer"), 401, messagePage("Unauthorized", "the admin view needs its token"))
    }
    return settle(reply, Effect.gen(function* () {
      const store = yield* HumanStore
      return { conditions: yield* store.progressByCondition(study.id), raters: yield* store.progressByRater(study.id) }
    }), ({ conditions, raters }) => html(reply, 200, adminPage(study, conditions, raters)))
  })

  app.get("/healthz", (_request, reply) => reply.send({ ok: true, study: study.id }))
  return app
}
