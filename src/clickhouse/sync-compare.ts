/**
 * Comparing two syncs of one tenant: their counts side by side, and the records whose
 * outcome differs. Pure: the SQL of the record comparison and the arithmetic of the counts;
 * the store runs them.
 *
 * A record's outcome in a sync is read from its log rows (entity × sourcedId, rows with an
 * outcome; cascaded rows have none and are not records). A record with no row in a sync was
 * either No Change there (counted, never logged) or not in that sync at all: the comparison
 * says "not logged" (null) and treats it as equal to No Change, so a record unchanged in
 * both syncs is never listed. Records without a sourcedId (a row the reader could not
 * parse) cannot be matched across syncs; they are in the counts only.
 */
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import { OUTCOMES } from '../events/sync-log-event.js'
import { SynclogError } from '../errors.js'
import { equals, inList, whereClause, type BuiltQuery } from './filter-parts.js'
import { COUNT_FIELDS, zeroCounts } from './rows.js'
import { logScope } from './scope.js'
import type { OutcomeCountsJson, Scope, SyncHeader, SyncSummary } from './types.js'

/** Differing records listed when no limit is given, and the most one comparison lists. */
export const DEFAULT_COMPARE_LIMIT = 100
export const MAX_COMPARE_LIMIT = 10_000

/** What a comparison shows of each sync: who it is and where it stands, without its message or review. */
export type SyncBrief = Pick<SyncHeader, 'syncId' | 'tenant' | 'app' | 'status' | 'startedAt' | 'endedAt'>

/** One entity's counts in both syncs, and B minus A. */
export interface CountComparison {
  entity: string
  a: OutcomeCountsJson
  b: OutcomeCountsJson
  difference: OutcomeCountsJson
}

/** A record whose outcome differs between the two syncs. */
export interface RecordComparison {
  entity: string
  sourcedId: string
  /** Context from the record's rows (the later sync's when both have it); blank when it does not apply. */
  studentNumber: string
  studentName: string
  courseNumber: string
  sectionNumber: string
  /** The record's outcome in sync A (several joined with ', ', e.g. a duplicate's `New, Merged`), or null: not logged. */
  outcomeA: string | null
  outcomeB: string | null
  /** The messages of the record's rows in each sync, joined with '; '. */
  messageA: string
  messageB: string
}

export interface SyncComparison {
  a: SyncBrief
  b: SyncBrief
  /** Per entity type with counts in either sync, in OneRoster's order, summed over the schools the scope may see. */
  counts: CountComparison[]
  /** How many records differ in all (the list stops at the limit). */
  differing: number
  /** The differing records, by entity type (OneRoster's order) then sourcedId. */
  records: RecordComparison[]
}

export interface CompareOptions {
  /** Only these entity types (counts and records); absent = all. */
  entities?: readonly EntityType[]
  /** At most this many records (default 100, at most 10,000). */
  limit?: number
}

/** What an outcome cell says for a record with no row in that sync, and what that means. */
export const NOT_LOGGED = 'not logged'
export const NOT_LOGGED_NOTE = `${NOT_LOGGED}: No Change, or not in that sync`

export function compareLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_COMPARE_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_COMPARE_LIMIT)
    throw new SynclogError('USAGE', `limit must be a whole number from 1 to ${MAX_COMPARE_LIMIT} (got ${limit})`)
  return limit
}

/** Both syncs must be of one tenant: a USAGE error naming both otherwise. */
export function checkSameTenant(a: SyncBrief, b: SyncBrief): void {
  if (a.tenant === b.tenant) return
  throw new SynclogError(
    'USAGE',
    `sync ${a.syncId} is of tenant '${a.tenant}' and sync ${b.syncId} of tenant '${b.tenant}': compare two syncs of the same tenant`,
  )
}

export function briefOf(s: SyncSummary): SyncBrief {
  return { syncId: s.syncId, tenant: s.tenant, app: s.app, status: s.status, startedAt: s.startedAt, endedAt: s.endedAt }
}

/** Per entity type present in either summary (and among `entities` when given): A, B and B − A. */
export function compareCounts(a: SyncSummary, b: SyncSummary, entities?: readonly EntityType[]): CountComparison[] {
  const countsA = new Map(Object.entries(a.counts))
  const countsB = new Map(Object.entries(b.counts))
  const known: readonly string[] = ENTITY_TYPES
  const present = [...new Set([...countsA.keys(), ...countsB.keys()])]
    .filter((e) => entities === undefined || (entities as readonly string[]).includes(e))
    // OneRoster's order; a type this version does not know goes last.
    .sort((x, y) => (known.indexOf(x) >>> 0) - (known.indexOf(y) >>> 0) || x.localeCompare(y))
  return present.map((entity) => {
    const ca = countsA.get(entity) ?? zeroCounts()
    const cb = countsB.get(entity) ?? zeroCounts()
    const difference = zeroCounts()
    for (const f of COUNT_FIELDS) difference[f] = cb[f] - ca[f]
    return { entity, a: ca, b: cb, difference }
  })
}

