import { makeDirectory } from '../paths/make-directory.js'
import { join } from 'node:path'
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import type { Outcome } from '../events/sync-log-event.js'
import { writeFileAtomically } from './atomic-file.js'
import { writeCsv } from './csv-writer.js'
import type { LogRecord } from './log-record.js'

/** Outcomes a Clever-style sync report lists, and the status it shows for each. */
const REPORT_STATUS = {
  Skipped: 'Failure',
  Excluded: 'Excluded',
  Merged: 'Merged',
  Invalid: 'Warning',
} as const satisfies Partial<Record<Outcome, string>>
type ReportedOutcome = keyof typeof REPORT_STATUS
export type ReportStatus = (typeof REPORT_STATUS)[ReportedOutcome]

/** Report file per entity, named as Clever names them (OneRoster file names for the rest). */
export const SYNC_REPORT_FILES: Readonly<Record<EntityType, string>> = {
  org: 'schools_sync_report.csv',
  academicSession: 'academicSessions_sync_report.csv',
  course: 'courses_sync_report.csv',
  user: 'users_sync_report.csv',
  class: 'classes_sync_report.csv',
  enrollment: 'enrollments_sync_report.csv',
}

export const SYNC_REPORT_COLUMNS = [
  ['id', 'id'],
  ['sis_id', 'sis_id'],
  ['field', 'field'],
  ['status', 'status'],
  ['message', 'message'],
  ['cause', 'cause'],
] as const satisfies readonly (readonly [string, string])[]

export type SyncReportRow = {
  readonly id: string
  readonly sis_id: string
  readonly field: string
  readonly status: ReportStatus
  readonly message: string
  readonly cause: string
}

export interface SyncReportFile {
  /** Path of the written file (`dir` joined with the report's name). */
  readonly file: string
  readonly rows: number
}

/**
 * Clever-style per-entity error reports for one sync into `dir` (mkdir -p): one file per entity that has rows.
 * One row per failed object (entity + sourcedId), its errors joined: columns `id, sis_id, field, status,
 * message, cause` (id and sis_id = the object's sourcedId; status: Skipped → 'Failure', Excluded →
 * 'Excluded', Invalid → 'Warning', Merged → 'Merged', the most severe of the object's, in that order; cause: the
 * record whose error or absence caused it, blank when it is its own). Objects with no cause come first,
 * then the caused ones grouped under their cause. Rows of other syncs, rows without an entity and rows
 * with any other outcome are not reported. CSV with BOM, neutralized, each file written atomically.
 * Returns the files in entity order.
 */
export async function writeSyncReports(dir: string, syncId: string, rows: Iterable<LogRecord>): Promise<SyncReportFile[]> {
  const byEntity = groupReportRows(syncId, rows)
  const written: SyncReportFile[] = []
  if (byEntity.size === 0) return written
  await makeDirectory(dir)
  for (const entity of ENTITY_TYPES) {
    const reportRows = byEntity.get(entity)
    if (!reportRows) continue
    const file = join(dir, SYNC_REPORT_FILES[entity])
    const count = await writeFileAtomically(file, (out) => writeCsv(out, reportRows, SYNC_REPORT_COLUMNS, { end: true }))
    written.push({ file, rows: count })
  }
  return written
}

/** Statuses from the most to the least severe: an object with several shows the first. */
const SEVERITY: readonly ReportStatus[] = ['Failure', 'Excluded', 'Warning', 'Merged']

/** One failed object's errors, gathered from its rows in input order. */
interface ObjectErrors {
  readonly id: string
  readonly statuses: Set<ReportStatus>
  readonly fields: Set<string>
  readonly messages: Set<string>
  readonly causes: Set<string>
}

const joined = (values: Set<string>, separator: string): string => [...values].filter((v) => v !== '').join(separator)

function reportRow(o: ObjectErrors): SyncReportRow {
  return {
    id: o.id,
    sis_id: o.id,
    field: joined(o.fields, ', '),
    status: SEVERITY.find((s) => o.statuses.has(s))!,
    message: joined(o.messages, ' | '),
    cause: joined(o.causes, ' | '),
  }
}

/**
 * The report rows of one sync, per entity: one per failed object, those with no cause first (in
 * input order), then the caused ones grouped by cause (causes in order of first appearance).
 */
export function groupReportRows(syncId: string, rows: Iterable<LogRecord>): Map<EntityType, SyncReportRow[]> {
  const objects = new Map<EntityType, Map<string, ObjectErrors>>()
  for (const row of [...rows].sort((a, b) => a.seq - b.seq)) {
    if (row.syncId !== syncId || row.entity === '' || !isReported(row.outcome)) continue
    let byId = objects.get(row.entity)
    if (!byId) objects.set(row.entity, (byId = new Map()))
    let o = byId.get(row.sourcedId)
    if (!o) {
      o = { id: row.sourcedId, statuses: new Set(), fields: new Set(), messages: new Set(), causes: new Set() }
      byId.set(row.sourcedId, o)
    }
    o.statuses.add(REPORT_STATUS[row.outcome])
    o.fields.add(row.field)
    o.messages.add(row.message)
    o.causes.add(row.cause)
  }
  const byEntity = new Map<EntityType, SyncReportRow[]>()
  for (const [entity, byId] of objects) {
    const own: SyncReportRow[] = []
    const caused = new Map<string, SyncReportRow[]>()
    for (const o of byId.values()) {
      const r = reportRow(o)
      if (r.cause === '') own.push(r)
      else {
        const list = caused.get(r.cause)
        if (list) list.push(r)
        else caused.set(r.cause, [r])
      }
    }
    byEntity.set(entity, [...own, ...[...caused.values()].flat()])
  }
  return byEntity
}

function isReported(outcome: LogRecord['outcome']): outcome is ReportedOutcome {
  return Object.hasOwn(REPORT_STATUS, outcome)
}
