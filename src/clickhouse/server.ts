/**
 * A ClickHouse server over HTTP. An unreachable server, or one that refuses the
 * credentials, is STORE_UNAVAILABLE naming the URL (never its password).
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { SynclogError } from '../errors.js'
import { CLICKHOUSE_SETTINGS, clientLog, closeOnce } from './client-config.js'
import type { ClickHouse, ClickHouseOptions } from './open.js'
import { oneLane } from './lanes.js'
import { shortMessage, toStoreError } from './store-errors.js'

/** The URL without credentials, for messages and logs. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}

function serverClient(opts: ClickHouseOptions & { url: string }, database: string | undefined): ClickHouseClient {
  return createClient({
    url: opts.url,
    ...(database === undefined ? {} : { database }),
    ...(opts.username === undefined ? {} : { username: opts.username }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
    application: 'synclog',
    clickhouse_settings: CLICKHOUSE_SETTINGS,
    log: clientLog(opts.logger),
  })
}

/** A database name synclog accepts: a plain identifier, so it can be quoted safely in DDL on any server version. */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Creates the database unless it exists (a user may lack CREATE DATABASE for one that does). */
async function ensureDatabase(client: ClickHouseClient, database: string): Promise<void> {
  const rs = await client.query({
    query: 'SELECT toUInt32(count()) AS n FROM system.databases WHERE name = {db:String}',
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ n: number }>()
  if (Number(row?.n) === 0) await client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`` })
}

export async function openServer(opts: ClickHouseOptions & { url: string }): Promise<ClickHouse> {
  const shown = displayUrl(opts.url)
  const log = opts.logger.child({ component: 'clickhouse', mode: 'server', url: shown })
  try {
    new URL(opts.url)
  } catch (e) {
    throw new SynclogError('CONFIG_INVALID', `The ClickHouse URL '${shown}' is not a URL; expected e.g. http://localhost:8123.`, {
      cause: e,
    })
  }
  const database = opts.database ?? 'default'
  if (!DATABASE_NAME.test(database)) {
    throw new SynclogError(
      'CONFIG_INVALID',
      `The ClickHouse database name '${database}' is not allowed: use letters, digits and underscores, not starting with a digit.`,
    )
  }

  // Connect without a database first: the one named may not exist yet.
  let bootstrap: ClickHouseClient
  try {
    bootstrap = serverClient(opts, undefined)
  } catch (e) {
    throw new SynclogError('CONFIG_INVALID', `Invalid ClickHouse connection settings for ${shown}: ${shortMessage(e)}`, { cause: e })
  }
  try {
    // select: true also checks the credentials, which /ping alone does not.
    const ping = await bootstrap.ping({ select: true })
    if (!ping.success) {
      throw new SynclogError(
        'STORE_UNAVAILABLE',
        `Cannot reach ClickHouse at ${shown}: ${shortMessage(ping.error)}. Check that the server is running and the URL and credentials are right.`,
        { cause: ping.error },
      )
    }
    if (database !== 'default')
      await ensureDatabase(bootstrap, database).catch((e: unknown) => {
        throw toStoreError(e, `create the database ${database} at ${shown}`)
      })
  } finally {
    await bootstrap.close()
  }
  const client = serverClient(opts, database)
  log.debug({ database }, 'connected to ClickHouse server')
  // The server runs queries at once by itself: every lane is this one client.
  return { client, ...oneLane(client), mode: 'server', close: closeOnce(client) }
}
