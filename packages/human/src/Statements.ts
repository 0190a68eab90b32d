import { InputError } from "@empo/core/Errors"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { parse as parseYaml } from "yaml"

/** One statement a rater judges: a 0–100 slider or a checkbox. `key` names its column (`Dim1`). */
export const Statement = Schema.Struct({
  key: Schema.String.pipe(Schema.pattern(/^[A-Za-z][A-Za-z0-9_]{0,31}$/)),
  text: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)),
  kind: Schema.Literal("slider", "checkbox")
})
export type Statement = typeof Statement.Type

/** Slider range, start and labels; the study used 0–100 starting at 50. */
export const Scale = Schema.Struct({
  min: Schema.Int,
  max: Schema.Int,
  start: Schema.Int,
  anchors: Schema.Array(Schema.String).pipe(Schema.minItems(2), Schema.maxItems(7))
}).pipe(Schema.filter((s) => s.min < s.max && s.start >= s.min && s.start <= s.max || "need min < max and min ≤ start ≤ max"))
export type Scale = typeof Scale.Type

/** The statements file: what `empo human batch --statements` reads (YAML) and a study stores. */
export const StatementSet = Schema.Struct({
  statements: Schema.Array(Statement).pipe(Schema.minItems(1), Schema.maxItems(12)),
  scale: Scale
}).pipe(Schema.filter((s) => {
  const keys = s.statements.map((x) => x.key)
  if (new Set(keys).size !== keys.length) return "statement keys must be unique"
  return s.statements.some((x) => x.kind === "slider") || "at least one statement must be a slider"
}))
export type StatementSet = typeof StatementSet.Type

/** The EmPO study's four sliders and checkbox (empo-method §5.8), with the state file's wording of statement 2. */
export const studyStatements: StatementSet = {
  statements: [
    { key: "Dim1", kind: "slider", text: "The listener’s response is appropriate to the speaker’s situation." },
    { key: "Dim2", kind: "slider", text: "The listener’s response addresses the speaker’s emotional state, specifically." },
    { key: "Dim3", kind: "slider", text: "The listener’s response is completely natural in the context of this conversation." },
    { key: "Dim4", kind: "slider", text: "I would like to continue the conversation with this listener." },
    { key: "Dim5", kind: "checkbox", text: "The listener’s responses were both understandable and consistent with the rest of the dialogue." }
  ],
  scale: { min: 0, max: 100, start: 50, anchors: ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"] }
}

export const sliders = (set: StatementSet) => set.statements.filter((s) => s.kind === "slider")
export const checkboxes = (set: StatementSet) => set.statements.filter((s) => s.kind === "checkbox")

/** Decodes a statements YAML text; a bad file fails with an InputError naming the field. */
export const parseStatements = (file: string, text: string): Effect.Effect<StatementSet, InputError> =>
  Effect.gen(function* () {
    const raw = yield* Effect.try({
      try: () => parseYaml(text) as unknown,
      catch: (cause) => new InputError({ file, reason: `not valid YAML: ${(cause as Error).message}` })
    })
    return yield* Schema.decodeUnknown(StatementSet)(raw).pipe(
      Effect.mapError((e) => new InputError({ file, reason: ParseResult.TreeFormatter.formatErrorSync(e) })))
  })
