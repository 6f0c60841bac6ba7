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
] as const satisfies readonly (readonly [string, string])[]

export type SyncReportRow = {
  readonly id: string
  readonly sis_id: string
  readonly field: string
  readonly status: ReportStatus
  readonly message: string
}

export interface SyncReportFile {
  /** Path of the written file (`dir` joined with the report's name). */
  readonly file: string
  readonly rows: number
}

/**
 * Clever-style per-entity error reports for one sync into `dir` (mkdir -p): one file per entity that has rows.
 * Columns `id, sis_id, field, status, message` (id = `${syncId}/${seq}`, sis_id = sourcedId;
 * status: Skipped → 'Failure', Excluded → 'Excluded', Merged → 'Merged', Invalid → 'Warning').
 * Rows of other syncs, rows without an entity and rows with any other outcome are not reported.
 * CSV with BOM, neutralized, each file written atomically. Returns the files in entity order.
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

/** The report rows of one sync, per entity, in input order. */
export function groupReportRows(syncId: string, rows: Iterable<LogRecord>): Map<EntityType, SyncReportRow[]> {
  const byEntity = new Map<EntityType, SyncReportRow[]>()
  for (const row of rows) {
    if (row.syncId !== syncId || row.entity === '' || !isReported(row.outcome)) continue
    const list = byEntity.get(row.entity) ?? []
    list.push({
      id: `${syncId}/${row.seq}`,
      sis_id: row.sourcedId,
      field: row.field,
      status: REPORT_STATUS[row.outcome],
      message: row.message,
    })
    byEntity.set(row.entity, list)
  }
  return byEntity
}

function isReported(outcome: LogRecord['outcome']): outcome is ReportedOutcome {
  return Object.hasOwn(REPORT_STATUS, outcome)
}
