/**
 * The read models of the ClickHouse store: what `SyncLogStore` hands back to the
 * CLI and exporters. Plain JSON-able shapes (numbers, strings, ISO instants).
 */
import type { LogColumn, LogRow, SyncStatus } from '../events/sync-log-event.js'

/** The ten counters of `OutcomeCounts`, as plain numbers. */
export interface OutcomeCountsJson {
  total: number
  new: number
  updated: number
  noChange: number
  deleted: number
  skipped: number
  invalid: number
  duplicates: number
  merged: number
  excluded: number
}

/** What identifies a sync and where it stands: shared by the history and the summary. */
export interface SyncHeader {
  syncId: string
  tenant: string
  app: string
  status: SyncStatus
  /** ISO instant, `YYYY-MM-DDTHH:mm:ss.sssZ`. */
  startedAt: string
  /** ISO instant, or blank while the sync runs. */
  endedAt: string
  message: string
}

/** One sync run at its latest status; `total` and `errors` are summed over its counts. */
export interface SyncRun extends SyncHeader {
  modes: string
  /** Sum of `total` over every entity and school. */
  total: number
  /** Sum of skipped + invalid + excluded over every entity and school. */
  errors: number
}

/** The key `bySchool` uses for district-level counts (schoolId ''). */
export const DISTRICT_KEY = '(district)'

export interface SyncSummary extends SyncHeader {
  /** Per entity type, summed over schools. */
  counts: Record<string, OutcomeCountsJson>
  /** Per school id (district level under `(district)`), per entity type. Only when asked for. */
  bySchool?: Record<string, { schoolName: string; counts: Record<string, OutcomeCountsJson> }>
}

export interface SyncListFilter {
  tenant?: string
  app?: string
  /** Syncs started at or after this instant (ISO instant, or YYYY-MM-DD = start of that UTC day). */
  from?: string
  /** Syncs started at or before this instant (YYYY-MM-DD = through the end of that UTC day). */
  to?: string
  limit?: number
}

export interface LogFilter {
  tenant?: string
  syncId?: string
  /** Matches rows whose home school OR serving school is this id. */
  school?: string
  /** Rows whose action is one of these; an empty list does not filter. */
  actions?: string[]
  /** Rows whose outcome is one of these; an empty list does not filter. */
  outcomes?: string[]
  /** Rows dated at or after this instant (ISO instant, or YYYY-MM-DD = start of that UTC day). */
  from?: string
  /** Rows dated at or before this instant (YYYY-MM-DD = through the end of that UTC day). */
  to?: string
  /** Case-insensitive substring per column; all must match. */
  contains?: { column: LogColumn; text: string }[]
  /** Also show rows of syncs whose latest status is Rejected (hidden by default). */
  includeRejected?: boolean
  limit?: number
  offset?: number
}

/** A sync-log row as read back: every column a string, `seq` a number, `date` an ISO instant with `Z`. */
export type LogRecord = Omit<LogRow, 'kind'>
