/**
 * Alerts of a process that writes to the store: a dispatcher subscribed to the store's
 * stored status changes, configured from `alerts`, `alertDelivery` and `publicUrl`.
 * Opened with the store (src/pipeline/open-store.ts) and closed before it.
 */
import type { Config } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { serverIdentity, withoutServerPaths } from '../http/public-text.js'
import { AlertDispatcher } from './alert-dispatcher.js'
import { signedWebhooks } from './alert-config.js'

export interface StoreAlerts {
  /** The page's address for links, when the configuration gives none. */
  linkTo(baseUrl: string): void
  /** Waits a bounded time for deliveries under way (alertDelivery.exitWaitSeconds), then stops. */
  close(): Promise<void>
}

/** A process that only reads sends no alerts. */
export const NO_ALERTS: StoreAlerts = { linkTo: () => {}, close: async () => {} }

/**
 * What starts delivering a store's status changes to the configured webhooks (nothing when
 * none is configured). Checked now: a webhook whose secret this process lacks is a
 * CONFIG_INVALID error before the store is opened.
 */
export function storeAlertsOf(config: Config): (store: SyncLogStore, logger: Logger) => StoreAlerts {
  const webhooks = signedWebhooks(config.alerts)
  if (webhooks.size === 0) return () => NO_ALERTS
  const identity = serverIdentity(config.dataDir)
  return (store, logger) => {
    const dispatcher = new AlertDispatcher({
      webhooks,
      delivery: config.alertDelivery,
      publicUrl: config.publicUrl,
      log: store.alertDeliveries,
      summary: (tenant, syncId) => store.summary({ tenant }, syncId, { bySchool: false }),
      publicText: (message) => withoutServerPaths(message, identity),
      logger,
    })
    const unsubscribe = store.onStatusStored((changes) => dispatcher.statusStored(changes))
    dispatcher.resumeUnfinished()
    return {
      linkTo: (baseUrl) => dispatcher.linkTo(baseUrl),
      async close() {
        await dispatcher.close()
        unsubscribe()
      },
    }
  }
}