const CONTEXT_COLUMNS = ['studentNumber', 'studentName', 'courseNumber', 'sectionNumber'] as const

/**
 * One line per record: the outcomes, messages and context of its rows in one sync. The
 * aggregates are named `r_<column>`: an alias equal to a column name would replace that
 * column in the WHERE clause.
 */
function perRecord(side: 'a' | 'b', where: readonly string[]): string {
  return `SELECT entity AS r_entity, sourcedId AS r_sourcedId,
    arrayStringConcat(arraySort(o -> indexOf({outcome_order:Array(String)}, o), groupUniqArray(outcome)), ', ') AS r_outcome,
    arrayStringConcat(arraySort(groupUniqArrayIf(message, message != '')), '; ') AS r_message,
    ${CONTEXT_COLUMNS.map((c) => `anyIf(${c}, ${c} != '') AS r_${c}`).join(',\n    ')}
  FROM sync_log
  ${whereClause([...where, `syncId = {sync_${side}:String}`])}
  GROUP BY r_entity, r_sourcedId`
}

/** A column of one side; blank where that side has no such record (whatever `join_use_nulls` says). */
const col = (side: 'a' | 'b', column: string): string => `ifNull(${side}.r_${column}, '')`

/** The later sync's value of a context column, else the earlier one's. */
const context = (column: string): string => `if(${col('b', column)} != '', ${col('b', column)}, ${col('a', column)}) AS ${column}`

/**
 * The records of two syncs of `tenant` whose outcomes differ (a missing side and No Change
 * count as equal), with the total number of them in `differing`, by entity then sourcedId.
 * Rows are read without FINAL: every value is a set (groupUniqArray) or any one of equal
 * copies, so a row stored twice changes nothing.
 */
export function buildCompareQuery(
  scope: Scope,
  tenant: string,
  syncA: string,
  syncB: string,
  opts: CompareOptions,
): BuiltQuery & { limit: number } {
  const limit = compareLimit(opts.limit)
  const params: Record<string, unknown> = {
    sync_a: syncA,
    sync_b: syncB,
    outcome_order: [...OUTCOMES],
    entity_order: [...ENTITY_TYPES],
    limit,
  }
  const where = [
    ...logScope(scope, params),
    ...equals('tenant', 'tenant', tenant, params),
    ...inList('entities', 'entity', opts.entities, params),
    "outcome != ''",
    "sourcedId != ''",
  ]
  const same = (side: 'a' | 'b'): string => `if(${col(side, 'outcome')} = '', 'No Change', ${col(side, 'outcome')})`
  // Every record has a sourcedId, so a blank one marks the side without the record.
  const key = (column: string): string => `if(${col('a', 'sourcedId')} != '', ${col('a', column)}, ${col('b', column)}) AS ${column}`
  const query = `SELECT ${key('entity')}, ${key('sourcedId')},
  ${CONTEXT_COLUMNS.map(context).join(',\n  ')},
  ${col('a', 'outcome')} AS outcomeA, ${col('b', 'outcome')} AS outcomeB,
  ${col('a', 'message')} AS messageA, ${col('b', 'message')} AS messageB,
  count() OVER () AS differing
FROM (${perRecord('a', where)}) AS a
FULL OUTER JOIN (${perRecord('b', where)}) AS b ON a.r_entity = b.r_entity AND a.r_sourcedId = b.r_sourcedId
WHERE ${same('a')} != ${same('b')}
ORDER BY indexOf({entity_order:Array(String)}, entity) = 0, indexOf({entity_order:Array(String)}, entity), entity, sourcedId
LIMIT {limit:UInt32}`
  return { query, params, limit }
}

/** A row of the compare query as ClickHouse returns it. */
export interface CompareQueryRow {
  entity: string
  sourcedId: string
  studentNumber: string
  studentName: string
  courseNumber: string
  sectionNumber: string
  outcomeA: string
  outcomeB: string
  messageA: string
  messageB: string
  differing: number | string
}

export function toRecordComparison(r: CompareQueryRow): RecordComparison {
  return {
    entity: r.entity,
    sourcedId: r.sourcedId,
    studentNumber: r.studentNumber,
    studentName: r.studentName,
    courseNumber: r.courseNumber,
    sectionNumber: r.sectionNumber,
    outcomeA: r.outcomeA === '' ? null : r.outcomeA,
    outcomeB: r.outcomeB === '' ? null : r.outcomeB,
    messageA: r.messageA,
    messageB: r.messageB,
  }
}
