/**
 * Opens the data directory for reading or writing the sync log: the directory
 * lock (as its use needs it: lockFor in src/state/data-dir-lock.ts), ClickHouse
 * (embedded chDB or a server) and its migrations.
 */
import type { Config } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import { openClickHouse } from '../clickhouse/open.js'
import { migrate } from '../clickhouse/migrations.js'
import { applyRetention } from '../clickhouse/retention.js'
import { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { lockDataDir, lockFor, type StoreUse } from '../state/data-dir-lock.js'
import { NO_ALERTS, storeAlertsOf, type StoreAlerts } from '../alerts/store-alerts.js'

export interface OpenStore {
  readonly store: SyncLogStore
  readonly mode: 'embedded' | 'server'
  /** Webhooks on the sync statuses this process writes (src/alerts); none for a store opened to read. */
  readonly alerts: StoreAlerts
  /** Runs work that changes files of the data directory (state snapshots, a checkpoint) under its lock. */
  writing<T>(work: () => Promise<T>): Promise<T>
  close(): Promise<void>
}

export async function openStore(config: Config, logger: Logger, command: string, use: StoreUse = 'state'): Promise<OpenStore> {
  // A webhook whose secret this process lacks is refused before anything is opened; a reader sends no alerts.
  const startAlerts = use === 'read' ? undefined : storeAlertsOf(config)
  const taking = lockFor(config.clickhouse.url === undefined ? 'embedded' : 'server', use)
  const lock = await lockDataDir(config.dataDir, taking, command, (message) => logger.warn(message))
  try {
    const clickhouse = await openClickHouse({ dataDir: config.dataDir, ...config.clickhouse, logger })
    try {
      await migrate(clickhouse.client, logger)
      await applyRetention(clickhouse.client, config.clickhouse.retentionDays, logger)
    } catch (e) {
      await clickhouse.close()
      throw e
    }
    const store = new SyncLogStore(clickhouse, logger)
    // Deliveries still under way get a bounded wait here, before the store they are recorded in closes.
    const alerts = startAlerts?.(store, logger) ?? NO_ALERTS
    return {
      store,
      mode: clickhouse.mode,
      alerts,
      writing: (work) => lock.writing(work),
      async close() {
        try {
          await alerts.close()
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
