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

/**
 * Migration 2, for the log at district and state scale (hundreds of millions of rows).
 *
 * Access paths and what serves each:
 * - tenant (+ school) and a date range, newest first: the sorting key
 *   (tenant, date, syncId, seq) and monthly partitions; the school is a
 *   LowCardinality column with a bloom filter per granule;
 * - one sync's rows: the syncId bloom filter (and drill-down adds entity,
 *   outcome and recordSchoolId, all LowCardinality);
 * - a student's, a section's or a record's history: bloom filters on
 *   studentNumber, sectionNumber and sourcedId;
 * - case-insensitive `contains` filters: ngram bloom filters on the lower-cased
 *   names, values and messages (the query adds a `multiSearchAny` hint for ASCII text);
 *   the LowCardinality columns are filtered on their dictionaries.
 * Codecs: Delta for the monotonic key columns, ZSTD for free text.
 * Every statement is idempotent: ALTER … IF NOT EXISTS, MODIFY to the same type,
 * and backfills into ReplacingMergeTree / set-valued aggregates.
 */
const LOW_CARDINALITY_LOG_COLUMNS = [
  'courseNumber',
  'courseName',
  'field',
  'servingDistrictId',
  'servingDistrict',
  'servingSchoolId',
  'servingSchool',
  'homeDistrictId',
  'homeDistrict',
  'homeSchoolId',
  'homeSchool',
] as const

/**
 * Free-text columns with an ngram index over their lower-cased text (contains
 * filters). Identifiers (student and section numbers, sourcedIds) have none:
 * digits and hex make a few thousand trigrams, all present in every granule, so
 * the filter would never skip; they have bloom filters for their exact values.
 * Names and messages skip granules when the text searched for is rare (a
 * student's unusual name), which is the search that needs it.
 */
export const NGRAM_INDEXED_COLUMNS = ['studentName', 'oldValue', 'newValue', 'message'] as const

/** The n of the ngram indexes: a contains text shorter than this cannot use them. */
export const NGRAM_SIZE = 3

const SYNC_LOG_V2: string[] = [
  `ALTER TABLE sync_log ADD COLUMN IF NOT EXISTS recordSchoolId LowCardinality(String) DEFAULT '' AFTER message`,
  `ALTER TABLE sync_log ${LOW_CARDINALITY_LOG_COLUMNS.map((c) => `MODIFY COLUMN ${c} LowCardinality(String)`).join(', ')}`,
  `ALTER TABLE sync_log MODIFY COLUMN date DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)), MODIFY COLUMN seq UInt32 CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN studentName String CODEC(ZSTD(1)), MODIFY COLUMN oldValue String CODEC(ZSTD(1)),
    MODIFY COLUMN newValue String CODEC(ZSTD(1)), MODIFY COLUMN message String CODEC(ZSTD(1))`,
  'ALTER TABLE sync_log DROP INDEX IF EXISTS ix_student_name',
  ...NGRAM_INDEXED_COLUMNS.map(
    (c) =>
      `ALTER TABLE sync_log ADD INDEX IF NOT EXISTS ix_${c}_ngrams lowerUTF8(${c}) TYPE ngrambf_v1(${NGRAM_SIZE}, 8192, 3, 0) GRANULARITY 1`,
  ),
  ...['studentNumber', 'sectionNumber', 'sourcedId'].map(
    (c) => `ALTER TABLE sync_log ADD INDEX IF NOT EXISTS ix_${c} ${c} TYPE bloom_filter(0.01) GRANULARITY 1`,
  ),
  ...[...NGRAM_INDEXED_COLUMNS.map((c) => `ix_${c}_ngrams`), 'ix_studentNumber', 'ix_sectionNumber', 'ix_sourcedId'].map(
    (ix) => `ALTER TABLE sync_log MATERIALIZE INDEX ${ix} SETTINGS mutations_sync = 1`,
  ),
]

const SYNC_COUNTS_V2 = `ALTER TABLE sync_counts ADD COLUMN IF NOT EXISTS startedAt DateTime64(3, 'UTC') DEFAULT toDateTime64(0, 3, 'UTC') AFTER schoolName`

