/**
 * A sync's rows grouped by root cause (the `cause` column the fold fills):
 * one group per cause, with how many rows and records it holds per entity type
 * and per action, largest first; then the error rows that stand on their own.
 * Every row of the sync in the caller's scope counts, whatever the sync's
 * state (held, preview, rejected): a reviewer groups what they are deciding on.
 */
import { dictOf } from '../dict.js'
import { equals, inList, whereClause, type BuiltQuery } from './filter-parts.js'
import { logScope } from './scope.js'
import type { LogRecord, Scope } from './types.js'

/** One cause and what it caused. */
export interface CauseGroup {
  /** `<entity> '<sourcedId>' <what>`, as the log's Cause column holds it. */
  cause: string
  rows: number
  /** Distinct records (entity type + sourcedId). */
  records: number
  /** Records per entity type. */
  byEntity: Record<string, number>
  /** Rows per action (Deleted Roster, Skipped, Invalidated Section, ...). */
  byAction: Record<string, number>
}

export interface CauseGroups {
  syncId: string
  tenant: string
  /** Largest first (records, then rows), then by cause. */
  groups: CauseGroup[]
  /** Error rows (Skipped, Invalid, Excluded) with no cause: how many rows and records. */
  uncaused: { rows: number; records: number }
}

/** The outcomes that make a sync Completed with Errors: the rows a reviewer must look at. */
export const ERROR_OUTCOMES = ['Skipped', 'Invalid', 'Excluded'] as const

const ERROR_OUTCOME_SET: ReadonlySet<string> = new Set(ERROR_OUTCOMES)

/** An error row that stands on its own: counted under `uncaused`. */
export function isUncausedError(row: LogRecord): boolean {
  return row.cause === '' && ERROR_OUTCOME_SET.has(row.outcome)
}

export interface CauseQueryRow {
  cause: string
  entity: string
  action: string
  /** 0: the cause's total; 1: per entity; 2: per action. */
  level: number | string
  rows: number | string
  records: number | string
}

/** The rows of one sync in the scope. */
function syncRows(scope: Scope, tenant: string, syncId: string, params: Record<string, unknown>): string[] {
  return [...logScope(scope, params), ...equals('g_tenant', 'tenant', tenant, params), ...equals('g_sync', 'syncId', syncId, params)]
}

/**
 * Per cause: the total, the records per entity and the rows per action (one
 * GROUPING SETS query), and the uncaused error rows under the cause ''. The
 * uncaused count sits in a subquery: an alias `'' AS cause` beside its WHERE
 * would replace the column there.
 */
export function buildCauseGroupsQuery(scope: Scope, tenant: string, syncId: string): BuiltQuery {
  const params: Record<string, unknown> = {}
  const caused = [...syncRows(scope, tenant, syncId, params), `cause != ''`]
  const uncaused = [...syncRows(scope, tenant, syncId, params), `cause = ''`, ...inList('g_errors', 'outcome', ERROR_OUTCOMES, params)]
  const query = `SELECT cause, entity, action, grouping(entity, action) AS level, count() AS rows, uniqExact(entity, sourcedId) AS records
FROM sync_log FINAL
${whereClause(caused)}
GROUP BY GROUPING SETS ((cause), (cause, entity), (cause, action))
UNION ALL
SELECT '' AS cause, '' AS entity, '' AS action, 0 AS level, rows, records
FROM (SELECT count() AS rows, uniqExact(entity, sourcedId) AS records FROM sync_log FINAL ${whereClause(uncaused)})`
  return { query, params }
}

/** The query's rows as groups, largest first. */
export function toCauseGroups(tenant: string, syncId: string, rows: readonly CauseQueryRow[]): CauseGroups {
  const groups = new Map<string, { rows: number; records: number; byEntity: Map<string, number>; byAction: Map<string, number> }>()
  let uncaused = { rows: 0, records: 0 }
  for (const r of rows) {
    const level = Number(r.level)
    if (r.cause === '') {
      uncaused = { rows: Number(r.rows), records: Number(r.records) }
      continue
    }
    let g = groups.get(r.cause)
    if (!g) groups.set(r.cause, (g = { rows: 0, records: 0, byEntity: new Map(), byAction: new Map() }))
    // grouping(entity, action): 3 = neither grouped (the cause's total), 1 = entity grouped, 2 = action grouped.
    if (level === 3) {
      g.rows = Number(r.rows)
      g.records = Number(r.records)
    } else if (level === 1) g.byEntity.set(r.entity, Number(r.records))
    else if (level === 2) g.byAction.set(r.action, Number(r.rows))
  }
  const list: CauseGroup[] = [...groups].map(([cause, g]) => ({
    cause,
    rows: g.rows,
    records: g.records,
    byEntity: dictOf([...g.byEntity].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    byAction: dictOf([...g.byAction].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
  }))
  list.sort((a, b) => b.records - a.records || b.rows - a.rows || (a.cause < b.cause ? -1 : a.cause > b.cause ? 1 : 0))
  return { syncId, tenant, groups: list, uncaused }
}
