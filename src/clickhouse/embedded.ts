/**
 * Embedded ClickHouse: chDB in `<dataDir>/clickhouse`, behind the same
 * @clickhouse/client as a server, one chDB connection per lane (src/clickhouse/lanes.ts).
 * chDB allows one process per directory; a second one is told so (DATA_DIR_LOCKED)
 * rather than shown chDB's error.
 */
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { SynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { CLICKHOUSE_SETTINGS, clientLog, closeOnce } from './client-config.js'
import { embeddedLaneSettings, lazyLanes, oneLane, type Lane } from './lanes.js'
import { sessionParams } from './session-params.js'
import type { ClickHouse, ClickHouseOptions } from './open.js'
import { shortMessage } from './store-errors.js'
import { makeDirectory } from '../paths/make-directory.js'
import { keepAbortFatal } from '../process/fatal.js'
import { pooledConnection } from './connection-pool.js'

type ClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>

/** Connections of the read lane: as many as the cores, two to four (more only queue for the same cores). */
const READ_CONNECTIONS = Math.min(4, Math.max(2, availableParallelism()))

/**
 * chDB's connection for the client. chdb 3.4 types it against its own copy of
 * @clickhouse/client-common (1.23.0), whose ClickHouseSettings type differs
 * nominally from the one @clickhouse/client 1.23.1 inlines; the runtime
 * contract is the same (that is the purpose of `chdb/connection`).
 */
function chdbConnection(path: string): ClientConnection {
  return createChdbConnection({ path }) as unknown as ClientConnection
}

/** The messages of an error and of its causes. */
function causeChain(e: unknown): string[] {
  const messages: string[] = []
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    messages.push(cur instanceof Error ? cur.message : String(cur))
    cur = cur instanceof Error ? cur.cause : undefined
  }
  return messages
}

/**
 * The pid of another live process holding the directory, read from the
 * `status` file ClickHouse keeps (flock-ed, `PID: n` first line) while it runs
 * and removes on a clean exit; null if there is none.
 */
async function lockHolder(chDir: string): Promise<number | null> {
  let text: string
  try {
    text = await readFile(join(chDir, 'status'), 'utf8')
  } catch {
    return null
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(text)?.[1] ?? Number.NaN)
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null
  try {
    process.kill(pid, 0)
    return pid
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return typeof e === 'object' && e !== null && 'code' in e && e.code === 'EPERM' ? pid : null
  }
}

/**
 * Why chDB could not open. The lock is recognised by the status file's holder,
 * or by ClickHouse's own words naming *this* directory: chDB 3.4 sometimes
 * prints the reason only on stderr, and sometimes appends a stale reason from
 * an earlier failure, so the error text alone is not reliable.
 */
async function embeddedOpenError(e: unknown, dataDir: string, chDir: string, log: Logger): Promise<SynclogError> {
  const lockedText = `Cannot lock file ${join(resolve(chDir), 'status')}. Another server instance in same directory is already running`
  const holder = await lockHolder(chDir)
  if (holder !== null || causeChain(e).some((m) => m.includes(lockedText))) {
    log.debug({ holderPid: holder, path: chDir }, 'data directory is locked')
    return new SynclogError(
      'DATA_DIR_LOCKED',
      `The data directory ${dataDir} is in use by another synclog process (chDB allows one process per directory). ` +
        'Wait for it to finish, or use --data to point at another directory.',
      { cause: e },
    )
  }
  return new SynclogError('STORE_UNAVAILABLE', `Cannot open embedded ClickHouse (chDB) at ${chDir}: ${shortMessage(e)}`, { cause: e })
}

export async function openEmbedded(opts: ClickHouseOptions): Promise<ClickHouse> {
  const log = opts.logger.child({ component: 'clickhouse', mode: 'embedded' })
  const chDir = join(opts.dataDir, 'clickhouse')
  try {
    await makeDirectory(chDir)
  } catch (e) {
    throw new SynclogError(
      'CONFIG_INVALID',
      `Cannot create the data directory ${chDir}: ${shortMessage(e)}. Use --data to point at a writable directory.`,
      { cause: e },
    )
  }
  // Each lane is its own chDB connection (a Session) on the directory: they run queries at once.
  // The analyst lane's parameters go on its own session, so its long queries do not hold up the page's (session-params.ts).
  const laneConnection = (purpose: Lane): ClientConnection => {
    if (purpose === 'analyst') return sessionParams(chdbConnection(chDir))
    // Reads come many at once (readers of the page, downloads, CLI reads): a few connections side by side.
    if (purpose === 'read') return pooledConnection(() => chdbConnection(chDir), READ_CONNECTIONS)
    return chdbConnection(chDir)
  }
  const laneClient = (purpose: Lane): ClickHouseClient =>
    createClient({
      connection: laneConnection(purpose),
      clickhouse_settings: { ...CLICKHOUSE_SETTINGS, ...embeddedLaneSettings(purpose) },
      log: clientLog(opts.logger),
    })
  let client: ClickHouseClient
  try {
    client = laneClient('write')
  } catch (e) {
    throw await embeddedOpenError(e, opts.dataDir, chDir, log)
  }
  const ping = await client.ping()
  if (!ping.success) {
    await client.close()
    throw await embeddedOpenError(ping.error, opts.dataDir, chDir, log)
  }
  // chDB's session took SIGABRT over; without this an out-of-memory abort would hang for ever.
  keepAbortFatal()
  if (opts.database !== undefined) log.debug({ database: opts.database }, 'database is ignored in embedded mode')
  log.debug({ path: chDir }, 'opened embedded ClickHouse')
  if (opts.connections === 'one') return { client, ...oneLane(client), mode: 'embedded', close: closeOnce(client) }
  // The write lane proved the directory opens; the others join it when first asked for.
  const lanes = lazyLanes({ purpose: 'write', client }, (purpose) => {
    try {
      return laneClient(purpose)
    } catch (e) {
      throw new SynclogError(
        'STORE_UNAVAILABLE',
        `Cannot open another connection (${purpose}) to embedded ClickHouse (chDB) at ${chDir}: ${shortMessage(e)}`,
        { cause: e },
      )
    }
  })
  return { client, lane: (purpose) => lanes.lane(purpose), mode: 'embedded', close: () => lanes.close() }
}
