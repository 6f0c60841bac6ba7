/**
 * Writes a generated sync log (test/support/generated-log.ts) into a data directory, in a
 * process of its own, so the test that asked can go on to run the CLI and `synclog serve`
 * on that directory (chDB lets one process open it at a time).
 *
 *   tsx test/support/seed-generated-log.ts <dataDir> <rows> <seed>
 */
import { openClickHouse } from '../../src/clickhouse/open.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { SyncLogStore } from '../../src/clickhouse/sync-log-store.js'
import { silentLogger } from './silent-logger.js'
import { GeneratedLog } from './generated-log.js'

const [dataDir, rows, seed] = process.argv.slice(2)
if (dataDir === undefined || rows === undefined || seed === undefined) {
  process.stderr.write('usage: seed-generated-log <dataDir> <rows> <seed>\n')
  process.exit(1)
}
const logger = silentLogger()
const ch = await openClickHouse({ dataDir, logger })
try {
  await migrate(ch.client, logger)
  const store = new SyncLogStore(ch.client, logger)
  const log = new GeneratedLog({ rows: Number(rows), seed })
  for (const batch of log.logBatches(50_000)) await store.write(batch)
  await store.write([...log.countEvents(), ...log.statusEvents()])
  process.stdout.write(`${log.size}\n`)
} finally {
  await ch.close()
}
