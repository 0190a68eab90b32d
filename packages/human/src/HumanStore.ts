import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { StoreError } from "@empo/store"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import { RatingRefused, StudyExistsError, StudyNotFoundError } from "./Errors.ts"
import {
  ConditionProgress,
  ConditionRow,
  CurrentItem,
  RaterRow,
  type RaterProgress,
  RaterProgressRow,
  RatingRow,
  type StudyDesign,
  StudyProgress,
  StudyRow
} from "./Rows.ts"
import type { Turn } from "./Display.ts"
import type { StatementSet } from "./Statements.ts"
import type { Unit } from "./Sampling.ts"

/** A study to create: everything `empo human batch` decided, written in one transaction. */
export interface NewStudy {
  readonly id: string
  readonly title: string
  readonly statements: StatementSet
  readonly design: StudyDesign
  readonly completionCode: string
  readonly redirectUrl: string | null
  readonly conditions: ReadonlyArray<{ readonly name: string; readonly sourceKind: "run" | "file" | "gold"; readonly source: string; readonly runId: string | null }>
  readonly items: ReadonlyArray<{
    readonly itemId: string
    readonly emotion: string
    readonly context: string
    readonly chat: ReadonlyArray<Turn>
    readonly attention: boolean
    /** Response per condition (attention items: one pseudo-condition). */
    readonly responses: Readonly<Record<string, { readonly response: string; readonly target: string }>>
  }>
  readonly bundles: ReadonlyArray<ReadonlyArray<Unit>>
}

/** Who opened the study link: Prolific's parameters or `?u=`. */
export interface RaterEntry {
  readonly externalId: string
  readonly prolificStudy: string | null
  readonly prolificSession: string | null
  /** The browser's session token (cookie), when it has one. */
  readonly token: string | null
}

/** A submitted rating: the assignment it answers (`bundle.position`) and a value per statement key. */
export interface Submission {
  readonly assignment: string
  readonly values: Readonly<Record<string, number>>
}

type HumanEffect<A> = Effect.Effect<A, StoreError>

const AttentionRow = Schema.Struct({
  externalId: Schema.String,
  values: Schema.propertySignature(Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Number }))).pipe(Schema.fromKey("valuesJson"))
})

