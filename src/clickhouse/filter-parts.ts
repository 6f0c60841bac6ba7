/**
 * Pieces shared by the query builders: time bounds and paging, validated at the
 * edge (a bad value is a USAGE error naming the option) and always passed as
 * query parameters, never spliced into SQL text.
 */
import { SynclogError } from '../errors.js'
import { setOwn } from '../dict.js'
import { DATE_OR_INSTANT_FORM, DAY_MS, parseDateOnly, parseDateOrInstant, parseInstant } from '../events/instant.js'
import { toClickHouseText } from './time.js'

/** SQL text plus the values of its `{name:Type}` placeholders. */
export interface BuiltQuery {
  readonly query: string
  readonly params: Record<string, unknown>
}

const UINT32_MAX = 4_294_967_295

/**
 * Conditions on a DateTime64 column for `from` (inclusive) and `to` (inclusive;
 * a bare date means through the end of that UTC day).
 */
export function timeBounds(column: string, from: string | undefined, to: string | undefined, params: Record<string, unknown>): string[] {
  const where: string[] = []
  if (from !== undefined) {
    params['from'] = toClickHouseText(parseBound('from', from))
    where.push(`${column} >= toDateTime64({from:String}, 3, 'UTC')`)
  }
  if (to !== undefined) {
    const day = parseDateOnly(to.trim())
    if (day !== null) {
      params['to'] = toClickHouseText(day + DAY_MS)
      where.push(`${column} < toDateTime64({to:String}, 3, 'UTC')`)
    } else {
      const ms = parseInstant(to)
      if (ms === null) throw badInstant('to', to)
      params['to'] = toClickHouseText(ms)
      where.push(`${column} <= toDateTime64({to:String}, 3, 'UTC')`)
    }
  }
  return where
}

/** A date (its UTC midnight) or an ISO instant as epoch ms; anything else is a USAGE error naming the option. */
export function parseBound(option: string, value: string): number {
  const ms = parseDateOrInstant(value)
  if (ms === null) throw badInstant(option, value)
  return ms
}

function badInstant(option: string, value: string): SynclogError {
  return new SynclogError('USAGE', `${option} must be ${DATE_OR_INSTANT_FORM} (got '${value}')`)
}

function count(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw new SynclogError('USAGE', `${option} must be a whole number from 0 to ${UINT32_MAX}, got ${value}`)
  }
  return value
}

/** `LIMIT … OFFSET …` (either may be absent). */
export function pagingClause(limit: number | undefined, offset: number | undefined, params: Record<string, unknown>): string {
  const parts: string[] = []
  if (limit !== undefined) {
    params['limit'] = count('limit', limit)
    parts.push('LIMIT {limit:UInt32}')
  }
  if (offset !== undefined) {
    params['offset'] = count('offset', offset)
    parts.push(limit === undefined ? 'OFFSET {offset:UInt32} ROWS' : 'OFFSET {offset:UInt32}')
  }
  return parts.join(' ')
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join('\n  AND ')}`
}

/** `column IN {name}` when there are values; no condition otherwise. */
export function inList(name: string, column: string, values: readonly string[] | undefined, params: Record<string, unknown>): string[] {
  if (values === undefined || values.length === 0) return []
  setOwn(params, name, [...values])
  return [`${column} IN {${name}:Array(String)}`]
}

/** `column = {name}` when there is a value; no condition otherwise. */
export function equals(name: string, column: string, value: string | undefined, params: Record<string, unknown>): string[] {
  if (value === undefined) return []
  setOwn(params, name, value)
  return [`${column} = {${name}:String}`]
}
