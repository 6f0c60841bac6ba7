/**
 * Sync-log events: the output contract of the fold, the payload of the sync-log
 * topic, and (one table each) what the projector writes to ClickHouse.
 * Wire form: `schemas/sync-log-event.avsc`.
 */
import type { EntityType } from './change-event.js'

export const ROSTER_ACTIONS = ['Created Roster', 'Deleted Roster', 'Updated Roster Start Date', 'Updated Roster End Date'] as const
export const SECTION_ACTIONS = ['Updated Section Data', 'Invalidated Section'] as const

/** Outcome of one input record (sync-semantics.md, "One outcome per input record"). */
export const OUTCOMES = ['New', 'Updated', 'No Change', 'Deleted', 'Skipped', 'Invalid', 'Merged', 'Excluded'] as const
export type Outcome = (typeof OUTCOMES)[number]

export type RosterAction = (typeof ROSTER_ACTIONS)[number]
export type SectionAction = (typeof SECTION_ACTIONS)[number]
/**
 * The `action` column. Roster and section actions are the anchor's actions;
 * a row that only reports a record's outcome has the outcome as its action
 * (`Skipped`, `Invalid`, `Merged`, `Excluded`, `New`, `Updated`, `Deleted`), so one
 * filter on `action` serves every view.
 */
export type LogAction = RosterAction | SectionAction | Exclude<Outcome, 'No Change'>

/**
 * An action or outcome this version does not know, written by a newer synclog: decoded from
 * the sync-log topic and read from the store as it is, stored and shown, never dropped.
 * (`string & {}` keeps the known values' literal types visible beside it.)
 */
export type UnknownValue = string & {}

export const SYNC_STATUSES = ['Running', 'Completed', 'Completed with Errors', 'On Hold', 'Preview', 'Failed', 'Rejected'] as const
export type SyncStatus = (typeof SYNC_STATUSES)[number]

/**
 * Statuses whose changes wait for a reviewer: On Hold (a safety threshold was crossed) and
 * Preview (computed on request, never applied unless approved). Their rows are proposed.
 */
export const AWAITING_REVIEW: readonly SyncStatus[] = ['On Hold', 'Preview']

/** Whether a sync's log rows were applied, are proposed (awaiting review) or were rejected: read from its latest status. */
export const ROW_STATES = ['Applied', 'Proposed', 'Rejected'] as const
export type RowState = (typeof ROW_STATES)[number]

/** One row of the sync log. Every column is a string; blank when it does not apply to the action. */
export interface LogRow {
  readonly kind: 'LogRow'
  readonly tenant: string
  readonly syncId: string
  /** Position of the row in its sync's output; (tenant, syncId, seq) identifies the row. */
  readonly seq: number
  /** ISO-8601 instant of the event that caused the row. */
  readonly date: string
  readonly action: LogAction | UnknownValue
  readonly studentNumber: string
  readonly studentName: string
  readonly courseNumber: string
  readonly courseName: string
  readonly sectionNumber: string
  readonly field: string
  readonly oldValue: string
  readonly newValue: string
  readonly servingDistrictId: string
  readonly servingDistrict: string
  readonly servingSchoolId: string
  readonly servingSchool: string
  readonly homeDistrictId: string
  readonly homeDistrict: string
  readonly homeSchoolId: string
  readonly homeSchool: string
  readonly app: string
  readonly entity: EntityType | ''
  readonly sourcedId: string
  /** The outcome of the input record behind the row; blank for cascaded rows (no input record). */
  readonly outcome: Outcome | '' | UnknownValue
  readonly message: string
  /**
   * The school the row's record is counted under in the sync's counts ('' = district
   * level, and for cascaded rows, which are not counted): the key of drill-down.
   */
  readonly recordSchoolId: string
  /**
   * The record whose error or absence caused this row, as `<entity> '<sourcedId>' <what>`
   * (`class 'CHEM-02' deleted`); blank when the row stands on its own. Rows with one cause
   * group under it (report --group).
   */
  readonly cause: string
}

