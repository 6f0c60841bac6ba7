/**
 * SQL for reading the sync log, built from a scope, a LogFilter (whose
 * conditions log-filter.ts defines) and a page. Pure. Every value travels as a
 * query parameter; the only identifiers taken from the caller are
 * contains-columns, checked against LOG_COLUMNS and bound as `Identifier`. The
 * scope's conditions are ANDed to the filter's.
 */
import { SynclogError } from '../errors.js'
import { STUDENT_LOG_TABLE } from './ddl.js'
import { equals, inList, whereClause, type BuiltQuery } from './filter-parts.js'
import { LOG_ORDER, afterCursor } from './log-cursor.js'
import { filterConditions, rowStateSql } from './log-filter.js'
import { SYNC_LOG_COLUMNS } from './rows.js'
import { logScope } from './scope.js'
import type { LogFilter, PageRequest, Scope } from './types.js'

/** The table's columns and each row's state (Applied, Proposed, Rejected). */
const selectList = (scope: Scope): string => `${SYNC_LOG_COLUMNS.join(', ')}, ${rowStateSql(scope)} AS state`

/** Outcomes a sync's error report lists (sync-semantics.md: not applied or flagged). */
export const REPORT_OUTCOMES = ['Skipped', 'Invalid', 'Excluded', 'Merged'] as const

export const DEFAULT_PAGE_ROWS = 100
export const MAX_PAGE_ROWS = 10_000

/** The conditions of scope + filter, shared by the page and count queries. */
export function logConditions(scope: Scope, filter: LogFilter, params: Record<string, unknown>): string[] {
  return [...logScope(scope, params), ...filterConditions(scope, filter, params)]
}

/**
 * The table a log read goes to: a student's rows from the copy sorted by student
 * (sync_log_by_student, which holds every row that names a student: ddl.ts, migration 4),
 * anything else from sync_log.
 */
export function logTable(filter: LogFilter): string {
  return filter.studentNumber !== undefined && filter.studentNumber !== '' ? STUDENT_LOG_TABLE : 'sync_log'
}

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_ROWS
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) {
    throw new SynclogError('USAGE', `limit must be a whole number from 1 to ${MAX_PAGE_ROWS} (got ${limit})`)
  }
  return limit
}

/**
 * One page of the log matching scope + filter, newest first, after the cursor.
 * Asks for one row more than the page so the caller knows whether a next page exists.
 */
export function buildLogPageQuery(scope: Scope, filter: LogFilter, page: PageRequest): BuiltQuery & { limit: number } {
  const params: Record<string, unknown> = {}
  const where = logConditions(scope, filter, params)
  if (page.cursor !== undefined && page.cursor !== '') where.push(...afterCursor(page.cursor, params))
  const limit = pageLimit(page.limit)
  params['page_rows'] = limit + 1
  const query = `SELECT ${selectList(scope)}
FROM ${logTable(filter)} FINAL
${whereClause(where)}
ORDER BY ${LOG_ORDER}
LIMIT {page_rows:UInt32}`
  return { query, params, limit }
}

/** The number of rows and of distinct records matching scope + filter. */
export function buildLogCountQuery(scope: Scope, filter: LogFilter): BuiltQuery {
  const params: Record<string, unknown> = {}
  const where = logConditions(scope, filter, params)
  const query = `SELECT count() AS rows, uniqExact(tenant, entity, sourcedId) AS records
FROM ${logTable(filter)} FINAL
${whereClause(where)}`
  return { query, params }
}

/** The rows of one sync whose outcome is Skipped, Invalid, Excluded or Merged, by entity then seq. */
export function buildReportQuery(scope: Scope, syncId: string, tenant: string): BuiltQuery {
  const params: Record<string, unknown> = {}
  const where = logScope(scope, params)
  where.push(...equals('f_tenant', 'tenant', tenant, params))
  where.push(...equals('f_sync', 'syncId', syncId, params))
  where.push(...inList('f_outcomes', 'outcome', REPORT_OUTCOMES, params))
  const query = `SELECT ${selectList(scope)}
FROM sync_log FINAL
${whereClause(where)}
ORDER BY entity ASC, seq ASC`
  return { query, params }
}
