/**
 * `synclog serve --sql-port`: the ClickHouse HTTP interface on its own port
 * (ClickHouse clients expect it at `/`), beside the API, with the API's
 * connection and timeout limits.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { SynclogError } from '../errors.js'
import type { ApiTokens } from '../http/api-tokens.js'
import { serverIdentity } from '../http/public-text.js'
import type { HttpLimits } from '../http/server-limits.js'
import type { Logger } from '../logging/logger.js'
import { AnalystSql } from './analyst-sql.js'
import { createSqlServer } from './clickhouse-http.js'
import type { SqlLimits } from '../config/sql-limits.js'

export interface SqlEndpointOptions {
  readonly client: ClickHouseClient
  readonly tokens: ApiTokens
  readonly logger: Logger
  readonly host: string
  readonly port: number
  readonly http: HttpLimits
  readonly sql: SqlLimits
  readonly dataDir: string
  /** Where the start line goes (the command's stdout). */
  readonly stdout: NodeJS.WritableStream
}

export interface SqlEndpoint {
  readonly url: string
  /** Stops accepting connections and waits for queries in flight (cut after `drainMs`). */
  close(drainMs?: number): Promise<void>
}

/** `--sql-port`: a port number, 0 for any free port. */
export function parseSqlPort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new SynclogError('USAGE', `--sql-port must be a whole number from 0 to 65535 (0 = any free port; got '${value}')`)
  }
  return port
}

export async function startSqlEndpoint(opts: SqlEndpointOptions): Promise<SqlEndpoint> {
  const server = createSqlServer({
    sql: new AnalystSql(opts.client, opts.sql), tokens: opts.tokens, logger: opts.logger, limits: opts.http, identity: serverIdentity(opts.dataDir),
  })
  await new Promise<void>((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException): void => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is in use' : e.message
      reject(new SynclogError('USAGE', `cannot listen on ${opts.host}:${opts.port} for SQL: ${reason}; pick another --sql-port or --host`, { cause: e }))
    }
    server.once('error', failed)
    server.listen(opts.port, opts.host, () => {
      server.off('error', failed)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : opts.port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const url = `http://${host}:${port}`
  opts.stdout.write(`synclog SQL (ClickHouse HTTP interface, read-only, operator tokens) listening on ${url}\n`)
  return {
    url,
    async close(drainMs = 10_000) {
      const timer = setTimeout(() => server.closeAllConnections(), drainMs)
      try {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
