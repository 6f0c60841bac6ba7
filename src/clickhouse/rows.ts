/**
 * Pure mappers between sync-log events and table rows, and back to read models.
 * No I/O: the store hands these rows to the client as JSONCompactEachRow, in the column
 * order of TABLE_COLUMNS.
 */
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import {
  ROW_STATES,
  SYNC_STATUSES,
  type RowState,
  type LogRow,
  type SyncCounts,
  type SyncLogEvent,
  type SyncStatus,
  type SyncStatusChanged,
} from '../events/sync-log-event.js'
import { SynclogError } from '../errors.js'
import { parseInstant } from '../events/instant.js'
import { fromClickHouseText, toClickHouseText } from './time.js'
import type { LogRecord, OutcomeCountsJson } from './types.js'

/** The columns of sync_log, in the order they are selected. */
export const SYNC_LOG_COLUMNS = [
  'tenant',
  'syncId',
  'seq',
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
  'app',
  'entity',
  'sourcedId',
  'outcome',
  'message',
  'recordSchoolId',
  'cause',
] as const satisfies readonly (keyof LogRecord)[]

/** A sync_log row as written and read: LogRow without `kind`, `date` as ClickHouse text. */
export type SyncLogTableRow = { [K in Exclude<keyof LogRecord, 'state'>]: K extends 'seq' ? number : string }

/** A sync_log row as a log query selects it: the table's columns and the row's state (ROW_STATE_SQL). */
export type SelectedLogRow = SyncLogTableRow & { state: string }

export const COUNT_FIELDS = [
  'total',
  'new',
  'updated',
  'noChange',
  'deleted',
  'skipped',
  'invalid',
  'duplicates',
  'merged',
  'excluded',
] as const satisfies readonly (keyof OutcomeCountsJson)[]

export interface SyncCountsTableRow extends OutcomeCountsJson {
  tenant: string
  syncId: string
  app: string
  entity: string
  schoolId: string
  schoolName: string
  startedAt: string
}

export interface SyncRunsTableRow {
  tenant: string
  syncId: string
  app: string
  status: string
  version: number
  startedAt: string
  endedAt: string | null
  message: string
  modes: string
  reviewedBy: string
  reviewedAt: string | null
  reviewReason: string
}

/** A table's columns as a row type names them: the Record makes the list name every field, once. */
const columnsOf = <T>(all: Record<keyof T, true>): readonly (keyof T & string)[] => Object.keys(all) as (keyof T & string)[]

/**
 * The columns the store writes, per table, in order: rows go out as JSON arrays
 * (JSONCompactEachRow) rather than objects, which is about half the bytes for ClickHouse
 * to parse and for the client to write.
 */
export const TABLE_COLUMNS = {
  sync_log: SYNC_LOG_COLUMNS as readonly (keyof SyncLogTableRow)[],
  sync_runs: columnsOf<SyncRunsTableRow>({
    tenant: true,
    syncId: true,
    app: true,
    status: true,
    version: true,
    startedAt: true,
    endedAt: true,
    message: true,
    modes: true,
    reviewedBy: true,
    reviewedAt: true,
    reviewReason: true,
  }),
  sync_counts: columnsOf<SyncCountsTableRow>({
    tenant: true,
    syncId: true,
    app: true,
    entity: true,
    schoolId: true,
    schoolName: true,
    startedAt: true,
    total: true,
    new: true,
    updated: true,
    noChange: true,
    deleted: true,
    skipped: true,
    invalid: true,
    duplicates: true,
    merged: true,
    excluded: true,
  }),
}

export interface TableRows {
  readonly log: SyncLogTableRow[]
  readonly runs: SyncRunsTableRow[]
  readonly counts: SyncCountsTableRow[]
}

const UINT32_MAX = 4_294_967_295

function rejected(e: SyncLogEvent, what: string): SynclogError {
  return new SynclogError('EVENT_REJECTED', `${e.kind} of sync '${e.syncId}' (tenant '${e.tenant}') cannot be stored: ${what}`)
}

function uint32(e: SyncLogEvent, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX)
    throw rejected(e, `${name} must be an integer from 0 to ${UINT32_MAX}, got ${value}`)
  return value
}

function instant(e: SyncLogEvent, name: string, iso: string): string {
  const ms = parseInstant(iso)
  if (ms === null) throw rejected(e, `${name} '${iso}' is not an ISO-8601 instant between 1900 and 2299`)
  return toClickHouseText(ms)
}

/** One literal, column by column (the type makes it list every column): a rest-and-spread copy cost twice as much per row. */
export function toLogTableRow(r: LogRow): SyncLogTableRow {
  return {
    tenant: r.tenant,
    syncId: r.syncId,
    seq: uint32(r, 'seq', r.seq),
    date: instant(r, 'date', r.date),
    action: r.action,
    studentNumber: r.studentNumber,
    studentName: r.studentName,
    courseNumber: r.courseNumber,
    courseName: r.courseName,
    sectionNumber: r.sectionNumber,
    field: r.field,
    oldValue: r.oldValue,
    newValue: r.newValue,
    servingDistrictId: r.servingDistrictId,
    servingDistrict: r.servingDistrict,
    servingSchoolId: r.servingSchoolId,
    servingSchool: r.servingSchool,
    homeDistrictId: r.homeDistrictId,
    homeDistrict: r.homeDistrict,
    homeSchoolId: r.homeSchoolId,
    homeSchool: r.homeSchool,
    app: r.app,
    entity: r.entity,
    sourcedId: r.sourcedId,
    outcome: r.outcome,
    message: r.message,
    recordSchoolId: r.recordSchoolId,
    cause: r.cause,
  }
}

