/**
 * SQL for sync runs and their counts. Pure. A run is the latest version of its
 * SyncStatusChanged (FINAL on ReplacingMergeTree(version)); its totals are
 * summed from sync_counts, never from the log (No Change rows are not logged).
 */
import { pagingClause, timeBounds, whereClause, type BuiltQuery } from './filter-parts.js'
import { COUNT_FIELDS } from './rows.js'
import type { SyncListFilter } from './types.js'

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
  total: number
  errors: number
}

export type CountsQueryRow = { entity: string; schoolId: string; schoolName: string } & Record<(typeof COUNT_FIELDS)[number], number>

/** Runs matching the filter (optionally one sync id), newest start first. */
export function buildRunsQuery(filter: SyncListFilter & { syncId?: string }): BuiltQuery {
  const params: Record<string, unknown> = {}
  const runs: string[] = []
  const counts: string[] = []
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
  toUInt32(ifNull(c.total, 0)) AS total, toUInt32(ifNull(c.errors, 0)) AS errors
FROM
(
  SELECT tenant, syncId, app, status, startedAt, endedAt, message, modes
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
ORDER BY r.startedAt DESC, r.syncId DESC, r.tenant ASC
${pagingClause(filter.limit, undefined, params)}`
  return { query, params }
}

/** The counts rows (entity × school) of one sync. */
export function buildCountsQuery(tenant: string, syncId: string): BuiltQuery {
  return {
    query: `SELECT entity, schoolId, schoolName, ${COUNT_FIELDS.join(', ')}
FROM sync_counts FINAL
WHERE tenant = {tenant:String} AND syncId = {syncId:String}
ORDER BY entity ASC, schoolId ASC`,
    params: { tenant, syncId },
  }
}
