import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { runIdOf } from "../RunIdentity.ts"

// Stages are content-addressed and shared between runs (one SFT checkpoint serves every β), so a run
// reaches its stages, metric series and artifacts through `run_stages`.
const m0001_init = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE experiments (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    spec_file TEXT,
    spec_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`
  yield* sql`CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL REFERENCES experiments(name),
    label TEXT NOT NULL,
    seed INTEGER NOT NULL,
    position INTEGER NOT NULL,
    config_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  )`
  yield* sql`CREATE INDEX runs_by_experiment ON runs(experiment, position)`
  yield* sql`CREATE TABLE stages (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    inputs_json TEXT NOT NULL,
    output_dir TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    host TEXT,
    pid INTEGER,
    error TEXT,
    stderr_tail TEXT
  )`
  yield* sql`CREATE TABLE run_stages (
    run_id TEXT NOT NULL REFERENCES runs(id),
    stage_id TEXT NOT NULL REFERENCES stages(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (run_id, stage_id)
  )`
  yield* sql`CREATE INDEX run_stages_by_stage ON run_stages(stage_id)`
  yield* sql`CREATE TABLE params (
    run_id TEXT NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    value_num REAL,
    PRIMARY KEY (run_id, key)
  )`
  yield* sql`CREATE INDEX params_by_key ON params(key, value_json)`
  yield* sql`CREATE TABLE metric_points (
    id INTEGER PRIMARY KEY,
    stage_id TEXT NOT NULL REFERENCES stages(id),
    key TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL NOT NULL,
    time INTEGER NOT NULL
  )`
  yield* sql`CREATE INDEX metric_points_by_stage ON metric_points(stage_id, id)`
  yield* sql`CREATE TABLE summary_metrics (
    stage_id TEXT NOT NULL REFERENCES stages(id),
    key TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (stage_id, key)
  )`
  yield* sql`CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY,
    stage_id TEXT NOT NULL REFERENCES stages(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (stage_id, name)
  )`
  yield* sql`CREATE TABLE lineage (
    stage_id TEXT NOT NULL REFERENCES stages(id),
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    PRIMARY KEY (stage_id, artifact_id)
  )`
})

interface StoredRun {
  readonly id: string
  readonly configJson: string
  readonly status: string
  readonly createdAt: number
  readonly startedAt: number | null
  readonly finishedAt: number | null
}

const lastActivity = (run: StoredRun) => Math.max(run.createdAt, run.startedAt ?? 0, run.finishedAt ?? 0)

// Run ids used to hash the `executor` section too, so one computation run under two executor settings was two
// runs. Re-key every run by what it computes; runs that now share an id merge into one row (their stages are
// the same content-addressed stages), keeping the most recently active row's status and times and the earliest
// creation. Every old id stays reachable through `run_aliases`. Foreign keys are on (better-sqlite3's default)
// and cannot be switched off inside the migrator's transaction, so the new row exists before anything points to it.
const m0002_run_identity = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE run_aliases (
    old_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id)
  )`
  yield* sql`CREATE INDEX run_aliases_by_run ON run_aliases(run_id)`
  const runs = yield* sql<StoredRun>`SELECT id, config_json, status, created_at, started_at, finished_at FROM runs`
  const byNewId = new Map<string, Array<StoredRun>>()
  for (const run of runs) {
    const newId = runIdOf(JSON.parse(run.configJson))
    const group = byNewId.get(newId)
    if (group === undefined) byNewId.set(newId, [run])
    else group.push(run)
  }
  for (const [newId, group] of byNewId) {
    const newestFirst = [...group].sort((a, b) => lastActivity(b) - lastActivity(a))
    const newest = newestFirst[0]!
    const createdAt = Math.min(...group.map((r) => r.createdAt))
    if (group.some((r) => r.id === newId)) {
      yield* sql`UPDATE runs SET status = ${newest.status}, started_at = ${newest.startedAt}, finished_at = ${newest.finishedAt},
        created_at = ${createdAt} WHERE id = ${newId}`
    } else {
      yield* sql`INSERT INTO runs (id, experiment, label, seed, position, config_json, status, created_at, started_at, finished_at)
        SELECT ${newId}, experiment, label, seed, position, config_json, status, ${createdAt}, started_at, finished_at
        FROM runs WHERE id = ${newest.id}`
    }
    for (const old of newestFirst) {
      if (old.id === newId) continue
      yield* sql`INSERT OR IGNORE INTO run_stages (run_id, stage_id, name, position)
        SELECT ${newId}, stage_id, name, position FROM run_stages WHERE run_id = ${old.id}`
      yield* sql`INSERT OR IGNORE INTO params (run_id, key, value_json, value_num)
        SELECT ${newId}, key, value_json, value_num FROM params WHERE run_id = ${old.id}`
      yield* sql`DELETE FROM run_stages WHERE run_id = ${old.id}`
      yield* sql`DELETE FROM params WHERE run_id = ${old.id}`
      yield* sql`DELETE FROM runs WHERE id = ${old.id}`
      yield* sql`INSERT INTO run_aliases (old_id, run_id) VALUES (${old.id}, ${newId})`
    }
  }
  yield* sql`DELETE FROM params WHERE key GLOB 'executor.*'`
})

