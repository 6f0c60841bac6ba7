/**
 * Applies the versioned DDL of ddl.ts on start. Idempotent: applied versions are
 * recorded in schema_migrations and skipped; every statement is IF NOT EXISTS,
 * so a run cut short between a statement and its record is simply repeated.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../logging/logger.js'
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, type Migration } from './ddl.js'
import { toStoreError } from './store-errors.js'

async function appliedVersions(client: ClickHouseClient): Promise<Set<number>> {
  const rs = await client.query({ query: 'SELECT toUInt32(version) AS version FROM schema_migrations FINAL', format: 'JSONEachRow' })
  const rows = await rs.json<{ version: number | string }>()
  return new Set(rows.map((r) => Number(r.version)))
}

async function apply(client: ClickHouseClient, m: Migration): Promise<void> {
  for (const statement of m.statements) await client.command({ query: statement })
  await client.command({
    query: 'INSERT INTO schema_migrations (version, name, appliedAt) SELECT {version:UInt32}, {name:String}, now()',
    query_params: { version: m.version, name: m.name },
  })
}

export async function migrate(client: ClickHouseClient, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'clickhouse-migrations' })
  let step = 'create schema_migrations'
  try {
    await client.command({ query: SCHEMA_MIGRATIONS_DDL })
    step = 'read schema_migrations'
    const applied = await appliedVersions(client)
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue
      step = `apply migration ${m.version} (${m.name})`
      await apply(client, m)
      log.info({ version: m.version, migration: m.name }, 'applied ClickHouse migration')
    }
    log.debug({ versions: MIGRATIONS.map((m) => m.version) }, 'ClickHouse schema is current')
  } catch (e) {
    throw toStoreError(e, step)
  }
}
