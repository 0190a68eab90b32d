import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqliteMigrator from "@effect/sql-sqlite-node/SqliteMigrator"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Str from "effect/String"
import Database from "better-sqlite3"
import { legacySummaryKey, migrations, summaryRolesMigration } from "./internal/migrations.ts"
import {
  ArtifactRecord,
  type ComparisonData,
  ExperimentRecord,
  ExperimentStageRecord,
  ItemScoreRow,
  type ItemScores,
  type MetricPoint,
  MetricPointRecord,
  ParamRecord,
  ParamRow,
  type ParamValue,
  type RunDetail,
  type RunId,
  type RunItemScores,
  RunRecord,
  RunStageRecord,
  type RunStatus,
  StageAttemptRecord,
  type StageExecution,
  StageJobRecord,
  type NewStageJob,
  type StageJobState,
  StageRecord,
  type StageId,
  SummaryRow,
  type StageStatus,
  SummaryRecord
} from "./Records.ts"
import { ExperimentNotFoundError, NotARunStoreError, RunNotFoundError, RunStoreMissingError, StoreError } from "./StoreError.ts"

/** Where the store lives when neither `--db` nor `EMPO_DB` says otherwise (relative to the working directory). */
export const defaultStorePath = ".empo/empo.db"

/** A run to register, with its flattened params and the stages it needs in order. */
export interface NewRun {
  readonly id: RunId
  readonly experiment: string
  readonly label: string
  readonly seed: number
  readonly position: number
  readonly config: unknown
  readonly params: Readonly<Record<string, ParamValue>>
  readonly stages: ReadonlyArray<{ readonly stageId: StageId; readonly name: string }>
}

/** A stage to register (content-addressed: registering it twice is a no-op). */
export interface NewStage {
  readonly id: StageId
  readonly kind: string
  readonly inputs: unknown
  readonly outputDir: string
}

/** A file a stage produced, to record once it is complete and renamed into place. */
export interface NewArtifact {
  readonly stageId: StageId
  readonly name: string
  readonly kind: string
  readonly path: string
  readonly sha256: string
  readonly size: number
}

/** Filters of `runs ls`. */
export interface RunFilter {
  readonly experiment?: string | undefined
  readonly status?: ReadonlyArray<RunStatus> | undefined
}

type StoreEffect<A> = Effect.Effect<A, StoreError>

/** Why a batch of per-item scores cannot be stored as given (series not aligned with the items, a key twice). */
const itemScoresProblem = (scores: ReadonlyArray<ItemScores>): string | undefined => {
  const seen = new Set<string>()
  const metrics = new Set<string>()
  for (const { metric, itemIds, perItem } of scores) {
    if (metrics.has(metric)) return `metric ${metric} appears twice`
    metrics.add(metric)
    for (const [key, series] of Object.entries(perItem)) {
      if (seen.has(key)) return `key ${key} appears twice`
      seen.add(key)
      if (series.length !== itemIds.length) return `${metric} key ${key} has ${series.length} values for ${itemIds.length} items`
    }
  }
  return undefined
}

/**
 * The one place runs are persisted: the runner writes (a single writer), `runs`, `compare` and the TUI
 * read, possibly from other processes at the same time (WAL).
 */