// Who ran a stage (executor pool, host, pid, scheduler job) and a lease renewed by heartbeats: liveness no longer
// depends on probing a local pid. Release 0.1 ran everything locally, so its started stages get `local` and their
// latest attempt as history (earlier attempts were never recorded).
const m0003_stage_executions = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE stages ADD COLUMN executor TEXT`
  yield* sql`ALTER TABLE stages ADD COLUMN job_id TEXT`
  yield* sql`ALTER TABLE stages ADD COLUMN lease_expires_at INTEGER`
  yield* sql`ALTER TABLE stages ADD COLUMN heartbeat_at INTEGER`
  yield* sql`UPDATE stages SET executor = 'local' WHERE started_at IS NOT NULL`
  yield* sql`CREATE TABLE stage_attempts (
    stage_id TEXT NOT NULL REFERENCES stages(id),
    attempt INTEGER NOT NULL,
    executor TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER,
    job_id TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    status TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (stage_id, attempt)
  ) WITHOUT ROWID`
  yield* sql`INSERT INTO stage_attempts (stage_id, attempt, executor, host, pid, job_id, started_at, finished_at, status, error)
    SELECT id, attempts, 'local', host, pid, NULL, started_at, finished_at, status, error FROM stages
    WHERE attempts > 0 AND started_at IS NOT NULL AND host IS NOT NULL`
})

// Per-item metric values, so comparisons and significance tests pair items across runs from the store alone.
// One row per stage and key holding the values as a JSON array (null for NaN), with the item ids once per stage
// and metric: a row per item made 1,000 runs × 500 items × 10 keys a 450 MB, 45 s insert; this is 5 s and a
// third of the size. `item_score_rows` unpacks them into one row per item for SQL, at query time.
const m0004_item_scores = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE item_sets (
    stage_id TEXT NOT NULL REFERENCES stages(id),
    metric TEXT NOT NULL,
    item_ids_json TEXT NOT NULL,
    PRIMARY KEY (stage_id, metric)
  ) WITHOUT ROWID`
  yield* sql`CREATE TABLE item_scores (
    stage_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    key TEXT NOT NULL,
    values_json TEXT NOT NULL,
    PRIMARY KEY (stage_id, key),
    FOREIGN KEY (stage_id, metric) REFERENCES item_sets(stage_id, metric)
  ) WITHOUT ROWID`
  yield* sql`CREATE VIEW item_score_rows AS
    SELECT s.stage_id, s.metric, s.key, v.key AS position, json_extract(i.item_ids_json, '$[' || v.key || ']') AS item_id, v.value
    FROM item_scores s JOIN item_sets i ON i.stage_id = s.stage_id AND i.metric = s.metric, json_each(s.values_json) v`
})

/** The first migration whose summary keys are named by stage role; a store that has not seen it is read with {@link legacySummaryKey}. */
export const summaryRolesMigration = 5

/**
 * A summary key of a store before migration 0005, named by its stage's role: up to then training stages reported
 * `train.*` and both dataset stages `dataset.rows`, so SFT and preference keys collided. The role is the stage's
 * `run_stages.name` (`sft`, `preference`, `dataset-sft`), the same in every run. Other kinds already carried their
 * role (`model.`, `items.`, `generate.`) or their metric plugin (`vad.valence_mean`). SQL over the given columns.
 */
export const legacySummaryKey = (columns: { readonly key: string; readonly kind: string; readonly role: string }): string =>
  `CASE WHEN ${columns.kind} IN ('train', 'dataset') AND instr(${columns.key}, '.') > 0 AND ${columns.role} IS NOT NULL
    THEN ${columns.role} || substr(${columns.key}, instr(${columns.key}, '.')) ELSE ${columns.key} END`

// Summary keys named by stage role (`sft.loss`, `preference.loss`, `dataset-sft.rows`), see legacySummaryKey.
// A stage nobody's run links to keeps its key: it has no role to be named by.
const m0005_summary_roles = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const role = "(SELECT MIN(rs.name) FROM run_stages rs WHERE rs.stage_id = summary_metrics.stage_id)"
  const kind = "(SELECT s.kind FROM stages s WHERE s.id = summary_metrics.stage_id)"
  yield* sql.unsafe(`UPDATE summary_metrics SET key = ${legacySummaryKey({ key: "key", kind, role })}
    WHERE stage_id IN (SELECT id FROM stages WHERE kind IN ('train', 'dataset'))`)
})

// Remote jobs of stages (SSH supervisor, Slurm job, Ray task): recorded before launch so a rerun after the runner
// died follows the job again instead of starting it twice. Keyed by the runner's own job key (known before the
// engine gives an id); `locator` is the executor's JSON for following, querying and cancelling it.
const m0006_stage_jobs = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE stage_jobs (
    job_key TEXT PRIMARY KEY,
    stage_id TEXT NOT NULL REFERENCES stages(id),
    attempt INTEGER NOT NULL,
    executor TEXT NOT NULL,
    kind TEXT NOT NULL,
    host TEXT NOT NULL,
    job_id TEXT NOT NULL,
    locator_json TEXT NOT NULL,
    state TEXT NOT NULL,
    lines_read INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`
  yield* sql`CREATE INDEX stage_jobs_by_stage ON stage_jobs(stage_id, created_at)`
})

/** Every migration, in order; `SqliteMigrator` records which ones a database has seen. */
export const migrations = {
  "0001_init": m0001_init,
  "0002_run_identity": m0002_run_identity,
  "0003_stage_executions": m0003_stage_executions,
  "0004_item_scores": m0004_item_scores,
  "0005_summary_roles": m0005_summary_roles,
  "0006_stage_jobs": m0006_stage_jobs
}
