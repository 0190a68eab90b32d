import type { RunId, StageId, SummaryRow } from "@empo/store"
import * as Effect from "effect/Effect"
import { analyze } from "./Analysis.ts"
import { HumanStore } from "./HumanStore.ts"
import { ratingsOfRows } from "./RatingsCsv.ts"

/**
 * A study's human scores as summary rows of the runs its conditions came from (`human.Dim1` … per run: the mean
 * of its item scores), so `empo compare --human STUDY` shows them beside the automatic metrics of the same runs.
 * Conditions from files or the gold turns have no run and are left out.
 */
export const humanSummaryRows = Effect.fn("HumanScores.summaryRows")(function* (studyId: string) {
  const store = yield* HumanStore
  const study = yield* store.getStudy(studyId)
  const conditions = yield* store.conditionsOf(studyId)
  const dims = study.statements.statements.map((s) => s.key)
  const result = analyze(ratingsOfRows(yield* store.ratingsOf(studyId)), { dims, tested: [] })
  const rows: Array<SummaryRow> = []
  for (const c of conditions) {
    const scores = result.conditions[c.name]
    if (c.runId === null || scores === undefined) continue
    for (const dim of dims) {
      rows.push({ runId: c.runId as RunId, stageId: `human:${studyId}` as StageId, key: `human.${dim}`, value: scores[dim]!.mean })
    }
  }
  return rows
})