export class RunStore extends Context.Tag("@empo/store/RunStore")<RunStore, {
  readonly upsertExperiment: (e: { readonly name: string; readonly description: string; readonly specFile: string | null; readonly spec: unknown }) => StoreEffect<void>
  readonly registerStage: (stage: NewStage) => StoreEffect<StageRecord>
  readonly registerRun: (run: NewRun) => StoreEffect<void>
  readonly getStage: (id: StageId) => StoreEffect<Option.Option<StageRecord>>
  readonly stagesOf: (experiment: string) => StoreEffect<ReadonlyArray<ExperimentStageRecord>>
  /**
   * Marks the experiment's `running` stages whose lease has expired (or that never had one: rows from before
   * leases) as `interrupted`, closing their attempt; a stage with a live lease is left alone. Returns their ids.
   */
  readonly recoverInterrupted: (experiment: string) => StoreEffect<ReadonlyArray<StageId>>
  /** Starts a new attempt: the stage is `running` under a lease of `leaseMillis` from now. */
  readonly stageStarted: (id: StageId, execution: StageExecution) => StoreEffect<void>
  /** A heartbeat: extends a running stage's lease to `leaseMillis` from now; false when it is no longer running. */
  readonly renewLease: (id: StageId, leaseMillis: number) => StoreEffect<boolean>
  /** Records the scheduler's job id of the stage's current attempt, once the scheduler has given one. */
  readonly recordJob: (id: StageId, jobId: string) => StoreEffect<void>
  readonly stageCompleted: (id: StageId) => StoreEffect<void>
  /** Records a remote job of the stage's current attempt (state `submitted`) before it is launched; sets the stage's job id. */
  readonly recordStageJob: (job: NewStageJob) => StoreEffect<void>
  /** Updates a remote job: its state, the engine's id and locator once launched, the protocol lines applied. */
  readonly updateStageJob: (jobKey: string, update: { readonly state?: StageJobState; readonly jobId?: string; readonly locator?: unknown; readonly linesRead?: number }) => StoreEffect<void>
  /** The stage's remote jobs, oldest first (the open one, if any, is the last `submitted`/`launched`). */
  readonly stageJobsOf: (id: StageId) => StoreEffect<ReadonlyArray<StageJobRecord>>
  readonly stageFailed: (id: StageId, failure: { readonly error: string; readonly stderrTail: string | null; readonly status?: "failed" | "interrupted" }) => StoreEffect<void>
  /** Every recorded attempt at a stage, first to last. */
  readonly attemptsOf: (id: StageId) => StoreEffect<ReadonlyArray<StageAttemptRecord>>
  readonly setRunStatus: (id: RunId, status: RunStatus) => StoreEffect<void>
  readonly appendMetricPoints: (points: ReadonlyArray<MetricPoint>) => StoreEffect<void>
  /** Removes a stage's metric points (a reattached remote stage replays its job's events from the start). */
  readonly deleteMetricPoints: (stageId: StageId) => StoreEffect<void>
  readonly setSummaryMetrics: (stageId: StageId, values: Readonly<Record<string, number>>) => StoreEffect<void>
  /** Replaces a stage's per-item scores with these, in one transaction. */
  readonly recordItemScores: (stageId: StageId, scores: ReadonlyArray<ItemScores>) => StoreEffect<void>
  /** Per-item scores of every run of an experiment (of `keys` only, when given), one entry per run and key. */
  readonly itemScoresOf: (experiment: string, keys?: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<RunItemScores>, StoreError | ExperimentNotFoundError>
  readonly recordArtifact: (artifact: NewArtifact) => StoreEffect<ArtifactRecord>
  readonly recordLineage: (stageId: StageId, artifactIds: ReadonlyArray<number>) => StoreEffect<void>
  readonly artifactsOf: (stageId: StageId) => StoreEffect<ReadonlyArray<ArtifactRecord>>
  readonly listExperiments: () => StoreEffect<ReadonlyArray<ExperimentRecord>>
  readonly listRuns: (filter?: RunFilter) => StoreEffect<ReadonlyArray<RunRecord>>
  /** Resolves a full id or a unique prefix, of a current id or of an id a run had before a re-keying migration. */
  readonly resolveRunId: (idOrPrefix: string) => Effect.Effect<RunId, StoreError | RunNotFoundError>
  readonly showRun: (idOrPrefix: string) => Effect.Effect<RunDetail, StoreError | RunNotFoundError>
  /** Metric points of every stage of a run with row id > `afterId`, oldest first, so a UI can tail. */
  readonly metricPointsSince: (runId: RunId, afterId: number, limit?: number) => StoreEffect<ReadonlyArray<MetricPointRecord>>
  readonly comparisonData: (experiment: string) => Effect.Effect<ComparisonData, StoreError | ExperimentNotFoundError>
  /**
   * Summary metrics of every run of an experiment (none for an unknown one), keyed `<role>.<key>` by the stage's
   * role in the run (`sft.loss`, `preference.loss`, `dataset-sft.rows`) or `<metric>.<key>` for evaluations.
   */
  readonly summaryOf: (experiment: string) => StoreEffect<ReadonlyArray<SummaryRow>>
  readonly integrityCheck: () => StoreEffect<string>
}>() {
  static readonly layerNoDeps: Layer.Layer<RunStore, StoreError, SqlClient.SqlClient> = Layer.effect(
    RunStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const fail = (operation: string) => (cause: SqlError.SqlError | ParseResult.ParseError) => new StoreError({ operation, cause })
      const decodeAll = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknown(Schema.Array(schema))
      // A database opened read-only is not migrated: reads skip what its schema does not have yet.
      const tables = new Set((yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.pipe(
        Effect.mapError(fail("read the schema")))).map((t) => t.name))
      const migrated = tables.has("effect_sql_migrations")
        ? (yield* sql<{ latest: number | null }>`SELECT MAX(migration_id) AS latest FROM effect_sql_migrations`.pipe(
          Effect.mapError(fail("read the schema"))))[0]?.latest ?? 0
        : 0
      // A store read before migration 0005 (read-only, so never migrated) still shows keys named by stage role.
      const summaryKey = migrated >= summaryRolesMigration
        ? sql.literal("m.key")
        : sql.literal(legacySummaryKey({ key: "m.key", kind: "(SELECT s.kind FROM stages s WHERE s.id = m.stage_id)", role: "rs.name" }))

      const upsertExperiment = Effect.fn("RunStore.upsertExperiment")(function* (e: { readonly name: string; readonly description: string; readonly specFile: string | null; readonly spec: unknown }) {
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO experiments (name, description, spec_file, spec_json, created_at, updated_at)
          VALUES (${e.name}, ${e.description}, ${e.specFile}, ${JSON.stringify(e.spec)}, ${now}, ${now})
          ON CONFLICT (name) DO UPDATE SET description = excluded.description, spec_file = excluded.spec_file,
            spec_json = excluded.spec_json, updated_at = excluded.updated_at`.pipe(Effect.mapError(fail("upsert experiment")))
      })

      const getStage = Effect.fn("RunStore.getStage")(function* (id: StageId) {
        const rows = yield* sql`SELECT * FROM stages WHERE id = ${id}`.pipe(
          Effect.flatMap(decodeAll(StageRecord)),
          Effect.mapError(fail("read stage"))
        )
        return Option.fromNullable(rows[0])
      })

      const registerStage = Effect.fn("RunStore.registerStage")(function* (stage: NewStage) {
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO stages (id, kind, inputs_json, output_dir, created_at)
          VALUES (${stage.id}, ${stage.kind}, ${JSON.stringify(stage.inputs)}, ${stage.outputDir}, ${now})
          ON CONFLICT (id) DO NOTHING`.pipe(Effect.mapError(fail("register stage")))
        const row = yield* getStage(stage.id)
        return Option.getOrThrow(row)
      })

      const registerRun = Effect.fn("RunStore.registerRun")(function* (run: NewRun) {
        const now = yield* Clock.currentTimeMillis
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* sql`INSERT INTO runs (id, experiment, label, seed, position, config_json, created_at)
            VALUES (${run.id}, ${run.experiment}, ${run.label}, ${run.seed}, ${run.position}, ${JSON.stringify(run.config)}, ${now})
            ON CONFLICT (id) DO UPDATE SET position = excluded.position, label = excluded.label`
          const params = Object.entries(run.params).map(([key, value]) => ({
            runId: run.id, key, valueJson: JSON.stringify(value), valueNum: typeof value === "number" ? value : null
          }))
          if (params.length > 0) yield* sql`INSERT OR REPLACE INTO params ${sql.insert(params)}`
          const stages = run.stages.map((s, position) => ({ runId: run.id, stageId: s.stageId, name: s.name, position }))
          if (stages.length > 0) yield* sql`INSERT OR REPLACE INTO run_stages ${sql.insert(stages)}`
        })).pipe(Effect.mapError(fail("register run")))
      })

      const stagesOf = Effect.fn("RunStore.stagesOf")(function* (experiment: string) {
        return yield* sql`SELECT s.*, rs.name, rs.position, rs.run_id FROM run_stages rs
          JOIN runs r ON r.id = rs.run_id JOIN stages s ON s.id = rs.stage_id
          WHERE r.experiment = ${experiment} ORDER BY r.position, rs.position`.pipe(
          Effect.flatMap(decodeAll(ExperimentStageRecord)),
          Effect.mapError(fail("read stages"))
        )
      })

      const interruptedByRunner = "the runner stopped while this stage was running"

      // The attempt a stage is on is its `attempts` counter, so closing one is one UPDATE keyed by the primary key.
      const closeAttempt = (id: StageId, status: StageStatus, error: string | null, now: number) =>
        sql`UPDATE stage_attempts SET status = ${status}, finished_at = ${now}, error = ${error}
          WHERE stage_id = ${id} AND attempt = (SELECT attempts FROM stages WHERE id = ${id}) AND status = 'running'`

      const recoverInterrupted = Effect.fn("RunStore.recoverInterrupted")(function* (experiment: string) {
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(Effect.gen(function* () {
          const rows = yield* sql<{ id: StageId }>`UPDATE stages SET status = 'interrupted', finished_at = ${now},
              error = ${interruptedByRunner}, lease_expires_at = NULL
            WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= ${now})
              AND id IN (SELECT rs.stage_id FROM run_stages rs JOIN runs r ON r.id = rs.run_id WHERE r.experiment = ${experiment})
            RETURNING id`
          for (const row of rows) yield* closeAttempt(row.id, "interrupted", interruptedByRunner, now)
          return rows.map((r) => r.id)
        })).pipe(Effect.mapError(fail("recover interrupted stages")))
      })

      const stageStarted = Effect.fn("RunStore.stageStarted")(function* (id: StageId, execution: StageExecution) {
        const now = yield* Clock.currentTimeMillis
        const jobId = execution.jobId ?? null
        yield* sql.withTransaction(Effect.gen(function* () {
          const rows = yield* sql<{ attempts: number }>`UPDATE stages SET status = 'running', attempts = attempts + 1, started_at = ${now},
            finished_at = NULL, executor = ${execution.executor}, host = ${execution.host}, pid = ${execution.pid}, job_id = ${jobId},
            lease_expires_at = ${now + execution.leaseMillis}, heartbeat_at = ${now}, error = NULL, stderr_tail = NULL
            WHERE id = ${id} RETURNING attempts`
          const attempt = rows[0]?.attempts
          if (attempt === undefined) return
          yield* sql`INSERT OR REPLACE INTO stage_attempts (stage_id, attempt, executor, host, pid, job_id, started_at, status)
            VALUES (${id}, ${attempt}, ${execution.executor}, ${execution.host}, ${execution.pid}, ${jobId}, ${now}, 'running')`
        })).pipe(Effect.mapError(fail("start stage")))
      })

      const renewLease = Effect.fn("RunStore.renewLease")(function* (id: StageId, leaseMillis: number) {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<{ id: StageId }>`UPDATE stages SET heartbeat_at = ${now}, lease_expires_at = ${now + leaseMillis}
          WHERE id = ${id} AND status = 'running' RETURNING id`.pipe(Effect.mapError(fail("renew stage lease")))
        return rows.length > 0
      })

      const recordJob = Effect.fn("RunStore.recordJob")(function* (id: StageId, jobId: string) {
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* sql`UPDATE stages SET job_id = ${jobId} WHERE id = ${id}`
          yield* sql`UPDATE stage_attempts SET job_id = ${jobId} WHERE stage_id = ${id} AND attempt = (SELECT attempts FROM stages WHERE id = ${id})`
        })).pipe(Effect.mapError(fail("record stage job")))
      })

      const recordStageJob = Effect.fn("RunStore.recordStageJob")(function* (job: NewStageJob) {
        const now = yield* Clock.currentTimeMillis
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* sql`INSERT INTO stage_jobs (job_key, stage_id, attempt, executor, kind, host, job_id, locator_json, state, lines_read, created_at, updated_at)
            VALUES (${job.jobKey}, ${job.stageId}, (SELECT attempts FROM stages WHERE id = ${job.stageId}), ${job.executor}, ${job.kind},
              ${job.host}, ${job.jobId}, ${JSON.stringify(job.locator)}, 'submitted', 0, ${now}, ${now})`
          yield* sql`UPDATE stages SET job_id = ${job.jobId} WHERE id = ${job.stageId}`
          yield* sql`UPDATE stage_attempts SET job_id = ${job.jobId} WHERE stage_id = ${job.stageId} AND attempt = (SELECT attempts FROM stages WHERE id = ${job.stageId})`
        })).pipe(Effect.mapError(fail("record stage job")))
      })

      const updateStageJob = Effect.fn("RunStore.updateStageJob")(function* (
        jobKey: string,
        update: { readonly state?: StageJobState; readonly jobId?: string; readonly locator?: unknown; readonly linesRead?: number }
      ) {
        const now = yield* Clock.currentTimeMillis
        const locator = update.locator === undefined ? null : JSON.stringify(update.locator)
        yield* sql.withTransaction(Effect.gen(function* () {
          const rows = yield* sql<{ stageId: StageId }>`UPDATE stage_jobs SET state = COALESCE(${update.state ?? null}, state),
            job_id = COALESCE(${update.jobId ?? null}, job_id), locator_json = COALESCE(${locator}, locator_json),
            lines_read = COALESCE(${update.linesRead ?? null}, lines_read), updated_at = ${now}
            WHERE job_key = ${jobKey} RETURNING stage_id`
          const stageId = rows[0]?.stageId
          if (update.jobId === undefined || stageId === undefined) return
          yield* sql`UPDATE stages SET job_id = ${update.jobId} WHERE id = ${stageId}`
          yield* sql`UPDATE stage_attempts SET job_id = ${update.jobId} WHERE stage_id = ${stageId} AND attempt = (SELECT attempts FROM stages WHERE id = ${stageId})`
        })).pipe(Effect.mapError(fail("update stage job")))
      })

      const stageJobsOf = Effect.fn("RunStore.stageJobsOf")(function* (id: StageId) {
        if (!tables.has("stage_jobs")) return []
        return yield* sql`SELECT * FROM stage_jobs WHERE stage_id = ${id} ORDER BY created_at, rowid`.pipe(
          Effect.flatMap(decodeAll(StageJobRecord)), Effect.mapError(fail("read stage jobs")))
      })

      const stageCompleted = Effect.fn("RunStore.stageCompleted")(function* (id: StageId) {
        const now = yield* Clock.currentTimeMillis
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* closeAttempt(id, "completed", null, now)
          yield* sql`UPDATE stages SET status = 'completed', finished_at = ${now}, lease_expires_at = NULL WHERE id = ${id}`
        })).pipe(Effect.mapError(fail("complete stage")))
      })

      const stageFailed = Effect.fn("RunStore.stageFailed")(function* (
        id: StageId,
        failure: { readonly error: string; readonly stderrTail: string | null; readonly status?: "failed" | "interrupted" }
      ) {
        const now = yield* Clock.currentTimeMillis
        const status: StageStatus = failure.status ?? "failed"
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* closeAttempt(id, status, failure.error, now)
          yield* sql`UPDATE stages SET status = ${status}, finished_at = ${now}, error = ${failure.error},
            stderr_tail = ${failure.stderrTail}, lease_expires_at = NULL WHERE id = ${id}`
        })).pipe(Effect.mapError(fail("fail stage")))
      })

      const attemptsOf = Effect.fn("RunStore.attemptsOf")(function* (id: StageId) {
        if (!tables.has("stage_attempts")) return []
        return yield* sql`SELECT * FROM stage_attempts WHERE stage_id = ${id} ORDER BY attempt`.pipe(
          Effect.flatMap(decodeAll(StageAttemptRecord)), Effect.mapError(fail("read stage attempts")))
      })

      const setRunStatus = Effect.fn("RunStore.setRunStatus")(function* (id: RunId, status: RunStatus) {
        const now = yield* Clock.currentTimeMillis
        yield* sql`UPDATE runs SET status = ${status},
          started_at = CASE WHEN ${status} = 'running' AND started_at IS NULL THEN ${now} ELSE started_at END,
          finished_at = CASE WHEN ${status} IN ('completed', 'failed', 'interrupted') THEN ${now} ELSE NULL END
          WHERE id = ${id}`.pipe(Effect.mapError(fail("set run status")))
      })

      // Multi-row INSERTs inside one transaction, from one prepared statement per chunk size: building the
      // statement with `sql.insert` costs more than SQLite's own work at 100,000 points/s. 5 columns × 400 rows
      // stays far below SQLite's 32,766 bound parameters.
      const chunkSize = 400
      const insertPointsSql = (rows: number) =>
        `INSERT INTO metric_points (stage_id, key, step, value, time) VALUES ${Array.from({ length: rows }, () => "(?,?,?,?,?)").join(",")}`
      const fullChunkSql = insertPointsSql(chunkSize)
      const appendMetricPoints = Effect.fn("RunStore.appendMetricPoints")(function* (points: ReadonlyArray<MetricPoint>) {
        if (points.length === 0) return
        yield* sql.withTransaction(Effect.gen(function* () {
          for (let start = 0; start < points.length; start += chunkSize) {
            const end = Math.min(points.length, start + chunkSize)
            const values = new Array<unknown>((end - start) * 5)
            for (let i = start, j = 0; i < end; i++) {
              const p = points[i]!
              values[j++] = p.stageId
              values[j++] = p.key
              values[j++] = p.step
              values[j++] = p.value
              values[j++] = p.time
            }
            yield* sql.unsafe(end - start === chunkSize ? fullChunkSql : insertPointsSql(end - start), values)
          }
        })).pipe(Effect.mapError(fail("append metric points")))
      })

      const deleteMetricPoints = Effect.fn("RunStore.deleteMetricPoints")(function* (stageId: StageId) {
        yield* sql`DELETE FROM metric_points WHERE stage_id = ${stageId}`.pipe(Effect.mapError(fail("delete metric points")))
      })

      const setSummaryMetrics = Effect.fn("RunStore.setSummaryMetrics")(function* (stageId: StageId, values: Readonly<Record<string, number>>) {
        const rows = Object.entries(values).filter(([, v]) => Number.isFinite(v)).map(([key, value]) => ({ stageId, key, value }))
        if (rows.length === 0) return
        yield* sql`INSERT OR REPLACE INTO summary_metrics ${sql.insert(rows)}`.pipe(Effect.mapError(fail("write summary metrics")))
      })

      const recordItemScores = Effect.fn("RunStore.recordItemScores")(function* (stageId: StageId, scores: ReadonlyArray<ItemScores>) {
        const problem = itemScoresProblem(scores)
        if (problem !== undefined) return yield* new StoreError({ operation: `record item scores of ${stageId}`, cause: new Error(problem) })
        const sets = scores.map(({ metric, itemIds }) => ({ stageId, metric, itemIdsJson: JSON.stringify(itemIds) }))
        // JSON.stringify writes NaN (and ±Infinity) as null, which reads back as NaN.
        const rows = scores.flatMap(({ metric, perItem }) =>
          Object.entries(perItem).map(([key, series]) => ({ stageId, metric, key, valuesJson: JSON.stringify(series) })))
        yield* sql.withTransaction(Effect.gen(function* () {
          yield* sql`DELETE FROM item_scores WHERE stage_id = ${stageId}`
          yield* sql`DELETE FROM item_sets WHERE stage_id = ${stageId}`
          if (sets.length > 0) yield* sql`INSERT INTO item_sets ${sql.insert(sets)}`
          if (rows.length > 0) yield* sql`INSERT INTO item_scores ${sql.insert(rows)}`
        })).pipe(Effect.mapError(fail(`record item scores of ${stageId}`)))
      })

      const itemScoresOf = Effect.fn("RunStore.itemScoresOf")(function* (experiment: string, keys?: ReadonlyArray<string>) {
        const runs = yield* listRuns({ experiment })
        if (runs.length === 0) {
          const known = yield* listExperiments()
          return yield* new ExperimentNotFoundError({ name: experiment, known: known.map((e) => e.name) })
        }
        if (!tables.has("item_scores") || keys?.length === 0) return []
        const raw = sql.withoutTransforms()
        const onlyKeys = keys === undefined ? raw`1 = 1` : raw.in("s.key", keys)
        const rows = yield* raw`SELECT rs.run_id AS "runId", s.stage_id AS "stageId", s.metric AS "metric", s.key AS "key",
            i.item_ids_json AS "itemIds", s.values_json AS "values"
          FROM runs r JOIN run_stages rs ON rs.run_id = r.id JOIN item_scores s ON s.stage_id = rs.stage_id
          JOIN item_sets i ON i.stage_id = s.stage_id AND i.metric = s.metric
          WHERE r.experiment = ${experiment} AND ${onlyKeys}
          ORDER BY r.position, rs.position, s.key`.pipe(Effect.flatMap(decodeAll(ItemScoreRow)), Effect.mapError(fail("read item scores")))
        const entries: Array<RunItemScores> = []
        for (const row of rows) {
          if (row.values.length !== row.itemIds.length) {
            return yield* new StoreError({
              operation: "read item scores",
              cause: new Error(`${row.stageId} key ${row.key} has ${row.values.length} values for ${row.itemIds.length} items`)
            })
          }
          entries.push({ ...row, values: row.values.map((v) => v ?? Number.NaN) })
        }
        return entries
      })

      const recordArtifact = Effect.fn("RunStore.recordArtifact")(function* (a: NewArtifact) {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql`INSERT INTO artifacts (stage_id, name, kind, path, sha256, size, created_at)
          VALUES (${a.stageId}, ${a.name}, ${a.kind}, ${a.path}, ${a.sha256}, ${a.size}, ${now})
          ON CONFLICT (stage_id, name) DO UPDATE SET kind = excluded.kind, path = excluded.path, sha256 = excluded.sha256,
            size = excluded.size, created_at = excluded.created_at
          RETURNING *`.pipe(Effect.flatMap(decodeAll(ArtifactRecord)), Effect.mapError(fail("record artifact")))
        return rows[0]!
      })

      const recordLineage = Effect.fn("RunStore.recordLineage")(function* (stageId: StageId, artifactIds: ReadonlyArray<number>) {
        if (artifactIds.length === 0) return
        yield* sql`INSERT OR IGNORE INTO lineage ${sql.insert(artifactIds.map((artifactId) => ({ stageId, artifactId })))}`.pipe(
          Effect.mapError(fail("record lineage"))
        )
      })

      const artifactsOf = Effect.fn("RunStore.artifactsOf")(function* (stageId: StageId) {
        return yield* sql`SELECT * FROM artifacts WHERE stage_id = ${stageId} ORDER BY id`.pipe(
          Effect.flatMap(decodeAll(ArtifactRecord)), Effect.mapError(fail("read artifacts")))
      })

      const listExperiments = Effect.fn("RunStore.listExperiments")(function* () {
        return yield* sql`SELECT * FROM experiments ORDER BY updated_at DESC`.pipe(
          Effect.flatMap(decodeAll(ExperimentRecord)), Effect.mapError(fail("list experiments")))
      })

      const listRuns = Effect.fn("RunStore.listRuns")(function* (filter: RunFilter = {}) {
        const conditions = [
          ...(filter.experiment === undefined ? [] : [sql`experiment = ${filter.experiment}`]),
          ...(filter.status === undefined || filter.status.length === 0 ? [] : [sql.in("status", filter.status)])
        ]
        return yield* sql`SELECT * FROM runs WHERE ${sql.and(conditions)} ORDER BY created_at, experiment, position`.pipe(
          Effect.flatMap(decodeAll(RunRecord)), Effect.mapError(fail("list runs")))
      })

      const resolveRunId = Effect.fn("RunStore.resolveRunId")(function* (idOrPrefix: string) {
        const upper = idOrPrefix + "\uffff"
        const rows = yield* sql<{ id: RunId }>`SELECT id FROM runs WHERE id >= ${idOrPrefix} AND id < ${upper} LIMIT 11`.pipe(
          Effect.mapError(fail("resolve run id")))
        const exact = rows.find((r) => r.id === idOrPrefix)
        if (exact !== undefined) return exact.id
        const aliases = tables.has("run_aliases")
          ? yield* sql<{ oldId: string; runId: RunId }>`SELECT old_id, run_id FROM run_aliases
              WHERE old_id >= ${idOrPrefix} AND old_id < ${upper} LIMIT 11`.pipe(Effect.mapError(fail("resolve run id")))
          : []
        const exactAlias = aliases.find((a) => a.oldId === idOrPrefix)
        if (exactAlias !== undefined) return exactAlias.runId
        // A prefix of a run's old and new ids (or of two old ids that merged) still names one run.
        const candidates = [...new Set([...rows.map((r) => r.id), ...aliases.map((a) => a.runId)])]
        if (candidates.length === 1) return candidates[0]!
        return yield* new RunNotFoundError({ runId: idOrPrefix, candidates })
      })

      const showRun = Effect.fn("RunStore.showRun")(function* (idOrPrefix: string) {
        const id = yield* resolveRunId(idOrPrefix)
        const run = yield* sql`SELECT * FROM runs WHERE id = ${id}`.pipe(Effect.flatMap(decodeAll(RunRecord)), Effect.mapError(fail("read run")))
        const params = yield* sql`SELECT run_id, key, value_json AS value FROM params WHERE run_id = ${id} ORDER BY key`.pipe(
          Effect.flatMap(decodeAll(ParamRecord)), Effect.mapError(fail("read params")))
        const stages = yield* sql`SELECT s.*, rs.name, rs.position FROM run_stages rs JOIN stages s ON s.id = rs.stage_id
          WHERE rs.run_id = ${id} ORDER BY rs.position`.pipe(Effect.flatMap(decodeAll(RunStageRecord)), Effect.mapError(fail("read stages")))
        const summary = yield* sql`SELECT rs.run_id, m.stage_id, ${summaryKey} AS key, m.value FROM run_stages rs
          JOIN summary_metrics m ON m.stage_id = rs.stage_id WHERE rs.run_id = ${id} ORDER BY rs.position, m.key`.pipe(
          Effect.flatMap(decodeAll(SummaryRecord)), Effect.mapError(fail("read summary metrics")))
        const artifacts = yield* sql`SELECT a.* FROM run_stages rs JOIN artifacts a ON a.stage_id = rs.stage_id
          WHERE rs.run_id = ${id} ORDER BY rs.position, a.id`.pipe(Effect.flatMap(decodeAll(ArtifactRecord)), Effect.mapError(fail("read artifacts")))
        const consumed = yield* sql<{ stageId: StageId; artifactId: number }>`SELECT l.stage_id, l.artifact_id FROM run_stages rs
          JOIN lineage l ON l.stage_id = rs.stage_id WHERE rs.run_id = ${id}`.pipe(Effect.mapError(fail("read lineage")))
        return { run: run[0]!, params, stages, summary, artifacts, consumed } satisfies RunDetail
      })

      const metricPointsSince = Effect.fn("RunStore.metricPointsSince")(function* (runId: RunId, afterId: number, limit = 10_000) {
        return yield* sql`SELECT p.* FROM metric_points p
          WHERE p.stage_id IN (SELECT stage_id FROM run_stages WHERE run_id = ${runId}) AND p.id > ${afterId}
          ORDER BY p.id LIMIT ${limit}`.pipe(Effect.flatMap(decodeAll(MetricPointRecord)), Effect.mapError(fail("read metric points")))
      })

      const comparisonData = Effect.fn("RunStore.comparisonData")(function* (experiment: string) {
        const runs = yield* listRuns({ experiment })
        if (runs.length === 0) {
          const known = yield* listExperiments()
          return yield* new ExperimentNotFoundError({ name: experiment, known: known.map((e) => e.name) })
        }
        // Bulk reads skip the client's per-row name transform: the aliases are already the field names.
        const raw = sql.withoutTransforms()
        const params = yield* raw`SELECT p.run_id AS "runId", p.key AS "key", p.value_json AS "value" FROM params p
          JOIN runs r ON r.id = p.run_id WHERE r.experiment = ${experiment}`.pipe(
          Effect.flatMap(decodeAll(ParamRow)), Effect.mapError(fail("read params")))
        const summary = yield* summaryOf(experiment)
        return { runs, params, summary } satisfies ComparisonData
      })

      const summaryOf = Effect.fn("RunStore.summaryOf")(function* (experiment: string) {
        // Bulk read without the client's per-row name transform: the aliases are already the field names.
        return yield* sql.withoutTransforms()`SELECT rs.run_id AS "runId", m.stage_id AS "stageId", ${summaryKey} AS "key", m.value AS "value"
          FROM runs r JOIN run_stages rs ON rs.run_id = r.id JOIN summary_metrics m ON m.stage_id = rs.stage_id
          WHERE r.experiment = ${experiment} ORDER BY r.position, rs.position, m.key`.pipe(
          Effect.flatMap(decodeAll(SummaryRow)), Effect.mapError(fail("read summary metrics")))
      })

      const integrityCheck = Effect.fn("RunStore.integrityCheck")(function* () {
        const rows = yield* sql<{ integrityCheck: string }>`PRAGMA integrity_check`.pipe(Effect.mapError(fail("integrity check")))
        return rows.map((r) => r.integrityCheck).join("\n")
      })

      return RunStore.of({
        upsertExperiment, registerStage, registerRun, getStage, stagesOf, recoverInterrupted, stageStarted, stageCompleted,
        stageFailed, renewLease, recordJob, recordStageJob, updateStageJob, stageJobsOf, attemptsOf, setRunStatus, appendMetricPoints, deleteMetricPoints, setSummaryMetrics, recordItemScores,
        itemScoresOf, recordArtifact, recordLineage, artifactsOf,
        listExperiments, listRuns, resolveRunId, showRun, metricPointsSince, comparisonData, summaryOf, integrityCheck
      })
    })
  )

  /**
   * Opens (creating the folder and migrating when needed) the SQLite file at `filename`, for commands that write.
   * A file that is not a run store fails with {@link NotARunStoreError} before anything touches it.
   */
  static readonly layer = (
    filename: string
  ): Layer.Layer<RunStore | SqlClient.SqlClient, StoreError | NotARunStoreError, FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor> =>
    RunStore.layerNoDeps.pipe(Layer.provideMerge(sqliteLayer(filename)))

  /**
   * Opens an existing run store for commands that only read: SQLite's read-only mode, no migrations, no switch
   * to WAL, so neither a read-only file nor another process's store is ever modified. A store from an older
   * release is read as it is (its runs keep their old ids; what its schema lacks reads as empty).
   */
  static readonly layerReadOnly = (
    filename: string
  ): Layer.Layer<RunStore | SqlClient.SqlClient, StoreError | NotARunStoreError | RunStoreMissingError, FileSystem.FileSystem> =>
    RunStore.layerNoDeps.pipe(Layer.provideMerge(readOnlySqliteLayer(filename)))
}

