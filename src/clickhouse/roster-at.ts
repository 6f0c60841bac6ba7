/**
 * Rosters in time, read from the sync log alone: who was in a section at an instant, or
 * which sections a student had. Pure: builds the SQL and reads its rows; the store runs it.
 *
 * A roster line is a student enrollment (the row's sourcedId) in a section (the section
 * number the row recorded). The fold writes a roster row whenever a line appears (Created
 * Roster), goes (Deleted Roster: the enrollment or its student deleted, its section
 * invalidated, or the line absent from a full file), moves (Deleted Roster in the old
 * section, Created Roster in the new) or changes its dates (Updated Roster Start / End
 * Date). So the latest roster row of a line at or before the instant decides: the line was
 * there unless that row is a Deleted Roster. Rows of syncs whose changes were not applied
 * (latest status On Hold, Preview or Rejected) do not count. Rows of one date are ordered
 * by their sync's start, then by their place in the sync.
 *
 * The tenant part of the scope narrows the rows; the school part is matched on the line's
 * latest row, so a school sees the lines whose latest row names it, never an older line
 * that a row outside its view ended.
 */
import { SynclogError } from '../errors.js'
import { AWAITING_REVIEW, ROSTER_ACTIONS, type SyncStatus } from '../events/sync-log-event.js'
import { DATE_OR_INSTANT_FORM, DAY_MS, parseDateOnly, parseInstant } from '../events/instant.js'
import { whereClause, type BuiltQuery } from './filter-parts.js'
import { isoFromTable } from './rows.js'
import { checkScope, schoolCondition } from './scope.js'
import { toClickHouseText } from './time.js'
import { wallClock } from '../export/local-time.js'
import type { Scope } from './types.js'

/** Whose roster: a section's students (by section number) or a student's sections (by student number). */
export type RosterKey = { readonly section: string } | { readonly student: string }

export interface RosterQuery {
  readonly key: RosterKey
  /** A date (through the end of that day in `zone`) or an ISO instant. */
  readonly at: string
  /** The IANA time zone a date is read in (the tenant's); default UTC. */
  readonly zone?: string
  /** Narrows to one tenant within the scope. */
  readonly tenant?: string
}

/** One roster line as the log last recorded it. */
export interface RosterLine {
  tenant: string
  /** The student enrollment's sourcedId. */
  sourcedId: string
  studentNumber: string
  studentName: string
  courseNumber: string
  courseName: string
  sectionNumber: string
  servingSchoolId: string
  servingSchool: string
  homeSchoolId: string
  homeSchool: string
  /** The line's start and end dates as its latest Updated Roster Start / End Date row set them since it was created; blank when the log has none. */
  beginDate: string
  endDate: string
  /** When the line was created (the date of its latest Created Roster row); blank when the log does not reach back that far. */
  since: string
  /** The sync of the line's latest roster row. */
  syncId: string
}

/** A roster at an instant: what was asked, the instant it was read at, and its lines. */
export interface RosterAt {
  section?: string
  student?: string
  /** The tenant asked for, if one was. */
  tenant?: string
  /** The instant the roster was read at (ISO, `Z`): a date's last millisecond in the zone, or the instant given. */
  at: string
  lines: RosterLine[]
}

/** Statuses whose rows were never applied to the roster. */
const NOT_APPLIED: readonly SyncStatus[] = [...AWAITING_REVIEW, 'Rejected']

/** The columns a line takes from its latest row. */
const LATEST_COLUMNS = [
  'studentNumber',
  'studentName',
  'courseNumber',
  'courseName',
  'servingSchoolId',
  'servingSchool',
  'homeSchoolId',
  'homeSchool',
  'syncId',
  'action',
] as const

/** The last millisecond of a calendar day (given as its UTC midnight) in a time zone, as epoch ms. */
function endOfLocalDay(dayUtcMs: number, zone: string): number {
  const next = dayUtcMs + DAY_MS
  const offsetAt = (ms: number): number => (wallClock(new Date(ms).toISOString(), zone)?.getTime() ?? ms) - ms
  // The offset at the next local midnight, looked up twice so a daylight-saving change that day is taken.
  const midnight = next - offsetAt(next - offsetAt(next))
  return midnight - 1
}

/** The instant `at` names, as epoch ms: a date is through its last millisecond in `zone`; a USAGE error otherwise. */
export function rosterInstant(at: string, zone = 'UTC'): number {
  const day = parseDateOnly(at.trim())
  if (day !== null) return endOfLocalDay(day, zone)
  const ms = parseInstant(at)
  if (ms === null) throw new SynclogError('USAGE', `at must be ${DATE_OR_INSTANT_FORM} (got '${at}')`)
  return ms
}