/** The outcome columns of sync_counts, as (outcome, column) pairs. */
const OUTCOME_COLUMNS = `[('New', new), ('Updated', updated), ('No Change', noChange), ('Deleted', deleted),
    ('Skipped', skipped), ('Invalid', invalid), ('Merged', merged), ('Excluded', excluded)]`

/** sync_outcomes: sync × entity × school × outcome → records, maintained from sync_counts. */
const SYNC_OUTCOMES_V2 = `
CREATE TABLE IF NOT EXISTS sync_outcomes
(
  tenant   LowCardinality(String),
  syncId   String,
  app      LowCardinality(String),
  entity   LowCardinality(String),
  schoolId LowCardinality(String),
  outcome  LowCardinality(String),
  records  UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, syncId, entity, schoolId, outcome)`

const SYNC_OUTCOMES_SELECT = `
SELECT tenant, syncId, app, entity, schoolId, o.1 AS outcome, o.2 AS records
FROM sync_counts
ARRAY JOIN ${OUTCOME_COLUMNS} AS o
WHERE o.2 > 0`

/**
 * sync_daily: per tenant × app × day (the sync's start, UTC), the syncs and their
 * count cells as sets. Sets, not sums, so a count row written twice (a
 * re-delivery, a re-run import) is counted once: the rollup stays exact without
 * relying on exactly-once inserts. Read with uniqExactMerge / groupUniqArrayMerge.
 */
const SYNC_DAILY_V2 = `
CREATE TABLE IF NOT EXISTS sync_daily
(
  tenant LowCardinality(String),
  app    LowCardinality(String),
  day    Date,
  syncs  AggregateFunction(uniqExact, String),
  cells  AggregateFunction(groupUniqArray, Tuple(syncId String, entity String, schoolId String, total UInt32, new UInt32,
           updated UInt32, noChange UInt32, deleted UInt32, skipped UInt32, invalid UInt32, duplicates UInt32, merged UInt32, excluded UInt32))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant, app, day)`

const SYNC_DAILY_SELECT = `
SELECT tenant, app, toDate(startedAt) AS day, uniqExactState(syncId) AS syncs,
  groupUniqArrayState(CAST((syncId, entity, schoolId, total, new, updated, noChange, deleted, skipped, invalid, duplicates, merged, excluded),
    'Tuple(syncId String, entity String, schoolId String, total UInt32, new UInt32, updated UInt32, noChange UInt32, deleted UInt32, skipped UInt32, invalid UInt32, duplicates UInt32, merged UInt32, excluded UInt32)')) AS cells
FROM sync_counts
GROUP BY tenant, app, day`

/**
 * alert_deliveries: one row per attempt to deliver an alert webhook (src/alerts). An
 * attempt recorded twice collapses to one row; `body` is what the delivery sends, so a
 * process that resumes a delivery another left unfinished sends the same bytes.
 */
const ALERT_DELIVERIES_V3 = `
CREATE TABLE IF NOT EXISTS alert_deliveries
(
  tenant     LowCardinality(String),
  deliveryId String,
  syncId     String,
  version    UInt32,
  status     LowCardinality(String),
  url        String,
  attempt    UInt16,
  at         DateTime64(3, 'UTC'),
  outcome    LowCardinality(String),
  httpStatus UInt16,
  error      String,
  durationMs UInt32,
  body       String CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, deliveryId, attempt)`

/**
 * Migration 3, for reviewing syncs: each log row's cause (the record whose error or absence
 * it follows from, grouped by report --group), the reviewer's decision on a held or
 * previewed sync (who, when, why) and the delivery log of alert webhooks.
 */
const REVIEW_V3: string[] = [
  `ALTER TABLE sync_log ADD COLUMN IF NOT EXISTS cause String DEFAULT '' CODEC(ZSTD(1)) AFTER recordSchoolId`,
  `ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS reviewedBy String DEFAULT '' AFTER modes`,
  `ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS reviewedAt Nullable(DateTime64(3, 'UTC')) AFTER reviewedBy`,
  `ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS reviewReason String DEFAULT '' AFTER reviewedAt`,
  ALERT_DELIVERIES_V3,
]

