import * as Schema from "effect/Schema"
import { StatementSet } from "./Statements.ts"

/** How a study was laid out (stored as JSON beside it). */
export const StudyDesign = Schema.Struct({
  ratersPerItem: Schema.Int,
  itemsPerRater: Schema.Int,
  attentionChecks: Schema.Int,
  seed: Schema.Int,
  items: Schema.Int,
  bundles: Schema.Int
})
export type StudyDesign = typeof StudyDesign.Type

export class StudyRow extends Schema.Class<StudyRow>("StudyRow")({
  id: Schema.String,
  title: Schema.String,
  statements: Schema.propertySignature(Schema.parseJson(StatementSet)).pipe(Schema.fromKey("statementsJson")),
  design: Schema.propertySignature(Schema.parseJson(StudyDesign)).pipe(Schema.fromKey("designJson")),
  completionCode: Schema.String,
  redirectUrl: Schema.NullOr(Schema.String),
  createdAt: Schema.Number
}) {}

/** Where a condition's responses came from: a run's predictions, a predictions file, or the gold turns. */
export const SourceKind = Schema.Literal("run", "file", "gold")
export class ConditionRow extends Schema.Class<ConditionRow>("ConditionRow")({
  studyId: Schema.String,
  name: Schema.String,
  sourceKind: SourceKind,
  source: Schema.String,
  runId: Schema.NullOr(Schema.String)
}) {}

export const Message = Schema.Struct({ role: Schema.Literal("user", "assistant"), content: Schema.String })

export class RaterRow extends Schema.Class<RaterRow>("RaterRow")({
  id: Schema.Number,
  studyId: Schema.String,
  externalId: Schema.String,
  prolificStudy: Schema.NullOr(Schema.String),
  prolificSession: Schema.NullOr(Schema.String),
  token: Schema.String,
  bundle: Schema.NullOr(Schema.Number),
  createdAt: Schema.Number,
  completedAt: Schema.NullOr(Schema.Number)
}) {}

/** The item a rater is on: one dialogue and one (blind) response. */
export class CurrentItem extends Schema.Class<CurrentItem>("CurrentItem")({
  bundle: Schema.Number,
  position: Schema.Number,
  total: Schema.Number,
  rated: Schema.Number,
  chat: Schema.parseJson(Schema.Array(Message)),
  response: Schema.String
}) {}

/** SQLite's 0/1 as a boolean. */
const Flag = Schema.transform(Schema.Number, Schema.Boolean, { strict: true, decode: (n) => n !== 0, encode: (b) => (b ? 1 : 0) })

/** A rating joined with what was rated, as export and analysis read it. */
export class RatingRow extends Schema.Class<RatingRow>("RatingRow")({
  sampleIndex: Schema.Number,
  raterId: Schema.Number,
  externalId: Schema.String,
  itemId: Schema.String,
  condition: Schema.String,
  attention: Flag,
  emotion: Schema.String,
  context: Schema.String,
  chat: Schema.propertySignature(Schema.parseJson(Schema.Array(Message))).pipe(Schema.fromKey("chatJson")),
  response: Schema.String,
  target: Schema.String,
  values: Schema.propertySignature(Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Number }))).pipe(Schema.fromKey("valuesJson")),
  createdAt: Schema.Number
}) {}

/** Progress of one study, for `human ls`, the TUI and the admin page. */
export const StudyProgress = Schema.Struct({
  id: Schema.String,
  title: Schema.String,
  createdAt: Schema.Number,
  bundles: Schema.Number,
  raters: Schema.Number,
  completedRaters: Schema.Number,
  ratings: Schema.Number,
  expected: Schema.Number
})
export type StudyProgress = typeof StudyProgress.Type

export const ConditionProgress = Schema.Struct({ condition: Schema.String, rated: Schema.Number, expected: Schema.Number })
export type ConditionProgress = typeof ConditionProgress.Type

/** A rater's row as the progress query reads it. */
export const RaterProgressRow = Schema.Struct({
  externalId: Schema.String,
  bundle: Schema.NullOr(Schema.Number),
  rated: Schema.Number,
  total: Schema.Number,
  completedAt: Schema.NullOr(Schema.Number)
})

export interface RaterProgress {
  readonly externalId: string
  readonly bundle: number | null
  readonly rated: number
  readonly total: number
  readonly completed: boolean
  readonly attentionFailed: number
}
