/**
 * Lanes: the ClickHouse clients of one open store, one per purpose, so heavy work
 * does not stall the page. chDB runs one query at a time per connection, but
 * several connections on the same data directory run at once; embedded mode
 * therefore opens one connection per lane (lazily: a CLI command that only reads
 * opens one). A server has its own concurrency: there, every lane is the same
 * HTTP client, and the code above asks for a lane by purpose either way.
 *
 * - `write`: inserts, migrations, retention (imports, ingest, the projector).
 * - `read`: the store's own reads (the API and the page, CLI reads, downloads and
 *   exports), on a few connections side by side (connection-pool.ts): many readers
 *   of the page come at once. No separate lane for downloads: a download reads a
 *   page of rows at a time, one query like the page's.
 * - `analyst`: analysts' SQL (`synclog sql`, `serve --sql-port`), on fewer threads
 *   than the machine has, so a scan leaves a core for the page.
 */
import { availableParallelism } from 'node:os'
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client'

export type Lane = 'write' | 'read' | 'analyst'

export interface Lanes {
  /** The client for work of this purpose. */
  lane(purpose: Lane): ClickHouseClient
}

/**
 * Threads an analyst's query may use in embedded mode: half the cores, at least
 * one, so on a 2-core machine a scan leaves one core to the page and the import.
 */
export const ANALYST_MAX_THREADS = Math.max(1, Math.floor(availableParallelism() / 2))

/** Settings a lane's embedded connection adds to the common ones. */
export function embeddedLaneSettings(purpose: Lane): ClickHouseSettings {
  return purpose === 'analyst' ? { max_threads: ANALYST_MAX_THREADS } : {}
}

/** One client for every purpose: a server, or a test's single client. */
export function oneLane(client: ClickHouseClient): Lanes {
  return { lane: () => client }
}

/** Lanes given as such, or a plain client serving every purpose. */
export function lanesOf(clickhouse: Lanes | ClickHouseClient): Lanes {
  return 'lane' in clickhouse ? clickhouse : oneLane(clickhouse)
}

export interface OpenLanes extends Lanes {
  /** Closes every lane opened, each once; idempotent. */
  close(): Promise<void>
}

/**
 * Lanes opened on first use with `open`; `first` is the lane already open (the
 * one that proved the store opens). A lane asked for after `close` is an error.
 */
export function lazyLanes(first: { purpose: Lane; client: ClickHouseClient }, open: (purpose: Lane) => ClickHouseClient): OpenLanes {
  const clients = new Map<Lane, ClickHouseClient>([[first.purpose, first.client]])
  let closing: Promise<void> | undefined
  return {
    lane(purpose) {
      let client = clients.get(purpose)
      if (client === undefined) {
        if (closing !== undefined) throw new Error(`the store is closed: cannot open its ${purpose} lane`)
        client = open(purpose)
        clients.set(purpose, client)
      }
      return client
    },
    close() {
      closing ??= Promise.all([...clients.values()].map((c) => c.close())).then(() => {})
      return closing
    },
  }
}
