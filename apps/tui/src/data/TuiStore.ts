import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import { type ComparisonData, type MetricPointRecord, ParamValue, type RunDetail, RunId, RunStatus, RunStore, StageStatus, StoreError } from "@empo/store"
import type { ExperimentNotFoundError, RunNotFoundError } from "@empo/store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { HumanStore, type StudyProgress } from "@empo/human"

/** One line of the Experiments screen. */
export class ExperimentOverview extends Schema.Class<ExperimentOverview>("ExperimentOverview")({
  name: Schema.String,
  description: Schema.String,
  specFile: Schema.NullOr(Schema.String),
  total: Schema.Number,
  pending: Schema.Number,
  running: Schema.Number,
  completed: Schema.Number,
  failed: Schema.Number,
  interrupted: Schema.Number,
  /** Latest of the experiment's update and any run's start/finish (epoch ms). */
  lastActivity: Schema.Number
}) {}

/** One run of the Sweep screen: varying params, status, where it is and its summary metrics. */
export interface SweepRow {
  readonly id: RunId
  readonly label: string
  readonly seed: number
  readonly position: number
  /**
   * The run's status, except that a `running` run none of whose stages is executing (a live lease) is `queued`:
   * the runner marks every run of a sweep running when it starts, though only `concurrency` of them execute.
   */
  readonly status: RunStatus | "queued"
  readonly params: Readonly<Record<string, ParamValue>>
  /** The first stage that is not completed (the one running, failed or next), null when all are done. */
  readonly stage: { readonly name: string; readonly status: StageStatus; readonly done: number; readonly total: number } | null
  /** First line of the error of a failed or interrupted stage. */
  readonly error: string | null
  readonly summary: Readonly<Record<string, number>>
}

const RunRow = Schema.Struct({ id: RunId, label: Schema.String, seed: Schema.Number, position: Schema.Number, status: RunStatus })
const ParamRow = Schema.Struct({ runId: RunId, key: Schema.String, value: Schema.parseJson(ParamValue) })
const StageRow = Schema.Struct({
  runId: RunId, name: Schema.String, status: StageStatus, error: Schema.NullOr(Schema.String), leaseExpiresAt: Schema.NullOr(Schema.Number)
})
/** A summary metric of a run, as `RunStore.summaryOf` names it. */
interface SummaryRow { readonly runId: RunId; readonly key: string; readonly value: number }
const ChangeRow = Schema.Struct({ dataVersion: Schema.Number, changes: Schema.Number })

/** Folds the per-run rows of one experiment into table rows. Pure. */
export const assembleSweepRows = (
  runs: ReadonlyArray<typeof RunRow.Type>,
  params: ReadonlyArray<typeof ParamRow.Type>,
  stages: ReadonlyArray<typeof StageRow.Type>,
  summary: ReadonlyArray<SummaryRow>,
  /** Epoch millis: leases that end before it belong to runners that are gone. */
  now: number
): Array<SweepRow> => {
  const paramsOf = new Map<string, Record<string, ParamValue>>()
  for (const p of params) (paramsOf.get(p.runId) ?? paramsOf.set(p.runId, {}).get(p.runId)!)[p.key] = p.value
  const stagesOf = new Map<string, Array<typeof StageRow.Type>>()
  for (const s of stages) (stagesOf.get(s.runId) ?? stagesOf.set(s.runId, []).get(s.runId)!).push(s)
  const summaryOf = new Map<string, Record<string, number>>()
  for (const m of summary) (summaryOf.get(m.runId) ?? summaryOf.set(m.runId, {}).get(m.runId)!)[m.key] = m.value
  return runs.map((run) => {
    const own = stagesOf.get(run.id) ?? []
    const current = own.find((s) => s.status !== "completed")
    const failed = own.find((s) => (s.status === "failed" || s.status === "interrupted") && s.error !== null)
    const executing = own.some((s) => s.status === "running" && s.leaseExpiresAt !== null && s.leaseExpiresAt > now)
    return {
      ...run,
      status: run.status === "running" && !executing ? "queued" as const : run.status,
      params: paramsOf.get(run.id) ?? {},
      stage: current === undefined ? null : { name: current.name, status: current.status, done: own.filter((s) => s.status === "completed").length, total: own.length },
      error: failed?.error?.split("\n")[0] ?? null,
      summary: summaryOf.get(run.id) ?? {}
    }
  })
}

type Fx<A, E = StoreError> = Effect.Effect<A, E>

/**
 * The TUI's read side. Built on the run store's own queries where they exist (`showRun`,
 * `metricPointsSince`, `comparisonData`); the aggregate reads the screens need are here, on the same
 * SqlClient, so the store package stays the writer's.
 */
