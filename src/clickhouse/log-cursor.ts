/**
 * Keyset cursors for the log, newest first. A cursor is the sort key of the
 * last row a page returned, so the next page starts strictly after it: stable
 * while rows are being added (new rows sort before it), no OFFSET scans.
 * Opaque to callers (base64url JSON); a tampered cursor is a USAGE error.
 */
import { SynclogError } from '../errors.js'
import { parseInstant } from '../events/instant.js'
import { toClickHouseText } from './time.js'
import type { LogRecord } from './types.js'

/** The log's order: newest first; ties by sync, row and tenant, all descending. */
export const LOG_ORDER = 'date DESC, syncId DESC, seq DESC, tenant DESC'

interface CursorKey {
  d: string
  s: string
  q: number
  t: string
}

export function encodeCursor(row: Pick<LogRecord, 'date' | 'syncId' | 'seq' | 'tenant'>): string {
  const key: CursorKey = { d: row.date, s: row.syncId, q: row.seq, t: row.tenant }
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

function invalid(): SynclogError {
  return new SynclogError('USAGE', 'cursor is not one this server handed out; start again without a cursor')
}

function decode(cursor: string): CursorKey {
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw invalid()
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  const k = key as Partial<CursorKey>
  if (
    typeof k !== 'object' ||
    k === null ||
    typeof k.d !== 'string' ||
    typeof k.s !== 'string' ||
    typeof k.t !== 'string' ||
    typeof k.q !== 'number' ||
    !Number.isInteger(k.q) ||
    k.q < 0 ||
    k.q > 4_294_967_295
  )
    throw invalid()
  return k as CursorKey
}

/** Conditions selecting the rows after the cursor, in LOG_ORDER. */
export function afterCursor(cursor: string, params: Record<string, unknown>): string[] {
  const key = decode(cursor)
  const ms = parseInstant(key.d)
  if (ms === null) throw invalid()
  params['cursor_date'] = toClickHouseText(ms)
  params['cursor_sync'] = key.s
  params['cursor_seq'] = key.q
  params['cursor_tenant'] = key.t
  return [
    // The bare bound lets the primary key prune; the tuple is the exact order.
    `date <= toDateTime64({cursor_date:String}, 3, 'UTC')`,
    `(date, syncId, seq, tenant) < (toDateTime64({cursor_date:String}, 3, 'UTC'), {cursor_sync:String}, {cursor_seq:UInt32}, {cursor_tenant:String})`,
  ]
}
