/**
 * The log's retention: a TTL on sync_log, set from configuration on open.
 * Runs, counts and rollups are small and kept, so old syncs keep their history
 * and summaries after their rows are gone.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../logging/logger.js'
import { toStoreError } from './store-errors.js'

const TTL = /\bTTL\s+toDateTime\(date\)\s*\+\s*toIntervalDay\((\d+)\)/

/** The retention in force on sync_log, in days, or null when rows are kept forever. */
export async function currentRetentionDays(client: ClickHouseClient): Promise<number | null> {
  const rs = await client.query({
    query: `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'sync_log'`,
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ engine_full: string }>()
  const m = row === undefined ? null : TTL.exec(row.engine_full)
  return m === null ? null : Number(m[1])
}

/**
 * Makes sync_log keep rows for `days` days (by the row's date), or forever when
 * undefined. Changes the table only when the setting differs, so opening is cheap.
 */
export async function applyRetention(client: ClickHouseClient, days: number | undefined, logger: Logger): Promise<void> {
  try {
    const current = await currentRetentionDays(client)
    if (current === (days ?? null)) return
    if (days === undefined) {
      await client.command({ query: 'ALTER TABLE sync_log REMOVE TTL' })
    } else {
      await client.command({ query: `ALTER TABLE sync_log MODIFY TTL toDateTime(date) + toIntervalDay(${Math.trunc(days)})` })
    }
    logger.info(
      { component: 'clickhouse-retention', from: current, to: days ?? null },
      days === undefined ? 'sync_log keeps rows forever' : `sync_log keeps rows for ${days} days`,
    )
  } catch (e) {
    throw toStoreError(e, 'set the retention of sync_log')
  }
}
