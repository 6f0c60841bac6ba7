/**
 * Opens the data directory for reading or writing the sync log: the directory
 * lock, ClickHouse (embedded chDB or a server) and its migrations.
 */
import type { Config } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import { openClickHouse } from '../clickhouse/open.js'
import { migrate } from '../clickhouse/migrations.js'
import { applyRetention } from '../clickhouse/retention.js'
import { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { DataDirLock } from '../state/data-dir-lock.js'

export interface OpenStore {
  readonly store: SyncLogStore
  readonly mode: 'embedded' | 'server'
  close(): Promise<void>
}

export async function openStore(config: Config, logger: Logger, command: string): Promise<OpenStore> {
  const lock = await DataDirLock.acquire(config.dataDir, command)
  try {
    const clickhouse = await openClickHouse({ dataDir: config.dataDir, ...config.clickhouse, logger })
    try {
      await migrate(clickhouse.client, logger)
      await applyRetention(clickhouse.client, config.clickhouse.retentionDays, logger)
    } catch (e) {
      await clickhouse.close()
      throw e
    }
    return {
      store: new SyncLogStore(clickhouse.client, logger),
      mode: clickhouse.mode,
      async close() {
        try {
          await clickhouse.close()
        } finally {
          await lock.release()
        }
      },
    }
  } catch (e) {
    await lock.release()
    throw e
  }
}