/**
 * Migration 4, a student's history in one read. The studentNumber bloom filter finds the
 * granules that hold a student's rows, but those rows are spread over every sync the
 * student was in, and reading 29 columns of each of those granules cost 5× the bare
 * count (p95 204 ms at 10M rows). sync_log_by_student holds the rows that name a student
 * again, sorted by (tenant, studentNumber, date, syncId, seq), so a student's rows are a
 * few adjacent granules. A materialized view fills it from every insert into sync_log
 * (whoever writes it); a row written twice collapses under FINAL as it does in sync_log;
 * the retention TTL is set on both (retention.ts). It has no skip index: its sorting key
 * is the access path. On a server, analysts read it under the same row policy as sync_log
 * (sql/clickhouse-server/analyst-access.sql).
 */
export const STUDENT_LOG_TABLE = 'sync_log_by_student'

const SYNC_LOG_BY_STUDENT_V4 = `
CREATE TABLE IF NOT EXISTS ${STUDENT_LOG_TABLE}
(
  tenant            LowCardinality(String),
  syncId            String,
  seq               UInt32,
  date              DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  action            LowCardinality(String),
  studentNumber     String,
  studentName       String CODEC(ZSTD(1)),
  courseNumber      LowCardinality(String),
  courseName        LowCardinality(String),
  sectionNumber     String,
  field             LowCardinality(String),
  oldValue          String CODEC(ZSTD(1)),
  newValue          String CODEC(ZSTD(1)),
  servingDistrictId LowCardinality(String),
  servingDistrict   LowCardinality(String),
  servingSchoolId   LowCardinality(String),
  servingSchool     LowCardinality(String),
  homeDistrictId    LowCardinality(String),
  homeDistrict      LowCardinality(String),
  homeSchoolId      LowCardinality(String),
  homeSchool        LowCardinality(String),
  app               LowCardinality(String),
  entity            LowCardinality(String),
  sourcedId         String,
  outcome           LowCardinality(String),
  message           String CODEC(ZSTD(1)),
  recordSchoolId    LowCardinality(String) DEFAULT '',
  cause             String DEFAULT '' CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (tenant, studentNumber, date, syncId, seq)`

const STUDENT_LOG_COLUMNS = `tenant, syncId, seq, date, action, studentNumber, studentName, courseNumber, courseName, sectionNumber,
  field, oldValue, newValue, servingDistrictId, servingDistrict, servingSchoolId, servingSchool, homeDistrictId, homeDistrict,
  homeSchoolId, homeSchool, app, entity, sourcedId, outcome, message, recordSchoolId, cause`

const STUDENT_LOG_SELECT = `SELECT ${STUDENT_LOG_COLUMNS} FROM sync_log WHERE studentNumber != ''`

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'sync_log, sync_runs, sync_counts', statements: [SYNC_LOG_V1, SYNC_RUNS_V1, SYNC_COUNTS_V1] },
  {
    version: 2,
    name: 'log codecs, LowCardinality and skip indexes; recordSchoolId; sync_outcomes and sync_daily rollups',
    statements: [
      ...SYNC_LOG_V2,
      SYNC_COUNTS_V2,
      SYNC_OUTCOMES_V2,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS sync_outcomes_mv TO sync_outcomes AS ${SYNC_OUTCOMES_SELECT}`,
      `INSERT INTO sync_outcomes ${SYNC_OUTCOMES_SELECT}`,
      SYNC_DAILY_V2,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS sync_daily_mv TO sync_daily AS ${SYNC_DAILY_SELECT}`,
      `INSERT INTO sync_daily ${SYNC_DAILY_SELECT}`,
    ],
  },
  { version: 3, name: 'log causes; review decisions; alert deliveries', statements: REVIEW_V3 },
  {
    version: 4,
    name: "students' rows sorted by student (sync_log_by_student)",
    statements: [
      SYNC_LOG_BY_STUDENT_V4,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${STUDENT_LOG_TABLE}_mv TO ${STUDENT_LOG_TABLE} AS ${STUDENT_LOG_SELECT}`,
      `INSERT INTO ${STUDENT_LOG_TABLE} (${STUDENT_LOG_COLUMNS}) ${STUDENT_LOG_SELECT}`,
    ],
  },
]