export function toRunsTableRow(e: SyncStatusChanged): SyncRunsTableRow {
  return {
    tenant: e.tenant,
    syncId: e.syncId,
    app: e.app,
    status: e.status,
    version: uint32(e, 'version', e.version),
    startedAt: instant(e, 'startedAt', e.startedAt),
    endedAt: e.endedAt.trim() === '' ? null : instant(e, 'endedAt', e.endedAt),
    message: e.message,
    modes: e.modes,
    reviewedBy: e.reviewedBy,
    reviewedAt: e.reviewedAt.trim() === '' ? null : instant(e, 'reviewedAt', e.reviewedAt),
    reviewReason: e.reviewReason,
  }
}

export function toCountsTableRow(e: SyncCounts): SyncCountsTableRow {
  const row: SyncCountsTableRow = {
    tenant: e.tenant,
    syncId: e.syncId,
    app: e.app,
    entity: e.entity,
    schoolId: e.schoolId,
    schoolName: e.schoolName,
    // Counts written before the field existed carry '' (the Avro default): the epoch, outside every day filter.
    startedAt: e.startedAt === '' ? toClickHouseText(0) : instant(e, 'startedAt', e.startedAt),
    ...zeroCounts(),
  }
  for (const f of COUNT_FIELDS) row[f] = uint32(e, `counts.${f}`, e.counts[f])
  return row
}

/**
 * Split events into table rows. Within one batch the last event per table key
 * wins (for runs: the highest version), exactly as the tables collapse them,
 * so a batch never depends on how ClickHouse orders equal keys inside a block.
 */
export function toTableRows(events: readonly SyncLogEvent[]): TableRows {
  const log = new Map<string, SyncLogTableRow>()
  const runs = new Map<string, SyncRunsTableRow>()
  const counts = new Map<string, SyncCountsTableRow>()
  for (const e of events) {
    switch (e.kind) {
      case 'LogRow': {
        const row = toLogTableRow(e)
        log.set(JSON.stringify([row.tenant, row.syncId, row.seq]), row)
        break
      }
      case 'SyncStatusChanged': {
        const row = toRunsTableRow(e)
        const key = JSON.stringify([row.tenant, row.syncId])
        const seen = runs.get(key)
        if (seen === undefined || seen.version <= row.version) runs.set(key, row)
        break
      }
      case 'SyncCounts': {
        const row = toCountsTableRow(e)
        counts.set(JSON.stringify([row.tenant, row.syncId, row.entity, row.schoolId]), row)
        break
      }
      default: {
        const unknown: never = e
        throw new SynclogError('EVENT_REJECTED', `unknown sync-log event kind: ${JSON.stringify(unknown)}`)
      }
    }
  }
  return { log: [...log.values()], runs: [...runs.values()], counts: [...counts.values()] }
}

export function zeroCounts(): OutcomeCountsJson {
  return { total: 0, new: 0, updated: 0, noChange: 0, deleted: 0, skipped: 0, invalid: 0, duplicates: 0, merged: 0, excluded: 0 }
}

/** Add `b` into `a`. */
export function addCounts(a: OutcomeCountsJson, b: OutcomeCountsJson): void {
  for (const f of COUNT_FIELDS) a[f] += b[f]
}

// ---- reading back -------------------------------------------------------------

const ENTITY_SET: ReadonlySet<string> = new Set<string>(ENTITY_TYPES)
const STATUS_SET: ReadonlySet<string> = new Set<string>(SYNC_STATUSES)
const ROW_STATE_SET: ReadonlySet<string> = new Set<string>(ROW_STATES)

function corrupt(what: string): SynclogError {
  return new SynclogError('STATE_CORRUPT', `ClickHouse returned ${what}; the tables do not match synclog's schema`)
}

function isEntity(s: string): s is EntityType {
  return ENTITY_SET.has(s)
}
function isStatus(s: string): s is SyncStatus {
  return STATUS_SET.has(s)
}

export function toSyncStatus(s: string): SyncStatus {
  if (!isStatus(s)) throw corrupt(`an unknown sync status '${s}'`)
  return s
}

/** ClickHouse DateTime64 text as an ISO instant with Z; null/blank stays blank. */
export function isoFromTable(text: string | null): string {
  if (text === null || text === '') return ''
  const iso = fromClickHouseText(text)
  if (iso === null) throw corrupt(`an unreadable date '${text}'`)
  return iso
}

function readEntity(s: string): EntityType | '' {
  if (s === '' || isEntity(s)) return s
  throw corrupt(`an unknown entity '${s}'`)
}

function readState(s: string): RowState {
  if (ROW_STATE_SET.has(s)) return s as RowState
  throw corrupt(`an unknown row state '${s}'`)
}

export function toLogRecord(row: SelectedLogRow): LogRecord {
  return {
    ...row,
    state: readState(row.state),
    seq: Number(row.seq),
    date: isoFromTable(row.date),
    // Actions and outcomes a newer synclog wrote are shown as they are (sync-log-event.ts, UnknownValue).
    entity: readEntity(row.entity),
  }
}
