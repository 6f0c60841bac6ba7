/**
 * The read models of the ClickHouse store: what `SyncLogStore` hands back to the
 * CLI and exporters. Plain JSON-able shapes (numbers, strings, ISO instants).
 */
import type { EntityType } from '../events/change-event.js'
import type { LogRow, Outcome, RowState, SyncStatus } from '../events/sync-log-event.js'

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
  /** ISO instant, or blank while the sync runs or waits for review. */
  endedAt: string
  message: string
  /** Who approved or rejected the sync; blank until decided. */
  reviewedBy: string
  /** When it was decided (ISO instant); blank until then. */
  reviewedAt: string
  /** The reviewer's reason; blank until decided. */
  reviewReason: string
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

/** Id-keyed maps below are null-prototype objects (see src/dict.ts): any school id or entity name is a safe key. */
export interface SyncSummary extends SyncHeader {
  /** Per entity type, summed over schools. */
  counts: Record<string, OutcomeCountsJson>
  /** Per school id (district level under `(district)`), per entity type. Only when asked for. */
  bySchool?: Record<string, { schoolName: string; counts: Record<string, OutcomeCountsJson> }>
}

/** Which side of a row a school (or district) scope applies to. */
export const SCOPE_SIDES = ['home', 'serving', 'either'] as const
export type ScopeSide = (typeof SCOPE_SIDES)[number]

/**
 * What a caller may see. Enforced by the query layer on every query as
 * parameters ANDed to whatever the caller filters, so no filter can widen it.
 * `{}` is the operator's scope: every tenant.
 */
export interface Scope {
  /** The tenant (a district's SIS feed) the caller is limited to; absent = every tenant. */
  tenant?: string
  /**
   * One school of that tenant (requires `tenant`): log rows whose home school
   * (`home`), serving school (`serving`) or either (`either`) is this school;
   * counts of records counted under this school.
   */
  school?: { id: string; side: ScopeSide }
}

export interface SyncListFilter {
  /** Narrows within the scope; never widens it. */
  tenant?: string
  app?: string
  /** Syncs started at or after this instant (ISO instant, or YYYY-MM-DD = start of that UTC day). */
  from?: string
  /** Syncs started at or before this instant (YYYY-MM-DD = through the end of that UTC day). */
  to?: string
  /** Syncs at one of these latest statuses (e.g. On Hold and Preview: the syncs waiting for review). */
  status?: readonly SyncStatus[]
  limit?: number
}

/** One cell of a summary: the records of one sync × entity × school × outcome. */
export interface CountCell {
  syncId: string
  entity: EntityType
  /** '' (or DISTRICT_KEY) = district level; absent = every school the scope may see (the entity's total). */
  schoolId?: string
  /** The outcomes counted: one, Merged + Excluded for the Duplicates column, or absent = every outcome (the Total column). */
  outcomes?: readonly Outcome[]
}

/** A school the scope may see, as the sync counts name it. */
export interface SchoolEntry {
  tenant: string
  schoolId: string
  schoolName: string
}

/** Whose history: a student (by student number), a section (by section number) or any record (by sourcedId). */
export interface RecordKey {
  kind: 'student' | 'section' | 'record'
  id: string
}

export type { LogFilter } from './log-filter.js'

/** Keyset paging: at most `limit` rows (default 100, at most 10,000) after `cursor`. */
export interface PageRequest {
  limit?: number
  cursor?: string
}

/** A page of the log, newest first, and the cursor of the next page (null = no more rows). */
export interface LogPage {
  rows: LogRecord[]
  nextCursor: string | null
}

/** The rows behind one count, and how they relate to it. */
export interface DrillDown extends LogPage {
  cell: CountCell
  /** The count shown in the summary for this cell (0 if the cell does not exist). */
  count: number
  /** Why some counted records have no rows (No Change is counted, not logged), or ''. */
  note: string
}

/** One day of one tenant's syncs of one app, from the daily rollup. */
export interface DailyRollup {
  tenant: string
  app: string
  /** YYYY-MM-DD (UTC), the day the syncs started. */
  day: string
  syncs: number
  counts: OutcomeCountsJson
}

/**
 * A sync-log row as read back: every column a string, `seq` a number, `date` an ISO instant
 * with `Z`; `state` says whether its sync's changes were applied (read from the sync's
 * latest status; absent on rows that did not come from the store).
 */
export type LogRecord = Omit<LogRow, 'kind'> & { readonly state?: RowState }
