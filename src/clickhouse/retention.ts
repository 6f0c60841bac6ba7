/**
 * The log's retention: a TTL on sync_log, set from configuration on open.
 * Runs, counts and rollups are small and kept, so old syncs keep their history
 * and summaries after their rows are gone.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../logging/logger.js'
import { STUDENT_LOG_TABLE } from './ddl.js'
import { toStoreError } from './store-errors.js'

const TTL = /\bTTL\s+toDateTime\(date\)\s*\+\s*toIntervalDay\((\d+)\)/

/** The tables the retention applies to: the log and the copy of its students' rows. */
const RETAINED_TABLES = ['sync_log', STUDENT_LOG_TABLE] as const

/** The retention in force on each retained table, in days, or null when it keeps rows forever (or is not there yet). */
async function retentionByTable(client: ClickHouseClient): Promise<Map<string, number | null>> {
  const rs = await client.query({
    query: `SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {tables:Array(String)}`,
    query_params: { tables: RETAINED_TABLES },
    format: 'JSONEachRow',
  })
  const found = new Map<string, number | null>()
  for (const row of await rs.json<{ name: string; engine_full: string }>()) {
    const m = TTL.exec(row.engine_full)
    found.set(row.name, m === null ? null : Number(m[1]))
  }
  return found
}

/** The retention in force on sync_log, in days, or null when rows are kept forever. */
export async function currentRetentionDays(client: ClickHouseClient): Promise<number | null> {
  return (await retentionByTable(client)).get('sync_log') ?? null
}

/**
 * Makes sync_log (and sync_log_by_student) keep rows for `days` days (by the row's date),
 * or forever when undefined. Changes a table only when its setting differs, so opening is cheap.
 */
export async function applyRetention(client: ClickHouseClient, days: number | undefined, logger: Logger): Promise<void> {
  try {
    const current = await retentionByTable(client)
    const from = current.get('sync_log') ?? null
    let changed = false
    for (const [table, inForce] of current) {
      if (inForce === (days ?? null)) continue
      changed = true
      if (days === undefined) await client.command({ query: `ALTER TABLE ${table} REMOVE TTL` })
      else await client.command({ query: `ALTER TABLE ${table} MODIFY TTL toDateTime(date) + toIntervalDay(${Math.trunc(days)})` })
    }
    if (!changed) return
    logger.info(
      { component: 'clickhouse-retention', from, to: days ?? null },
      days === undefined ? 'sync_log keeps rows forever' : `sync_log keeps rows for ${days} days`,
    )
  } catch (e) {
    throw toStoreError(e, 'set the retention of sync_log')
  }
}