function keyCondition(key: RosterKey, params: Record<string, unknown>): string {
  const [column, value] = 'section' in key ? ['sectionNumber', key.section] : ['studentNumber', key.student]
  if (value.trim() === '') throw new SynclogError('USAGE', `a roster needs a ${'section' in key ? 'section' : 'student'} number`)
  params['r_key'] = value
  return `l.${column} = {r_key:String}`
}

/** The roster of a section or a student at an instant, in the scope. */
export function buildRosterQuery(scope: Scope, q: RosterQuery): BuiltQuery {
  checkScope(scope)
  const params: Record<string, unknown> = {
    r_at: toClickHouseText(rosterInstant(q.at, q.zone)),
    r_actions: [...ROSTER_ACTIONS],
    r_not_applied: [...NOT_APPLIED],
  }
  const rows = [
    `l.entity = 'enrollment'`,
    'l.action IN {r_actions:Array(String)}',
    `l.date <= toDateTime64({r_at:String}, 3, 'UTC')`,
    keyCondition(q.key, params),
  ]
  const runs = ['status NOT IN {r_not_applied:Array(String)}']
  for (const [name, tenant] of [
    ['scope_tenant', scope.tenant],
    ['r_tenant', q.tenant],
  ] as const) {
    if (tenant === undefined) continue
    params[name] = tenant
    rows.push(`l.tenant = {${name}:String}`)
    runs.push(`tenant = {${name}:String}`)
  }
  const lines = [`action != 'Deleted Roster'`]
  if (scope.school !== undefined) {
    params['scope_school'] = scope.school.id
    lines.push(schoolCondition(scope.school.side, 'scope_school'))
  }
  const order = 'section' in q.key ? 'studentName, studentNumber, courseNumber' : 'courseNumber, sectionNumber, servingSchool'
  const query = `SELECT *
FROM (
  SELECT
    tenant, sourcedId, sectionNumber,
    ${LATEST_COLUMNS.map((c) => `argMax(r_${c}, k) AS ${c}`).join(',\n    ')},
    maxIf(k, r_action = 'Created Roster') AS created,
    if(maxIf(k, r_action = 'Updated Roster Start Date') > created, argMaxIf(r_newValue, k, r_action = 'Updated Roster Start Date'), '') AS beginDate,
    if(maxIf(k, r_action = 'Updated Roster End Date') > created, argMaxIf(r_newValue, k, r_action = 'Updated Roster End Date'), '') AS endDate,
    if(countIf(r_action = 'Created Roster') > 0, toString(created.1), '') AS since
  FROM (
    SELECT
      l.tenant AS tenant, l.sourcedId AS sourcedId, l.sectionNumber AS sectionNumber,
      ${LATEST_COLUMNS.map((c) => `l.${c} AS r_${c}`).join(', ')}, l.newValue AS r_newValue,
      (l.date, r.startedAt, l.seq) AS k
    FROM sync_log AS l FINAL
    INNER JOIN (SELECT tenant, syncId, startedAt FROM sync_runs FINAL ${whereClause(runs)}) AS r
      ON l.tenant = r.tenant AND l.syncId = r.syncId
    ${whereClause(rows)}
  )
  GROUP BY tenant, sourcedId, sectionNumber
)
${whereClause(lines)}
ORDER BY ${order}, tenant, sourcedId`
  return { query, params }
}

/** A line as the roster query returns it (with its latest row's action). */
export type RosterQueryRow = Record<keyof RosterLine | 'action', string>

export function toRosterLine(r: RosterQueryRow): RosterLine {
  return {
    tenant: r.tenant,
    sourcedId: r.sourcedId,
    studentNumber: r.studentNumber,
    studentName: r.studentName,
    courseNumber: r.courseNumber,
    courseName: r.courseName,
    sectionNumber: r.sectionNumber,
    servingSchoolId: r.servingSchoolId,
    servingSchool: r.servingSchool,
    homeSchoolId: r.homeSchoolId,
    homeSchool: r.homeSchool,
    beginDate: r.beginDate,
    endDate: r.endDate,
    since: isoFromTable(r.since),
    syncId: r.syncId,
  }
}

/** The roster's header: what was asked and the instant it was read at. */
export function rosterHeader(q: RosterQuery): Omit<RosterAt, 'lines'> {
  const at = new Date(rosterInstant(q.at, q.zone)).toISOString()
  const whose = 'section' in q.key ? { section: q.key.section } : { student: q.key.student }
  return { ...whose, ...(q.tenant === undefined ? {} : { tenant: q.tenant }), at }
}
