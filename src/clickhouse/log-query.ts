/**
 * SQL for reading the sync log, built from a scope, a LogFilter and a page.
 * Pure. Every value travels as a query parameter; the only identifiers taken
 * from the caller are contains-columns, checked against LOG_COLUMNS and bound
 * as `Identifier`. The scope's conditions are ANDed to the filter's.
 */
import { LOG_COLUMNS, type LogColumn } from '../events/sync-log-event.js'
import { SynclogError } from '../errors.js'
import { setOwn } from '../dict.js'
import { NGRAM_INDEXED_COLUMNS, NGRAM_SIZE } from './ddl.js'
import { equals, inList, timeBounds, whereClause, type BuiltQuery } from './filter-parts.js'
import { LOG_ORDER, afterCursor } from './log-cursor.js'
import { SYNC_LOG_COLUMNS } from './rows.js'
import { logScope, parseSide, schoolCondition } from './scope.js'
import type { LogFilter, PageRequest, Scope } from './types.js'

const SELECT_LIST = SYNC_LOG_COLUMNS.join(', ')

/** `date` as users see it (ISO with Z), so a contains on date matches the shown text. */
const DATE_AS_SHOWN = `concat(replaceOne(toString(date), ' ', 'T'), 'Z')`

/** Outcomes a sync's error report lists (sync-semantics.md: not applied or flagged). */
export const REPORT_OUTCOMES = ['Skipped', 'Invalid', 'Excluded', 'Merged'] as const

export const DEFAULT_PAGE_ROWS = 100
export const MAX_PAGE_ROWS = 10_000

/** Longest contains text: far longer than any cell a SIS sends, short enough to bound a query's size. */
export const MAX_CONTAINS_CHARS = 200_000

const LOG_COLUMN_SET: ReadonlySet<string> = new Set<string>(LOG_COLUMNS)
const NGRAM_COLUMNS: ReadonlySet<string> = new Set<string>(NGRAM_INDEXED_COLUMNS)

export function isLogColumn(name: string): name is LogColumn {
  return LOG_COLUMN_SET.has(name)
}

const ASCII = /^[\x20-\x7e]*$/

function containsCondition(column: string, text: string, i: number, params: Record<string, unknown>): string[] {
  if (!isLogColumn(column)) {
    throw new SynclogError('USAGE', `unknown column '${column}'; columns are: ${LOG_COLUMNS.join(', ')}`)
  }
  if ([...text].length > MAX_CONTAINS_CHARS) {
    throw new SynclogError('USAGE', `the ${column} filter is longer than ${MAX_CONTAINS_CHARS} characters`)
  }
  setOwn(params, `c${i}_text`, text)
  if (column === 'date') return [`positionCaseInsensitiveUTF8(${DATE_AS_SHOWN}, {c${i}_text:String}) > 0`]
  setOwn(params, `c${i}_col`, column)
  const conditions = [`positionCaseInsensitiveUTF8({c${i}_col:Identifier}, {c${i}_text:String}) > 0`]
  // Lets the column's ngram index skip granules. Only for ASCII text, where
  // lower-casing is exact, so the hint is a superset of the match: it can
  // narrow the scan, never the result.
  if (NGRAM_COLUMNS.has(column) && text.length >= NGRAM_SIZE && ASCII.test(text)) {
    setOwn(params, `c${i}_lower`, [text.toLowerCase()])
    conditions.unshift(`multiSearchAny(lowerUTF8({c${i}_col:Identifier}), {c${i}_lower:Array(String)})`)
  }
  return conditions
}

/** `(tenant, syncId)` of syncs whose latest status is Rejected (within the scope's tenant). */
function notRejected(scope: Scope): string {
  const tenant = scope.tenant === undefined ? '' : 'AND tenant = {scope_tenant:String} '
  return `(tenant, syncId) NOT IN (SELECT tenant, syncId FROM sync_runs FINAL WHERE status = 'Rejected' ${tenant})`
}

/** The conditions of scope + filter, shared by the page and count queries. */
export function logConditions(scope: Scope, filter: LogFilter, params: Record<string, unknown>): string[] {
  const where = logScope(scope, params)
  where.push(...equals('f_tenant', 'tenant', filter.tenant, params))
  where.push(...equals('f_sync', 'syncId', filter.syncId, params))
  if (filter.school !== undefined) {
    params['f_school'] = filter.school
    where.push(schoolCondition(parseSide(filter.schoolSide, 'side'), 'f_school'))
  }
  where.push(...inList('f_actions', 'action', filter.actions, params))
  where.push(...inList('f_outcomes', 'outcome', filter.outcomes, params))
  where.push(...inList('f_apps', 'app', filter.apps, params))
  where.push(...inList('f_entities', 'entity', filter.entities, params))
  where.push(...equals('f_record_school', 'recordSchoolId', filter.recordSchoolId, params))
  where.push(...equals('f_student', 'studentNumber', filter.studentNumber, params))
  where.push(...equals('f_section', 'sectionNumber', filter.sectionNumber, params))
  where.push(...equals('f_sourced', 'sourcedId', filter.sourcedId, params))
  where.push(...timeBounds('date', filter.from, filter.to, params))
  ;(filter.contains ?? []).forEach(({ column, text }, i) => where.push(...containsCondition(column, text, i, params)))
  if (filter.includeRejected !== true) where.push(notRejected(scope))
  return where
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
  const query = `SELECT ${SELECT_LIST}
FROM sync_log FINAL
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
FROM sync_log FINAL
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
  const query = `SELECT ${SELECT_LIST}
FROM sync_log FINAL
${whereClause(where)}
ORDER BY entity ASC, seq ASC`
  return { query, params }
}
