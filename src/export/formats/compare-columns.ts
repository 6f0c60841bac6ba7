/** How a comparison of two syncs is laid out in columns (table and CSV). */
import { NOT_LOGGED, type RecordComparison, type SyncComparison } from '../../clickhouse/sync-compare.js'
import { COUNT_COLUMNS, type Columns } from './columns.js'

/** The counts: one line per entity and sync (A, B), and one for B − A. */
export const COMPARE_COUNT_COLUMNS: Columns = [COUNT_COLUMNS[0]!, ['sync', 'Sync'], ...COUNT_COLUMNS.slice(1)]

export const COMPARE_RECORD_COLUMNS: Columns = [
  ['entity', 'Data type'],
  ['sourcedId', 'Sourced ID'],
  ['studentNumber', 'Student Number'],
  ['studentName', 'Student Name'],
  ['courseNumber', 'Course Number'],
  ['sectionNumber', 'Section Number'],
  ['outcomeA', 'Outcome in A'],
  ['outcomeB', 'Outcome in B'],
  ['messageA', 'Message in A'],
  ['messageB', 'Message in B'],
]

/** Three lines per entity: its counts in A, in B, and B − A. */
export function compareCountRows(cmp: SyncComparison): Record<string, string | number>[] {
  return cmp.counts.flatMap((c) => [
    { entity: c.entity, sync: 'A', ...c.a },
    { entity: '', sync: 'B', ...c.b },
    { entity: '', sync: 'B − A', ...c.difference },
  ])
}

/** A differing record as a line: outcomes spelled out ("not logged" for none). */
export function compareRecordRow(r: RecordComparison): Record<string, string> {
  return { ...r, outcomeA: r.outcomeA ?? NOT_LOGGED, outcomeB: r.outcomeB ?? NOT_LOGGED }
}
