import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

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

/** Every migration, in order; `SqliteMigrator` records which ones a database has seen. */
export const migrations = { "0001_init": m0001_init }