/** Human-evaluation studies in the run store: creation, rater sessions, ratings, progress. */
export class HumanStore extends Context.Tag("@empo/human/HumanStore")<HumanStore, {
  readonly createStudy: (study: NewStudy) => Effect.Effect<void, StoreError | StudyExistsError>
  readonly getStudy: (id: string) => Effect.Effect<StudyRow, StoreError | StudyNotFoundError>
  readonly conditionsOf: (id: string) => HumanEffect<ReadonlyArray<ConditionRow>>
  readonly listStudies: () => HumanEffect<ReadonlyArray<StudyProgress>>
  /** Finds or creates the rater; an existing one is resumed only with its token or the same Prolific session. */
  readonly enter: (studyId: string, entry: RaterEntry) => Effect.Effect<RaterRow, StoreError | RatingRefused>
  readonly raterByToken: (studyId: string, token: string) => HumanEffect<Option.Option<RaterRow>>
  /**
   * Gives the rater the lowest bundle nobody holds (once). When every bundle is held and `reclaimAfterMs` is given,
   * takes over the unfinished bundle idle longest, if idle that long (a rater who left: its ratings stay, the new
   * rater continues at its first unrated item). Fails with 410 when no bundle is to be had.
   */
  readonly claimBundle: (rater: RaterRow, reclaimAfterMs?: number) => Effect.Effect<RaterRow, StoreError | RatingRefused>
  /** The first unrated item of the rater's bundle, or none when the bundle is complete. */
  readonly currentItem: (rater: RaterRow) => HumanEffect<Option.Option<CurrentItem>>
  /** Stores one rating in one transaction, after checking it answers the rater's current item. */
  readonly submit: (rater: RaterRow, submission: Submission) => Effect.Effect<{ readonly completed: boolean }, StoreError | RatingRefused>
  readonly ratingsOf: (studyId: string) => Effect.Effect<ReadonlyArray<RatingRow>, StoreError | StudyNotFoundError>
  readonly progressByCondition: (studyId: string) => HumanEffect<ReadonlyArray<ConditionProgress>>
  readonly progressByRater: (studyId: string) => HumanEffect<ReadonlyArray<RaterProgress>>
}>() {
  static readonly layerNoDeps: Layer.Layer<HumanStore, never, SqlClient.SqlClient> = Layer.effect(
    HumanStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const fail = (operation: string) => (cause: SqlError.SqlError | ParseResult.ParseError) => new StoreError({ operation, cause })
      const decodeAll = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknown(Schema.Array(schema))
      const inChunks = <A>(rows: ReadonlyArray<A>, size = 400) =>
        Array.from({ length: Math.ceil(rows.length / size) }, (_, k) => rows.slice(k * size, (k + 1) * size))

      const knownIds = sql<{ id: string }>`SELECT id FROM human_studies ORDER BY created_at, id`.pipe(
        Effect.map((rows) => rows.map((r) => r.id)), Effect.mapError(fail("list human studies")))

      const createStudy = Effect.fn("HumanStore.createStudy")(function* (s: NewStudy) {
        const now = yield* Clock.currentTimeMillis
        const exists = yield* sql`SELECT 1 FROM human_studies WHERE id = ${s.id}`.pipe(Effect.mapError(fail("read human studies")))
        if (exists.length > 0) return yield* new StudyExistsError({ id: s.id })
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* sql`INSERT INTO human_studies (id, title, statements_json, design_json, completion_code, redirect_url, created_at)
            VALUES (${s.id}, ${s.title}, ${JSON.stringify(s.statements)}, ${JSON.stringify(s.design)}, ${s.completionCode}, ${s.redirectUrl}, ${now})`
          for (const c of s.conditions) {
            yield* sql`INSERT INTO human_conditions (study_id, name, source_kind, source, run_id)
              VALUES (${s.id}, ${c.name}, ${c.sourceKind}, ${c.source}, ${c.runId})`
          }
          const items = s.items.map((it, k) => ({
            studyId: s.id, itemId: it.itemId, sampleIndex: k, emotion: it.emotion, context: it.context,
            chatJson: JSON.stringify(it.chat), attention: it.attention ? 1 : 0
          }))
          for (const chunk of inChunks(items)) yield* sql`INSERT INTO human_items ${sql.insert(chunk)}`
          const responses = s.items.flatMap((it) => Object.entries(it.responses).map(([condition, r]) => ({
            studyId: s.id, itemId: it.itemId, condition, response: r.response, target: r.target
          })))
          for (const chunk of inChunks(responses)) yield* sql`INSERT INTO human_responses ${sql.insert(chunk)}`
          const assignments = s.bundles.flatMap((units, bundle) => units.map((u, position) => ({
            studyId: s.id, bundle, position, itemId: u.item, condition: u.condition
          })))
          for (const chunk of inChunks(assignments)) yield* sql`INSERT INTO human_assignments ${sql.insert(chunk)}`
        })).pipe(Effect.mapError(fail(`create human study ${s.id}`)))
      })

      const getStudy = Effect.fn("HumanStore.getStudy")(function* (id: string) {
        const rows = yield* sql`SELECT * FROM human_studies WHERE id = ${id}`.pipe(
          Effect.flatMap(decodeAll(StudyRow)), Effect.mapError(fail("read human study")))
        if (rows[0] === undefined) return yield* new StudyNotFoundError({ id, known: yield* knownIds })
        return rows[0]
      })

      const conditionsOf = (id: string) =>
        sql`SELECT * FROM human_conditions WHERE study_id = ${id} ORDER BY name`.pipe(
          Effect.flatMap(decodeAll(ConditionRow)), Effect.mapError(fail("read human conditions")))

      const listStudies = Effect.fn("HumanStore.listStudies")(function* () {
        return yield* sql`
          SELECT s.id, s.title, s.created_at,
            (SELECT COUNT(DISTINCT bundle) FROM human_assignments a WHERE a.study_id = s.id) AS bundles,
            (SELECT COUNT(*) FROM human_raters r WHERE r.study_id = s.id) AS raters,
            (SELECT COUNT(*) FROM human_raters r WHERE r.study_id = s.id AND r.completed_at IS NOT NULL) AS completed_raters,
            (SELECT COUNT(*) FROM human_ratings g WHERE g.study_id = s.id) AS ratings,
            (SELECT COUNT(*) FROM human_assignments a WHERE a.study_id = s.id) AS expected
          FROM human_studies s ORDER BY s.created_at, s.id`.pipe(Effect.flatMap(decodeAll(StudyProgress)), Effect.mapError(fail("list human studies")))
      })

      const raterWhere = (studyId: string, column: "token" | "external_id", value: string) =>
        sql`SELECT * FROM human_raters WHERE study_id = ${studyId} AND ${sql(column)} = ${value}`.pipe(
          Effect.flatMap(decodeAll(RaterRow)), Effect.map((rows) => Option.fromNullable(rows[0])), Effect.mapError(fail("read rater")))

      const raterByToken = (studyId: string, token: string) => raterWhere(studyId, "token", token)

      const enter = Effect.fn("HumanStore.enter")(function* (studyId: string, e: RaterEntry) {
        const existing = yield* raterWhere(studyId, "external_id", e.externalId)
        if (Option.isSome(existing)) {
          const r = existing.value
          const sameSession = e.prolificSession !== null && r.prolificSession === e.prolificSession
          if (e.token === r.token || sameSession) return r
          return yield* new RatingRefused({ status: 403, reason: "this participant id is already taking part in another session" })
        }
        const now = yield* Clock.currentTimeMillis
        const token = randomBytes(24).toString("hex")
        yield* sql`INSERT INTO human_raters (study_id, external_id, prolific_study, prolific_session, token, created_at)
          VALUES (${studyId}, ${e.externalId}, ${e.prolificStudy}, ${e.prolificSession}, ${token}, ${now})
          ON CONFLICT (study_id, external_id) DO NOTHING`.pipe(Effect.mapError(fail("register rater")))
        const created = yield* raterWhere(studyId, "external_id", e.externalId)
        return Option.getOrThrow(created)
      })

      const claimBundle = Effect.fn("HumanStore.claimBundle")(function* (rater: RaterRow, reclaimAfterMs?: number) {
        if (rater.bundle !== null) return rater
        // One statement, so two raters arriving together can never get the same bundle.
        yield* sql`UPDATE human_raters SET bundle = (
            SELECT MIN(a.bundle) FROM human_assignments a WHERE a.study_id = ${rater.studyId}
              AND a.bundle NOT IN (SELECT bundle FROM human_raters WHERE study_id = ${rater.studyId} AND bundle IS NOT NULL))
          WHERE id = ${rater.id} AND bundle IS NULL`.pipe(Effect.mapError(fail("assign a bundle")))
        const updated = Option.getOrThrow(yield* raterWhere(rater.studyId, "token", rater.token))
        if (updated.bundle !== null || reclaimAfterMs === undefined) {
          if (updated.bundle === null) return yield* new RatingRefused({ status: 410, reason: "every place in this study is taken" })
          return updated
        }
        const now = yield* Clock.currentTimeMillis
        const reclaimed = yield* sql.withTransaction(Effect.gen(function* () {
          const idle = yield* sql<{ id: number; bundle: number }>`SELECT r.id, r.bundle FROM human_raters r
            WHERE r.study_id = ${rater.studyId} AND r.bundle IS NOT NULL AND r.completed_at IS NULL AND r.id != ${rater.id}
              AND MAX(r.created_at, COALESCE((SELECT MAX(g.created_at) FROM human_ratings g WHERE g.rater_id = r.id), 0)) <= ${now - reclaimAfterMs}
            ORDER BY MAX(r.created_at, COALESCE((SELECT MAX(g.created_at) FROM human_ratings g WHERE g.rater_id = r.id), 0)), r.id LIMIT 1`
          const victim = idle[0]
          if (victim === undefined) return false
          yield* sql`UPDATE human_raters SET bundle = NULL WHERE id = ${victim.id}`
          yield* sql`UPDATE human_raters SET bundle = ${victim.bundle} WHERE id = ${rater.id} AND bundle IS NULL`
          return true
        })).pipe(Effect.mapError(fail("reclaim an idle bundle")))
        if (!reclaimed) return yield* new RatingRefused({ status: 410, reason: "every place in this study is taken" })
        return Option.getOrThrow(yield* raterWhere(rater.studyId, "token", rater.token))
      })

      const currentItem = Effect.fn("HumanStore.currentItem")(function* (rater: RaterRow) {
        if (rater.bundle === null) return Option.none()
        const rows = yield* sql`SELECT a.bundle, a.position,
            (SELECT COUNT(*) FROM human_assignments x WHERE x.study_id = a.study_id AND x.bundle = a.bundle) AS total,
            (SELECT COUNT(*) FROM human_ratings g WHERE g.study_id = a.study_id AND g.bundle = a.bundle) AS rated,
            i.chat_json AS chat, r.response
          FROM human_assignments a
          JOIN human_items i ON i.study_id = a.study_id AND i.item_id = a.item_id
          JOIN human_responses r ON r.study_id = a.study_id AND r.item_id = a.item_id AND r.condition = a.condition
          WHERE a.study_id = ${rater.studyId} AND a.bundle = ${rater.bundle}
            AND NOT EXISTS (SELECT 1 FROM human_ratings g WHERE g.study_id = a.study_id AND g.bundle = a.bundle AND g.position = a.position)
          ORDER BY a.position LIMIT 1`.pipe(Effect.flatMap(decodeAll(CurrentItem)), Effect.mapError(fail("read the current item")))
        return Option.fromNullable(rows[0])
      })

      const submit = Effect.fn("HumanStore.submit")(function* (rater: RaterRow, s: Submission) {
        const m = /^(\d{1,9})\.(\d{1,9})$/.exec(s.assignment)
        if (m === null) return yield* new RatingRefused({ status: 400, reason: "malformed assignment" })
        const bundle = Number(m[1])
        const position = Number(m[2])
        const now = yield* Clock.currentTimeMillis
        const checked = Effect.gen(function* () {
          const fresh = Option.getOrThrow(yield* raterWhere(rater.studyId, "token", rater.token))
          if (fresh.completedAt !== null) return yield* new RatingRefused({ status: 409, reason: "this session is complete" })
          const found = yield* sql`SELECT 1 FROM human_assignments WHERE study_id = ${rater.studyId} AND bundle = ${bundle} AND position = ${position}`.pipe(
            Effect.mapError(fail("read assignment")))
          if (found.length === 0) return yield* new RatingRefused({ status: 404, reason: "no such item in this study" })
          if (fresh.bundle !== bundle) return yield* new RatingRefused({ status: 403, reason: "this item is assigned to someone else" })
          const current = yield* currentItem(fresh)
          if (Option.isNone(current) || current.value.position !== position) {
            return yield* new RatingRefused({ status: 409, reason: "this item was already rated or is not the current one" })
          }
          yield* sql`INSERT INTO human_ratings (study_id, bundle, position, rater_id, values_json, created_at)
            VALUES (${rater.studyId}, ${bundle}, ${position}, ${fresh.id}, ${JSON.stringify(s.values)}, ${now})`.pipe(
            Effect.mapError(fail("store rating")))
          const completed = current.value.rated + 1 >= current.value.total
          if (completed) {
            yield* sql`UPDATE human_raters SET completed_at = ${now} WHERE id = ${fresh.id}`.pipe(Effect.mapError(fail("complete session")))
          }
          return { completed }
        })
        return yield* sql.withTransaction(checked).pipe(
          Effect.catchTag("SqlError", (cause) => Effect.fail(new StoreError({ operation: "store rating", cause }))))
      })

      const ratingsOf = Effect.fn("HumanStore.ratingsOf")(function* (studyId: string) {
        yield* getStudy(studyId)
        return yield* sql`SELECT i.sample_index, g.rater_id, rt.external_id, a.item_id, a.condition, i.attention, i.emotion, i.context,
            i.chat_json, r.response, r.target, g.values_json, g.created_at
          FROM human_ratings g
          JOIN human_raters rt ON rt.id = g.rater_id
          JOIN human_assignments a ON a.study_id = g.study_id AND a.bundle = g.bundle AND a.position = g.position
          JOIN human_items i ON i.study_id = a.study_id AND i.item_id = a.item_id
          JOIN human_responses r ON r.study_id = a.study_id AND r.item_id = a.item_id AND r.condition = a.condition
          WHERE g.study_id = ${studyId} ORDER BY g.rater_id, g.position`.pipe(
          Effect.flatMap(decodeAll(RatingRow)), Effect.mapError(fail("read ratings")))
      })

      const progressByCondition = (studyId: string) =>
        sql`SELECT a.condition, COUNT(g.position) AS rated, COUNT(*) AS expected
          FROM human_assignments a LEFT JOIN human_ratings g ON g.study_id = a.study_id AND g.bundle = a.bundle AND g.position = a.position
          WHERE a.study_id = ${studyId} GROUP BY a.condition ORDER BY a.condition`.pipe(Effect.flatMap(decodeAll(ConditionProgress)), Effect.mapError(fail("read progress")))

      const progressByRater = Effect.fn("HumanStore.progressByRater")(function* (studyId: string) {
        const study = yield* getStudy(studyId).pipe(Effect.catchTag("StudyNotFoundError", () => Effect.succeed(undefined)))
        const rows = yield* sql`
          SELECT r.external_id, r.bundle, r.completed_at,
            (SELECT COUNT(*) FROM human_ratings g WHERE g.rater_id = r.id) AS rated,
            (SELECT COUNT(*) FROM human_assignments a WHERE a.study_id = r.study_id AND a.bundle = r.bundle) AS total
          FROM human_raters r WHERE r.study_id = ${studyId} ORDER BY r.id`.pipe(Effect.flatMap(decodeAll(RaterProgressRow)), Effect.mapError(fail("read progress")))
        const attention = yield* sql`SELECT rt.external_id, g.values_json
          FROM human_ratings g JOIN human_raters rt ON rt.id = g.rater_id
          JOIN human_assignments a ON a.study_id = g.study_id AND a.bundle = g.bundle AND a.position = g.position
          JOIN human_items i ON i.study_id = a.study_id AND i.item_id = a.item_id
          WHERE g.study_id = ${studyId} AND i.attention = 1`.pipe(Effect.flatMap(decodeAll(AttentionRow)), Effect.mapError(fail("read progress")))
        const failedBy = new Map<string, number>()
        for (const a of attention) {
          if (study !== undefined && !passesAttention(study.statements, a.values)) failedBy.set(a.externalId, (failedBy.get(a.externalId) ?? 0) + 1)
        }
        return rows.map((r): RaterProgress => ({
          externalId: r.externalId, bundle: r.bundle, rated: r.rated, total: r.total, completed: r.completedAt !== null,
          attentionFailed: failedBy.get(r.externalId) ?? 0
        }))
      })

      return HumanStore.of({
        createStudy, getStudy, conditionsOf, listStudies, enter, raterByToken, claimBundle, currentItem, submit, ratingsOf,
        progressByCondition, progressByRater
      })
    })
  )
}

/** The text of an attention-check item: it asks for the lowest value everywhere. */
export const attentionResponse = "This is an attention check. Please move every slider fully to the left (Strongly disagree) and leave the box unticked."

/** An attention check passes when every slider is within 10% of its minimum and no box is ticked. */
export const passesAttention = (statements: StatementSet, values: Readonly<Record<string, number>>): boolean =>
  statements.statements.every((s) => {
    const v = values[s.key] ?? Number.NaN
    return s.kind === "checkbox" ? v === 0 : v <= statements.scale.min + (statements.scale.max - statements.scale.min) / 10
  })
