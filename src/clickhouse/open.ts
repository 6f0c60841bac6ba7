/**
 * Opens ClickHouse: embedded chDB in the data directory, or a server over HTTP.
 * Both hand back the same @clickhouse/client, so everything above this file has
 * one code path. Foreign errors are mapped to SynclogError here, once.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../logging/logger.js'
import { openEmbedded } from './embedded.js'
import { openServer } from './server.js'

export interface ClickHouseOptions {
  /** synclog's data directory; embedded ClickHouse lives in `<dataDir>/clickhouse`. */
  dataDir: string
  /** A ClickHouse server (e.g. `http://localhost:8123`); absent = embedded chDB. */
  url?: string
  /** Server mode only (created if missing); embedded mode uses the data directory as its namespace. */
  database?: string
  username?: string
  password?: string
  logger: Logger
}

export interface ClickHouse {
  client: ClickHouseClient
  mode: 'embedded' | 'server'
  /** Idempotent. */
  close(): Promise<void>
}

/**
 * Embedded: chDB at `${dataDir}/clickhouse` (created if missing). Server: HTTP to
 * `url`. A data directory locked by another process is DATA_DIR_LOCKED; a server
 * that does not answer its ping is STORE_UNAVAILABLE naming the URL.
 */
export async function openClickHouse(opts: ClickHouseOptions): Promise<ClickHouse> {
  return opts.url === undefined ? openEmbedded(opts) : openServer({ ...opts, url: opts.url })
}

export { CLICKHOUSE_SETTINGS } from './client-config.js'
