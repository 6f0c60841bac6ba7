/**
 * A sync-log store in a child's own directory, opened exactly as synclog opens
 * it (openClickHouse + migrate), plus the engine facts the report records.
 * chDB binds one data directory per process, which is one reason every
 * measurement runs in its own child process.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse } from '../../src/clickhouse/open.js'
import { SyncLogStore } from '../../src/clickhouse/sync-log-store.js'
import { createLogger, type Logger } from '../../src/logging/logger.js'
import { packageVersion } from './packages.js'

export interface BenchStore {
  readonly client: ClickHouseClient
  readonly store: SyncLogStore
  readonly logger: Logger
  close(): Promise<void>
}

/** Warnings and errors of synclog's own logger go to the child's stderr (the harness keeps them in the run log). */
export function benchLogger(): Logger {
  return createLogger({ level: 'warn', pretty: false })
}

export async function openBenchStore(dataDir: string): Promise<BenchStore> {
  const logger = benchLogger()
  const ch = await openClickHouse({ dataDir, logger })
  await migrate(ch.client, logger)
  const store = new SyncLogStore(ch, logger)
  return { client: ch.client, store, logger, close: () => ch.close() }
}

export async function scalar(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<number> {
  const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' })
  const [row] = await rs.json<Record<string, number | string>>()
  return Number(row === undefined ? Number.NaN : Object.values(row)[0])
}

export async function engineFacts(client: ClickHouseClient): Promise<Record<string, string>> {
  const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
  const [row] = await rs.json<{ v: string }>()
  return { 'chDB (npm)': packageVersion('chdb'), 'ClickHouse engine (chDB)': row?.v ?? '?' }
}

/** Waits until ClickHouse has no merge running (or `timeoutMs` passes); returns the active parts of `table`. */
export async function settleMerges(
  client: ClickHouseClient,
  table: string,
  timeoutMs: number,
): Promise<{ parts: number; waitedMs: number }> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    const running = await scalar(client, 'SELECT count() FROM system.merges WHERE database = currentDatabase()')
    if (running === 0) break
    await new Promise((r) => setTimeout(r, 250))
  }
  const parts = await scalar(
    client,
    'SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active',
    { t: table },
  )
  return { parts, waitedMs: Math.round(performance.now() - started) }
}