export class TuiStore extends Context.Tag("@empo/tui/TuiStore")<TuiStore, {
  /** Changes whenever any connection (the runner's included) commits: screens re-query only then. */
  readonly changeToken: () => Fx<string>
  readonly experiments: () => Fx<ReadonlyArray<ExperimentOverview>>
  readonly sweep: (experiment: string) => Fx<ReadonlyArray<SweepRow>>
  readonly runDetail: (runId: string) => Fx<RunDetail, StoreError | RunNotFoundError>
  readonly metricPointsSince: (runId: RunId, afterId: number, limit?: number) => Fx<ReadonlyArray<MetricPointRecord>>
  readonly comparison: (experiment: string) => Fx<ComparisonData, StoreError | ExperimentNotFoundError>
  /** Human-evaluation studies with their progress (packages/human), oldest first. */
  readonly studies: () => Fx<ReadonlyArray<StudyProgress>>
}>() {
  static readonly layer: Layer.Layer<TuiStore, never, SqlClient.SqlClient | RunStore> = Layer.effect(
    TuiStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const store = yield* RunStore
      const fail = (operation: string) => (cause: SqlError.SqlError | ParseResult.ParseError) => new StoreError({ operation, cause })
      const decodeAll = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknown(Schema.Array(schema))

      const changeToken = Effect.fn("TuiStore.changeToken")(function* () {
        // data_version moves on other connections' commits, total_changes() on this connection's own writes.
        const rows = yield* sql`SELECT (SELECT data_version FROM pragma_data_version) AS data_version, total_changes() AS changes`.pipe(
          Effect.flatMap(decodeAll(ChangeRow)), Effect.mapError(fail("read the change counter")))
        const row = rows[0]!
        return `${row.dataVersion}:${row.changes}`
      })

      const experiments = Effect.fn("TuiStore.experiments")(function* () {
        // Only runs with a stage under a live lease are executing; the others of a started sweep wait (pending).
        const executing = sql`EXISTS (SELECT 1 FROM run_stages rs JOIN stages s ON s.id = rs.stage_id
          WHERE rs.run_id = r.id AND s.status = 'running' AND s.lease_expires_at > ${Date.now()})`
        return yield* sql`SELECT e.name, e.description, e.spec_file,
            COUNT(r.id) AS total,
            COALESCE(SUM(r.status = 'pending' OR (r.status = 'running' AND NOT ${executing})), 0) AS pending,
            COALESCE(SUM(r.status = 'running' AND ${executing}), 0) AS running,
            COALESCE(SUM(r.status = 'completed'), 0) AS completed,
            COALESCE(SUM(r.status = 'failed'), 0) AS failed,
            COALESCE(SUM(r.status = 'interrupted'), 0) AS interrupted,
            MAX(e.updated_at, COALESCE(MAX(r.started_at), 0), COALESCE(MAX(r.finished_at), 0)) AS last_activity
          FROM experiments e LEFT JOIN runs r ON r.experiment = e.name
          GROUP BY e.name ORDER BY last_activity DESC, e.name`.pipe(
          Effect.flatMap(decodeAll(ExperimentOverview)), Effect.mapError(fail("list experiments")))
      })

      const sweep = Effect.fn("TuiStore.sweep")(function* (experiment: string) {
        const runs = yield* sql`SELECT id, label, seed, position, status FROM runs WHERE experiment = ${experiment} ORDER BY position`.pipe(
          Effect.flatMap(decodeAll(RunRow)), Effect.mapError(fail("read runs")))
        const params = yield* sql`SELECT p.run_id, p.key, p.value_json AS value FROM params p JOIN runs r ON r.id = p.run_id
          WHERE r.experiment = ${experiment}`.pipe(Effect.flatMap(decodeAll(ParamRow)), Effect.mapError(fail("read params")))
        const stages = yield* sql`SELECT rs.run_id, rs.name, s.status, s.error, s.lease_expires_at FROM runs r JOIN run_stages rs ON rs.run_id = r.id
          JOIN stages s ON s.id = rs.stage_id WHERE r.experiment = ${experiment} ORDER BY r.position, rs.position`.pipe(
          Effect.flatMap(decodeAll(StageRow)), Effect.mapError(fail("read stages")))
        // The store names summaries by stage role (`sft.loss`, `preference.loss`): one reader for every screen.
        const summary = yield* store.summaryOf(experiment)
        return assembleSweepRows(runs, params, stages, summary, Date.now())
      })

      const runDetail = Effect.fn("TuiStore.runDetail")(function* (runId: string) {
        return yield* store.showRun(runId)
      })
      const metricPointsSince = Effect.fn("TuiStore.metricPointsSince")(function* (runId: RunId, afterId: number, limit?: number) {
        return yield* store.metricPointsSince(runId, afterId, limit)
      })
      const comparison = Effect.fn("TuiStore.comparison")(function* (experiment: string) {
        return yield* store.comparisonData(experiment)
      })

      // The human tables live in the same store; their service needs only this connection.
      const studies = () => Effect.flatMap(HumanStore, (h) => h.listStudies()).pipe(
        Effect.provide(HumanStore.layerNoDeps), Effect.provideService(SqlClient.SqlClient, sql))

      return TuiStore.of({ changeToken, experiments, sweep, runDetail, metricPointsSince, comparison, studies })
    })
  )
}
