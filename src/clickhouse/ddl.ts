/**
 * Versioned DDL. A migration, once released, never changes: a new schema is a new
 * entry. Every statement is idempotent (IF NOT EXISTS) so a run interrupted
 * between statements can simply be repeated, and the same text runs on chDB and
 * on a ClickHouse server (no ON CLUSTER, no Replicated engines, no settings a
 * server profile would have to allow).
 */

export interface Migration {
  readonly version: number
  readonly name: string
  readonly statements: readonly string[]
}

export const SCHEMA_MIGRATIONS_DDL = `
CREATE TABLE IF NOT EXISTS schema_migrations
(
  version   UInt32,
  name      String,
  appliedAt DateTime
)
ENGINE = ReplacingMergeTree
ORDER BY version`

/**
 * sync_log: one row per LogRow. (tenant, syncId, seq) identifies a row; `date` is
 * a function of it (the fold is deterministic), so the sorting key
 * (tenant, date, syncId, seq) collapses re-deliveries exactly while serving the
 * common access path (one tenant, a date range). Schools, syncs and student
 * names are reached through skip indexes.
 */
const SYNC_LOG_V1 = `
CREATE TABLE IF NOT EXISTS sync_log
(
  tenant            LowCardinality(String),
  syncId            String,
  seq               UInt32,
  date              DateTime64(3, 'UTC'),
  action            LowCardinality(String),
  studentNumber     String,
  studentName       String,
  courseNumber      String,
  courseName        String,
  sectionNumber     String,
  field             String,
  oldValue          String,
  newValue          String,
  servingDistrictId String,
  servingDistrict   String,
  servingSchoolId   String,
  servingSchool     String,
  homeDistrictId    String,
  homeDistrict      String,
  homeSchoolId      String,
  homeSchool        String,
  app               LowCardinality(String),
  entity            LowCardinality(String),
  sourcedId         String,
  outcome           LowCardinality(String),
  message           String,
  INDEX ix_serving_school servingSchoolId TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX ix_home_school    homeSchoolId    TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX ix_sync_id        syncId          TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX ix_student_name   lowerUTF8(studentName) TYPE ngrambf_v1(3, 8192, 3, 0) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant, date, syncId, seq)`

/** sync_runs: one row per SyncStatusChanged; the highest version is the sync's status. */
const SYNC_RUNS_V1 = `
CREATE TABLE IF NOT EXISTS sync_runs
(
  tenant    LowCardinality(String),
  syncId    String,
  app       LowCardinality(String),
  status    LowCardinality(String),
  version   UInt32,
  startedAt DateTime64(3, 'UTC'),
  endedAt   Nullable(DateTime64(3, 'UTC')),
  message   String,
  modes     String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, syncId)`

/** sync_counts: one row per SyncCounts (sync × entity × school); summaries come from here. */
const SYNC_COUNTS_V1 = `
CREATE TABLE IF NOT EXISTS sync_counts
(
  tenant     LowCardinality(String),
  syncId     String,
  app        LowCardinality(String),
  entity     LowCardinality(String),
  schoolId   String,
  schoolName String,
  total      UInt32,
  new        UInt32,
  updated    UInt32,
  noChange   UInt32,
  deleted    UInt32,
  skipped    UInt32,
  invalid    UInt32,
  duplicates UInt32,
  merged     UInt32,
  excluded   UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, syncId, entity, schoolId)`

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'sync_log, sync_runs, sync_counts', statements: [SYNC_LOG_V1, SYNC_RUNS_V1, SYNC_COUNTS_V1] },
]
