/**
 * SQL for reading the sync log, built from a LogFilter. Pure. Every value
 * travels as a query parameter; the only identifiers taken from the caller are
 * contains-columns, checked against LOG_COLUMNS and bound as `Identifier`.
 */
import { LOG_COLUMNS, type LogColumn } from '../events/sync-log-event.js'
import { SynclogError } from '../errors.js'
import { pagingClause, timeBounds, whereClause, type BuiltQuery } from './filter-parts.js'
import { SYNC_LOG_COLUMNS } from './rows.js'
import type { LogFilter } from './types.js'

const SELECT_LIST = SYNC_LOG_COLUMNS.join(', ')

/** `date` as users see it (ISO with Z), so a contains on date matches the shown text. */
const DATE_AS_SHOWN = `concat(replaceOne(toString(date), ' ', 'T'), 'Z')`

/** Outcomes a sync's error report lists (sync-semantics.md: not applied or flagged). */
export const REPORT_OUTCOMES = ['Skipped', 'Invalid', 'Excluded', 'Merged'] as const

const LOG_COLUMN_SET: ReadonlySet<string> = new Set<string>(LOG_COLUMNS)

export function isLogColumn(name: string): name is LogColumn {
  return LOG_COLUMN_SET.has(name)
}

/** The index on lowerUTF8(studentName) is an ngram filter of n = 3. */
const NGRAM = 3
const ASCII = /^[\x20-\x7e]*$/

function containsCondition(column: string, text: string, i: number, params: Record<string, unknown>): string[] {
  if (!isLogColumn(column)) {
    throw new SynclogError('USAGE', `unknown column '${column}'; columns are: ${LOG_COLUMNS.join(', ')}`)
  }
  params[`c${i}_text`] = text
  if (column === 'date') return [`positionCaseInsensitiveUTF8(${DATE_AS_SHOWN}, {c${i}_text:String}) > 0`]
  params[`c${i}_col`] = column
  const conditions = [`positionCaseInsensitiveUTF8({c${i}_col:Identifier}, {c${i}_text:String}) > 0`]
  // Lets the ngram index skip granules. Only for ASCII text, where it is a
  // superset of the case-insensitive match, so it can narrow the scan, never the result.
  if (column === 'studentName' && text.length >= NGRAM && ASCII.test(text)) {
    conditions.unshift(`multiSearchAny(lowerUTF8(studentName), [lowerUTF8({c${i}_text:String})])`)
  }
  return conditions
}

/** `(tenant, syncId)` of syncs whose latest status is Rejected. */
const REJECTED_SYNCS = `(tenant, syncId) NOT IN (SELECT tenant, syncId FROM sync_runs FINAL WHERE status = 'Rejected')`

/** Rows of the log matching the filter, newest first (date desc, seq desc). */
export function buildLogQuery(filter: LogFilter): BuiltQuery {
  const params: Record<string, unknown> = {}
  const where: string[] = []
  if (filter.tenant !== undefined) {
    params['tenant'] = filter.tenant
    where.push('tenant = {tenant:String}')
  }
  if (filter.syncId !== undefined) {
    params['syncId'] = filter.syncId
    where.push('syncId = {syncId:String}')
  }
  if (filter.school !== undefined) {
    params['school'] = filter.school
    where.push('(homeSchoolId = {school:String} OR servingSchoolId = {school:String})')
  }
  if (filter.actions !== undefined && filter.actions.length > 0) {
    params['actions'] = [...filter.actions]
    where.push('action IN {actions:Array(String)}')
  }
  if (filter.outcomes !== undefined && filter.outcomes.length > 0) {
    params['outcomes'] = [...filter.outcomes]
    where.push('outcome IN {outcomes:Array(String)}')
  }
  where.push(...timeBounds('date', filter.from, filter.to, params))
  ;(filter.contains ?? []).forEach(({ column, text }, i) => where.push(...containsCondition(column, text, i, params)))
  if (filter.includeRejected !== true) where.push(REJECTED_SYNCS)
  const query = `SELECT ${SELECT_LIST}
FROM sync_log FINAL
${whereClause(where)}
ORDER BY date DESC, seq DESC, syncId DESC, tenant ASC
${pagingClause(filter.limit, filter.offset, params)}`
  return { query, params }
}

/** The rows of one sync whose outcome is Skipped, Invalid, Excluded or Merged, by entity then seq. */
export function buildReportQuery(syncId: string, tenant: string | undefined): BuiltQuery {
  const params: Record<string, unknown> = { syncId, outcomes: [...REPORT_OUTCOMES] }
  const where = ['syncId = {syncId:String}', 'outcome IN {outcomes:Array(String)}']
  if (tenant !== undefined) {
    params['tenant'] = tenant
    where.unshift('tenant = {tenant:String}')
  }
  const query = `SELECT ${SELECT_LIST}
FROM sync_log FINAL
${whereClause(where)}
ORDER BY entity ASC, seq ASC`
  return { query, params }
}
