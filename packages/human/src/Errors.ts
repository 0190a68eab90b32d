import { UserError } from "@empo/core/Errors"
import * as Schema from "effect/Schema"

/** No study with this id in the store. Exit code 2. */
export class StudyNotFoundError extends UserError<StudyNotFoundError>()("StudyNotFoundError", {
  id: Schema.String,
  known: Schema.Array(Schema.String)
}, {
  exitCode: 2,
  message: (e) => `no human study \`${e.id}\` in the store (${e.known.length === 0 ? "none yet: see `empo human batch`" : `known: ${e.known.join(", ")}`})`
}) {}

/** A study with this id exists already; batches never overwrite ratings. Exit code 2. */
export class StudyExistsError extends UserError<StudyExistsError>()("StudyExistsError", {
  id: Schema.String
}, {
  exitCode: 2,
  message: (e) => `a human study \`${e.id}\` exists already in the store (pick another --study id)`
}) {}

/** Why the rater app refused a request; `status` is the HTTP status it answers with. */
export class RatingRefused extends Schema.TaggedError<RatingRefused>()("RatingRefused", {
  status: Schema.Literal(400, 403, 404, 409, 410),
  reason: Schema.String
}) {}
