/**
 * What the HTTP API needs from the sync-log store: its read side, every call
 * taking the caller's scope first. `SyncLogStore` is one; tests may pass another.
 */
import type {
  CountCell,
  DailyRollup,
  DrillDown,
  LogFilter,
  LogPage,
  LogRecord,
  PageRequest,
  RecordKey,
  SchoolEntry,
  Scope,
  SyncListFilter,
  SyncRun,
  SyncSummary,
} from '../clickhouse/types.js'
import type { RosterAt, RosterQuery } from '../clickhouse/roster-at.js'
import type { CompareOptions, SyncComparison } from '../clickhouse/sync-compare.js'
import type { CauseGroups } from '../clickhouse/cause-groups.js'

export interface ReadStore {
  listSyncs(scope: Scope, filter: SyncListFilter): Promise<SyncRun[]>
  /** Null if unknown or outside the scope. */
  getSync(scope: Scope, syncId: string): Promise<SyncRun | null>
  summary(scope: Scope, syncId: string, opts: { bySchool: boolean }): Promise<SyncSummary | null>
  queryLog(scope: Scope, filter: LogFilter, page?: PageRequest): Promise<LogPage>
  /** Every matching row, newest first, in constant memory. */
  streamLog(scope: Scope, filter: LogFilter): AsyncIterable<LogRecord>
  /** How many rows (and distinct records) match. */
  countLog(scope: Scope, filter: LogFilter): Promise<{ rows: number; records: number }>
  listSchools(scope: Scope): Promise<SchoolEntry[]>
  drillDown(scope: Scope, cell: CountCell, page?: PageRequest): Promise<DrillDown | null>
  recordHistory(scope: Scope, key: RecordKey, page?: PageRequest): Promise<LogPage>
  dailyRollups(scope: Scope, filter: { tenant?: string; app?: string; from?: string; to?: string }): Promise<DailyRollup[]>
  reportRows(scope: Scope, syncId: string): Promise<LogRecord[]>
  /** A section's students or a student's sections at an instant, rebuilt from the applied roster rows. */
  rosterAt(scope: Scope, query: RosterQuery): Promise<RosterAt>
  /** A sync's rows grouped by root cause; null if the sync is unknown or outside the scope. */
  causeGroups(scope: Scope, syncId: string): Promise<CauseGroups | null>
  /** Two syncs of one tenant side by side; null if either is unknown or outside the scope. */
  compareSyncs(scope: Scope, syncA: string, syncB: string, opts?: CompareOptions): Promise<SyncComparison | null>
}