const isNotADatabase = (cause: unknown) => (cause as { code?: unknown } | null)?.code === "SQLITE_NOTADB"

// better-sqlite3 throws from its constructor and from SqliteClient's WAL pragma, which the client turns into
// defects; opening the file here first, read-only, gives a typed error instead and never writes to it.
const tablesOf = (filename: string): Effect.Effect<ReadonlySet<string>, StoreError | NotARunStoreError> =>
  Effect.try({
    try: () => {
      const db = new Database(filename, { readonly: true, fileMustExist: true })
      try {
        const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
        return new Set(rows.map((r) => r.name))
      } finally {
        db.close()
      }
    },
    catch: (cause) => isNotADatabase(cause)
      ? new NotARunStoreError({ path: filename, reason: "not-sqlite", detail: (cause as Error).message })
      : new StoreError({ operation: `open ${filename}`, cause })
  })

const namingTransforms = { transformResultNames: Str.snakeToCamel, transformQueryNames: Str.camelToSnake } as const

const sqliteLayer = (filename: string) =>
  Layer.unwrapEffect(Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    if (filename !== ":memory:") {
      yield* fs.makeDirectory(path.dirname(filename), { recursive: true }).pipe(
        Effect.mapError((cause) => new StoreError({ operation: `create the folder of ${filename}`, cause })))
      const exists = yield* fs.exists(filename).pipe(Effect.mapError((cause) => new StoreError({ operation: `open ${filename}`, cause })))
      const tables = exists ? yield* tablesOf(filename) : new Set<string>()
      // An empty file is an empty database; another program's database is not ours to add tables to.
      if (tables.size > 0 && !tables.has("runs")) {
        return yield* new NotARunStoreError({ path: filename, reason: "foreign-schema", detail: "it has no runs table" })
      }
    }
    const client = SqliteClient.layer({ filename, ...namingTransforms })
    const migrated = SqliteMigrator.layer({ loader: SqliteMigrator.fromRecord(migrations) })
    // better-sqlite3 waits up to 5 s on a locked file; readers in other processes never block the writer under WAL.
    return migrated.pipe(
      Layer.provideMerge(client),
      Layer.mapError((cause) => new StoreError({ operation: `open ${filename}`, cause }))
    )
  }))

const readOnlySqliteLayer = (filename: string) =>
  Layer.unwrapEffect(Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(filename).pipe(Effect.mapError((cause) => new StoreError({ operation: `open ${filename}`, cause })))
    if (!exists) return yield* new RunStoreMissingError({ path: filename })
    const tables = yield* tablesOf(filename)
    if (!tables.has("runs")) {
      return yield* new NotARunStoreError({ path: filename, reason: "foreign-schema", detail: "it has no runs table" })
    }
    return SqliteClient.layer({ filename, readonly: true, disableWAL: true, ...namingTransforms }).pipe(
      Layer.mapError((cause) => new StoreError({ operation: `open ${filename} read-only`, cause }))
    )
  }))