/** The text columns of a log row that a row may leave blank, all blank: rows are built over it. */
export const BLANK_LOG_COLUMNS = {
  studentNumber: '',
  studentName: '',
  courseNumber: '',
  courseName: '',
  sectionNumber: '',
  field: '',
  oldValue: '',
  newValue: '',
  servingDistrictId: '',
  servingDistrict: '',
  servingSchoolId: '',
  servingSchool: '',
  homeDistrictId: '',
  homeDistrict: '',
  homeSchoolId: '',
  homeSchool: '',
  entity: '',
  sourcedId: '',
  outcome: '',
  message: '',
  recordSchoolId: '',
  cause: '',
} as const satisfies Partial<Record<keyof LogRow, ''>>

/** A sync's status changed. `version` grows by one per change, so the latest wins. */
export interface SyncStatusChanged {
  readonly kind: 'SyncStatusChanged'
  readonly tenant: string
  readonly syncId: string
  readonly app: string
  readonly status: SyncStatus
  readonly version: number
  readonly startedAt: string
  /** Blank while the sync runs. */
  readonly endedAt: string
  /** Why: the hold thresholds crossed, the failure reason, who approved or rejected. */
  readonly message: string
  readonly modes: string
  /** Who approved or rejected the sync (blank until a reviewer decides). */
  readonly reviewedBy: string
  /** When the decision was made (ISO instant; blank until then). */
  readonly reviewedAt: string
  /** The reviewer's reason, required with every decision. */
  readonly reviewReason: string
}

export interface OutcomeCounts {
  readonly total: number
  readonly new: number
  readonly updated: number
  readonly noChange: number
  readonly deleted: number
  readonly skipped: number
  readonly invalid: number
  readonly duplicates: number
  readonly merged: number
  readonly excluded: number
}

/** Summary counts of one sync for one entity type in one school ('' = district level). */
export interface SyncCounts {
  readonly kind: 'SyncCounts'
  readonly tenant: string
  readonly syncId: string
  readonly app: string
  readonly entity: EntityType
  readonly schoolId: string
  readonly schoolName: string
  /** The sync's start instant (ISO-8601): the day the counts roll up under. */
  readonly startedAt: string
  readonly counts: OutcomeCounts
}

export type SyncLogEvent = LogRow | SyncStatusChanged | SyncCounts

export const ZERO_COUNTS: OutcomeCounts = {
  total: 0,
  new: 0,
  updated: 0,
  noChange: 0,
  deleted: 0,
  skipped: 0,
  invalid: 0,
  duplicates: 0,
  merged: 0,
  excluded: 0,
}

/** The column order of the log everywhere it is shown (table, CSV, Excel, JSON). */
export const LOG_COLUMNS = [
  'date',
  'action',
  'studentNumber',
  'studentName',
  'courseNumber',
  'courseName',
  'sectionNumber',
  'field',
  'oldValue',
  'newValue',
  'servingDistrictId',
  'servingDistrict',
  'servingSchoolId',
  'servingSchool',
  'homeDistrictId',
  'homeDistrict',
  'homeSchoolId',
  'homeSchool',
  'syncId',
  'app',
  'entity',
  'sourcedId',
  'outcome',
  'message',
  'cause',
  'state',
] as const satisfies readonly (keyof LogRow | 'state')[]
export type LogColumn = (typeof LOG_COLUMNS)[number]

/** Human headers for the columns, as the anchor pages name them. */
export const LOG_COLUMN_HEADERS: Readonly<Record<LogColumn, string>> = {
  date: 'Date',
  action: 'Action',
  studentNumber: 'Student Number',
  studentName: 'Student Name',
  courseNumber: 'Course Number',
  courseName: 'Course Name',
  sectionNumber: 'Section Number',
  field: 'Field',
  oldValue: 'Old Value',
  newValue: 'New Value',
  servingDistrictId: 'Serving District ID',
  servingDistrict: 'Serving District',
  servingSchoolId: 'Serving School ID',
  servingSchool: 'Serving School',
  homeDistrictId: 'Home District ID',
  homeDistrict: 'Home District',
  homeSchoolId: 'Home School ID',
  homeSchool: 'Home School',
  syncId: 'Sync ID',
  app: 'App',
  entity: 'Entity',
  sourcedId: 'Sourced ID',
  outcome: 'Outcome',
  message: 'Message',
  cause: 'Cause',
  state: 'State',
}
