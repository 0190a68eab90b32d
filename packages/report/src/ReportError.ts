import { causeText, UserError } from "@empo/core/Errors"
import * as Schema from "effect/Schema"

/** `--runs` named a run of another experiment. Exit code 2. */
export class RunNotInExperimentError extends UserError<RunNotInExperimentError>()("RunNotInExperimentError", {
  run: Schema.String,
  experiment: Schema.String,
  actual: Schema.String
}, {
  exitCode: 2,
  message: (e) => `--runs: run ${e.run} belongs to experiment ${e.actual}, not ${e.experiment}`
}) {}

/** Vega or resvg could not draw a figure (a bug in a spec, a broken font file). */
export class FigureError extends UserError<FigureError>()("FigureError", {
  figure: Schema.String,
  stage: Schema.Literal("svg", "png"),
  cause: Schema.Defect
}, {
  exitCode: 1,
  message: (e) => `could not draw figure ${e.figure} (${e.stage}): ${causeText(e.cause)}`
}) {}

/** The report folder could not be written. */
export class ReportWriteError extends UserError<ReportWriteError>()("ReportWriteError", {
  path: Schema.String,
  cause: Schema.Defect
}, {
  exitCode: 1,
  message: (e) => `could not write ${e.path}: ${causeText(e.cause)}`
}) {}
