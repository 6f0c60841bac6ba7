/**
 * SQL for sync runs and their counts. Pure. A run is the latest version of its
 * SyncStatusChanged (FINAL on ReplacingMergeTree(version)); its totals are
 * summed from sync_counts, never from the log (No Change rows are not logged).
 */
import { equals, inList, pagingClause, parseBound, timeBounds, whereClause, type BuiltQuery } from './filter-parts.js'
import { COUNT_FIELDS } from './rows.js'
import { countsScope, runsScope } from './scope.js'
import type { CountCell, Scope, SyncListFilter } from './types.js'

/** A row of the runs query as ClickHouse returns it (dates as DateTime64 text). */
export interface RunQueryRow {
  tenant: string
  syncId: string
  app: string
  status: string
  startedAt: string
  endedAt: string | null
  message: string
  modes: string
  reviewedBy: string
  reviewedAt: string | null
  reviewReason: string
  total: number
  errors: number
}

export type CountsQueryRow = { entity: string; schoolId: string; schoolName: string } & Record<(typeof COUNT_FIELDS)[number], number>

/**
 * Runs visible in the scope and matching the filter (optionally one sync id),
 * newest start first; totals summed over the counts the scope may see.
 */
export function buildRunsQuery(scope: Scope, filter: SyncListFilter & { syncId?: string }): BuiltQuery {
  const params: Record<string, unknown> = {}
  const runs: string[] = runsScope(scope, params)
  const counts: string[] = countsScope(scope, params)
  if (filter.tenant !== undefined) {
    params['tenant'] = filter.tenant
    runs.push('tenant = {tenant:String}')
    counts.push('tenant = {tenant:String}')
  }
  if (filter.app !== undefined) {
    params['app'] = filter.app
    runs.push('app = {app:String}')
    counts.push('app = {app:String}')
  }
  if (filter.syncId !== undefined) {
    params['syncId'] = filter.syncId
    runs.push('syncId = {syncId:String}')
    counts.push('syncId = {syncId:String}')
  }
  runs.push(...timeBounds('startedAt', filter.from, filter.to, params))
  const query = `SELECT r.tenant AS tenant, r.syncId AS syncId, r.app AS app, r.status AS status,
  r.startedAt AS startedAt, r.endedAt AS endedAt, r.message AS message, r.modes AS modes,
  r.reviewedBy AS reviewedBy, r.reviewedAt AS reviewedAt, r.reviewReason AS reviewReason,
  toUInt32(ifNull(c.total, 0)) AS total, toUInt32(ifNull(c.errors, 0)) AS errors
FROM
(
  SELECT tenant, syncId, app, status, startedAt, endedAt, message, modes, reviewedBy, reviewedAt, reviewReason
  FROM sync_runs FINAL
  ${whereClause(runs)}
) AS r
LEFT JOIN
(
  SELECT tenant, syncId, sum(total) AS total, sum(skipped + invalid + excluded) AS errors
  FROM sync_counts FINAL
  ${whereClause(counts)}
  GROUP BY tenant, syncId
) AS c ON r.tenant = c.tenant AND r.syncId = c.syncId
${whereClause(inList('statuses', 'r.status', filter.status, params))}
ORDER BY r.startedAt DESC, r.syncId DESC, r.tenant ASC
${pagingClause(filter.limit, undefined, params)}`
  return { query, params }
}

/** The counts rows (entity × school) of one sync that the scope may see. */
export function buildCountsQuery(scope: Scope, tenant: string, syncId: string): BuiltQuery {
  const params: Record<string, unknown> = { tenant, syncId }
  const where = [...countsScope(scope, params), 'tenant = {tenant:String}', 'syncId = {syncId:String}']
  return {
    query: `SELECT entity, schoolId, schoolName, ${COUNT_FIELDS.join(', ')}
FROM sync_counts FINAL
${whereClause(where)}
ORDER BY entity ASC, schoolId ASC`,
    params,
  }
}

/** The number of records in one cell (sync × entity × school × outcomes), from sync_outcomes. */
export function buildCellCountQuery(scope: Scope, tenant: string, cell: CountCell): BuiltQuery {
  const params: Record<string, unknown> = { tenant, syncId: cell.syncId, entity: cell.entity }
  const where = [
    ...countsScope(scope, params),
    'tenant = {tenant:String}',
    'syncId = {syncId:String}',
    'entity = {entity:String}',
    ...equals('schoolId', 'schoolId', cell.schoolId, params),
    ...inList('outcomes', 'outcome', cell.outcomes, params),
  ]
  return {
    query: `SELECT toUInt32(sum(records)) AS records FROM sync_outcomes FINAL ${whereClause(where)}`,
    params,
  }
}

/** Schools with counts in the scope, one row per tenant × school (the latest name), by tenant then name. */
export function buildSchoolsQuery(scope: Scope): BuiltQuery {
  const params: Record<string, unknown> = {}
  const where = [...countsScope(scope, params), "schoolId != ''"]
  return {
    query: `SELECT tenant, schoolId, argMax(schoolName, startedAt) AS schoolName
FROM sync_counts
${whereClause(where)}
GROUP BY tenant, schoolId
ORDER BY tenant ASC, schoolName ASC, schoolId ASC`,
    params,
  }
}

function dayOf(option: string, value: string): string {
  return new Date(parseBound(option, value)).toISOString().slice(0, 10)
}

export interface DailyQueryRow {
  tenant: string
  app: string
  day: string
  syncs: number | string
  counts: Record<(typeof COUNT_FIELDS)[number], number | string>
}

/** Daily rollups (tenant × app × day) visible in the scope, newest day first. */
export function buildDailyQuery(scope: Scope, filter: { tenant?: string; app?: string; from?: string; to?: string }): BuiltQuery {
  const params: Record<string, unknown> = {}
  const where = [
    ...runsScope(scope, params),
    ...equals('tenant', 'tenant', filter.tenant, params),
    ...equals('app', 'app', filter.app, params),
  ]
  // A bound is the UTC day of the date or instant given; both ends inclusive.
  if (filter.from !== undefined) {
    params['from_day'] = dayOf('from', filter.from)
    where.push('day >= toDate({from_day:String})')
  }
  if (filter.to !== undefined) {
    params['to_day'] = dayOf('to', filter.to)
    where.push('day <= toDate({to_day:String})')
  }
  // A school scope keeps the cells counted under that school.
  const merged = 'groupUniqArrayMerge(cells)'
  let kept = merged
  let syncCount = 'uniqExactMerge(syncs)'
  if (scope.school !== undefined) {
    params['scope_school'] = scope.school.id
    kept = `arrayFilter(c -> c.schoolId = {scope_school:String}, ${merged})`
    syncCount = 'length(arrayDistinct(arrayMap(c -> c.syncId, kept)))'
  }
  const sums = COUNT_FIELDS.map((f) => `'${f}', toUInt64(arraySum(c -> c.${f}, kept))`).join(', ')
  return {
    query: `SELECT tenant, app, toString(day) AS day, syncCount AS syncs, map(${sums}) AS counts
FROM
(
  SELECT tenant, app, day, ${kept} AS kept, ${syncCount} AS syncCount
  FROM sync_daily
  ${whereClause(where)}
  GROUP BY tenant, app, day
)
WHERE syncCount > 0
ORDER BY day DESC, tenant ASC, app ASC`,
    params,
  }
}
