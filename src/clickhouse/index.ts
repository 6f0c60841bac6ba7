/** The ClickHouse adapter: open (chDB or server), migrate, and the sync-log store. */
export { openClickHouse, type ClickHouse, type ClickHouseOptions } from './open.js'
export { migrate } from './migrations.js'
export { SyncLogStore, MAX_INSERT_ROWS } from './sync-log-store.js'
export {
  DISTRICT_KEY, type LogFilter, type LogRecord, type OutcomeCountsJson, type SyncListFilter, type SyncRun, type SyncSummary,
} from './types.js'
