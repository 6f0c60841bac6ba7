/** The columns each kind of output shows, shared by the formats that lay rows out as columns. */
import type { SyncSummary } from '../../clickhouse/types.js'

/** `[key, human header]` pairs, in the order they are shown. */
export type Columns = readonly (readonly [string, string])[]

export const SYNC_COLUMNS: Columns = [
  ['startedAt', 'Started'],
  ['syncId', 'Sync ID'],
  ['tenant', 'Tenant'],
  ['app', 'App'],
  ['status', 'Status'],
  ['total', 'Records'],
  ['errors', 'Errors'],
  ['endedAt', 'Completed'],
  ['message', 'Message'],
  ['reviewedBy', 'Reviewed By'],
  ['reviewedAt', 'Reviewed At'],
  ['reviewReason', 'Review Reason'],
]

/** The Amplify summary columns, in their order. */
export const COUNT_COLUMNS: Columns = [
  ['entity', 'Data type'],
  ['total', 'Total'],
  ['noChange', 'No Change'],
  ['new', 'New'],
  ['updated', 'Updated'],
  ['deleted', 'Deleted'],
  ['skipped', 'Skipped'],
  ['duplicates', 'Duplicates'],
  ['merged', 'Merged'],
  ['excluded', 'Excluded'],
  ['invalid', 'Invalid'],
]

export const DAILY_COLUMNS: Columns = [['day', 'Day'], ['tenant', 'Tenant'], ['app', 'App'], ['syncs', 'Syncs'], ...COUNT_COLUMNS.slice(1)]

/** A roster's lines (src/clickhouse/roster-at.ts), in the order they are shown. */
export const ROSTER_COLUMNS: Columns = [
  ['studentNumber', 'Student Number'],
  ['studentName', 'Student Name'],
  ['courseNumber', 'Course Number'],
  ['courseName', 'Course Name'],
  ['sectionNumber', 'Section Number'],
  ['servingSchool', 'Serving School'],
  ['homeSchool', 'Home School'],
  ['beginDate', 'Start Date'],
  ['endDate', 'End Date'],
  ['since', 'Since'],
  ['sourcedId', 'Sourced ID'],
]

/** Every field of a roster line, for files. */
export const ROSTER_EXPORT_COLUMNS: Columns = [
  ['tenant', 'Tenant'],
  ...ROSTER_COLUMNS.slice(0, 5),
  ['servingSchoolId', 'Serving School ID'],
  ['servingSchool', 'Serving School'],
  ['homeSchoolId', 'Home School ID'],
  ['homeSchool', 'Home School'],
  ...ROSTER_COLUMNS.slice(7),
  ['syncId', 'Sync ID'],
]

const ENTITY_ORDER = ['org', 'academicSession', 'course', 'user', 'class', 'enrollment']
const byEntityOrder = (a: string, b: string): number => ENTITY_ORDER.indexOf(a) - ENTITY_ORDER.indexOf(b)

/** One row per entity of a summary's counts, in OneRoster's order. */
export function countRows(counts: SyncSummary['counts']): Record<string, string | number>[] {
  return Object.entries(counts)
    .sort(([a], [b]) => byEntityOrder(a, b))
    .map(([entity, c]) => ({ entity, ...c }))
}
