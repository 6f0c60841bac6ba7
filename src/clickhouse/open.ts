/**
 * Opens ClickHouse: embedded chDB in the data directory, or a server over HTTP.
 * Both hand back the same @clickhouse/client, so everything above this file has
 * one code path. Foreign errors are mapped to SynclogError here, once.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../logging/logger.js'
import { openEmbedded } from './embedded.js'
import { openServer } from './server.js'
import type { Lane, Lanes } from './lanes.js'

export interface ClickHouseOptions {
  /** synclog's data directory; embedded ClickHouse lives in `<dataDir>/clickhouse`. */
  dataDir: string
  /** A ClickHouse server (e.g. `http://localhost:8123`); absent = embedded chDB. */
  url?: string
  /** Server mode only (created if missing); embedded mode uses the data directory as its namespace. */
  database?: string
  username?: string
  password?: string
  /** Embedded mode: a connection per lane (default), or one for everything (to compare). */
  connections?: 'lanes' | 'one'
  logger: Logger
}

export interface ClickHouse extends Lanes {
  /** The `write` lane: migrations, retention, inserts. */
  client: ClickHouseClient
  /** The client for work of this purpose (src/clickhouse/lanes.ts). */
  lane(purpose: Lane): ClickHouseClient
  mode: 'embedded' | 'server'
  /** Closes every lane; idempotent. */
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
