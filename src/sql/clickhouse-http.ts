/**
 * ClickHouse's HTTP interface over analysts' SQL (`synclog serve --sql-port`),
 * so ClickHouse clients (@clickhouse/client, the JDBC driver, the BI tools on
 * them) connect to synclog unchanged: the query in `?query=` and/or the POST
 * body, `FORMAT` or `default_format`, `param_*`, `database`, the user and
 * password as `X-ClickHouse-User`/`X-ClickHouse-Key`, basic auth or
 * `?user=&password=` (the password is a synclog API token), the answer's
 * `X-ClickHouse-*` headers, and errors as `Code: N. DB::Exception: …`. `/ping`
 * answers `Ok.`. HTTP compression is never used (allowed whatever a client asks);
 * ClickHouse's own framing (`compress=1`, the Java client's default) is.
 *
 * Analyst SQL is for operator tokens only: chDB has no row policies, so a
 * tenant's scope could not be enforced by the engine against any SQL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { pipeline } from 'node:stream/promises'
import type { Logger } from '../logging/logger.js'
import { allows, refusal, type ApiTokenInfo, type ApiTokens } from '../http/api-tokens.js'
import { checkIntervalMs, type HttpLimits } from '../http/server-limits.js'
import { withoutServerDirectories, type ServerIdentity } from '../http/public-text.js'
import { MAX_QUERY_BYTES, type AnalystSql } from './analyst-sql.js'
import { SqlError, engineError, refused } from './sql-error.js'
import { queryFromParams } from './sql-request.js'
import { compressedBlocks } from './native-compression.js'

export interface SqlServerOptions {
  readonly sql: AnalystSql
  readonly tokens: ApiTokens
  readonly logger: Logger
  readonly limits: HttpLimits
  readonly identity: ServerIdentity
}

const DISPLAY_NAME = 'synclog'

/** The HTTP status ClickHouse answers an error with. */
function statusOf(name: string): number {
  switch (name) {
    case 'AUTHENTICATION_FAILED': return 401
    case 'ACCESS_DENIED': case 'READONLY': return 403
    case 'UNKNOWN_TABLE': case 'UNKNOWN_DATABASE': return 404
    case 'QUERY_IS_TOO_LARGE': return 413
    default: return 400
  }
}

function contentTypeOf(format: string): string {
  if (/^JSON/i.test(format) && !/EachRow|Lines|Compact(?:Strings)?EachRow/i.test(format)) return 'application/json; charset=UTF-8'
  if (/^(?:TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8'
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent'
  if (/^(?:Native|RowBinary|Parquet|Arrow|ORC|Avro|Protobuf|MsgPack)/i.test(format)) return 'application/octet-stream'
  return 'text/plain; charset=UTF-8'
}

/** The API token a request presents as its password, and the user name it gives. */
function credentialsOf(request: IncomingMessage, params: URLSearchParams): { user: string; token: string | undefined } {
  const header = (name: 'x-clickhouse-key' | 'x-clickhouse-user' | 'authorization'): string | undefined => {
    const v = request.headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  const key = header('x-clickhouse-key')
  if (key !== undefined) return { user: header('x-clickhouse-user') ?? 'default', token: key }
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header('authorization') ?? '')
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return { user: colon < 0 ? decoded : decoded.slice(0, colon), token: colon < 0 ? undefined : decoded.slice(colon + 1) }
  }
  return { user: params.get('user') ?? header('x-clickhouse-user') ?? 'default', token: params.get('password') ?? undefined }
}

async function authorize(tokens: ApiTokens, request: IncomingMessage, params: URLSearchParams): Promise<ApiTokenInfo> {
  const { token } = credentialsOf(request, params)
  if (token === undefined || token === '') {
    throw refused('AUTHENTICATION_FAILED', 'give a synclog API token as the password (X-ClickHouse-Key, basic auth or ?password=); an operator creates one with: synclog token create --name <name>')
  }
  const caller = await tokens.authenticate(token)
  if (caller === null) throw refused('AUTHENTICATION_FAILED', 'the password is not a valid synclog API token (unknown or revoked)')
  if (!allows(caller, 'sql')) throw refused('ACCESS_DENIED', `SQL is for operator tokens only, of every tenant: ${refusal(caller, 'sql')}`)
  return caller
}

/** The request body, up to the query size limit. */
async function bodyOf(request: IncomingMessage): Promise<string> {
  const encoding = request.headers['content-encoding']
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw refused('BAD_ARGUMENTS', `compressed requests (Content-Encoding: ${encoding}) are not supported: send the query uncompressed`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_QUERY_BYTES) throw refused('QUERY_IS_TOO_LARGE', `the query is longer than ${MAX_QUERY_BYTES / 1024} KiB`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function commonHeaders(response: ServerResponse, limits: HttpLimits): void {
  response.setHeader('X-ClickHouse-Server-Display-Name', DISPLAY_NAME)
  response.setHeader('X-ClickHouse-Timezone', 'UTC')
  response.setHeader('Keep-Alive', `timeout=${Math.floor(limits.keepAliveTimeoutMs / 1000)}`)
  response.setHeader('Cache-Control', 'no-store')
  response.setHeader('X-Content-Type-Options', 'nosniff')
}

export function createSqlServer(opts: SqlServerOptions): Server {
  const log = opts.logger.child({ component: 'sql' })
  const server = createServer({
    requestTimeout: opts.limits.requestTimeoutMs,
    headersTimeout: opts.limits.headersTimeoutMs,
    keepAliveTimeout: opts.limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkIntervalMs(opts.limits),
    maxHeaderSize: 64 * 1024,
  })
  server.maxConnections = opts.limits.maxConnections
  // A connection silent this long before its request is in is closed; a running query is not a slow client.
  server.setTimeout(opts.limits.idleTimeoutMs, (socket: Socket) => socket.destroy())

  const fail = (response: ServerResponse, e: unknown, started: number): void => {
    const err = e instanceof SqlError ? e : e instanceof Error && 'code' in e && 'type' in e ? engineError(e) : undefined
    if (err === undefined) log.error({ err: e }, 'SQL request failed')
    const code = err?.clickhouseCode ?? 1001
    const name = err?.clickhouseName ?? 'STD_EXCEPTION'
    // One line, as a client shows it; the engine's syntax errors quote the query across lines.
    const message = withoutServerDirectories(err?.message ?? 'internal error of synclog\'s SQL endpoint; see the server log', opts.identity).replace(/\s*\n\s*/g, ' ')
    log.debug({ status: statusOf(name), code, name, ms: Date.now() - started }, 'SQL query refused or failed')
    if (response.headersSent) {
      response.destroy()
      return
    }
    commonHeaders(response, opts.limits)
    response.statusCode = err === undefined ? 500 : statusOf(name)
    response.setHeader('Content-Type', 'text/plain; charset=UTF-8')
    response.setHeader('X-ClickHouse-Exception-Code', String(code))
    response.end(`Code: ${code}. DB::Exception: ${message.replace(/\.$/, '')}. (${name})\n`)
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const started = Date.now()
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost')
      const params = url.searchParams
      if (request.method !== 'GET' && request.method !== 'POST' && request.method !== 'HEAD') {
        throw refused('BAD_ARGUMENTS', `HTTP method ${request.method ?? ''} is not supported: use GET or POST`)
      }
      if (url.pathname === '/ping' || url.pathname === '/replicas_status' || (url.pathname === '/' && !params.has('query') && request.method !== 'POST')) {
        commonHeaders(response, opts.limits)
        response.setHeader('Content-Type', 'text/plain; charset=UTF-8')
        response.end('Ok.\n')
        return
      }
      if (url.pathname !== '/' && url.pathname !== '/query') throw refused('BAD_ARGUMENTS', `no endpoint ${url.pathname}: send queries to / (or /ping)`)
      const caller = await authorize(opts.tokens, request, params)
      const body = request.method === 'POST' ? await bodyOf(request) : ''
      const formatHeader = request.headers['x-clickhouse-format']
      const query = queryFromParams(params, body, typeof formatHeader === 'string' && formatHeader !== '' ? formatHeader : undefined)
      const database = params.get('database') ?? request.headers['x-clickhouse-database']
      if (typeof database === 'string' && database !== '' && !(await opts.sql.acceptsDatabase(database))) {
        throw refused('UNKNOWN_DATABASE', `database ${database} does not exist: synclog's tables are in the database synclog`)
      }
      request.socket.setTimeout(0)
      const result = await opts.sql.run(query)
      commonHeaders(response, opts.limits)
      response.statusCode = 200
      response.setHeader('Content-Type', contentTypeOf(result.format))
      response.setHeader('X-ClickHouse-Format', result.format)
      const queryId = params.get('query_id') ?? request.headers['x-clickhouse-query-id']
      response.setHeader('X-ClickHouse-Query-Id', typeof queryId === 'string' && queryId !== '' ? queryId : result.queryId)
      response.setHeader('X-ClickHouse-Summary', JSON.stringify(result.summary))
      if (params.get('compress') === '1') {
        // ClickHouse's own compressed framing, which the Java client asks for by default.
        const chunks: Buffer[] = []
        for await (const chunk of result.body) chunks.push(chunk as Buffer)
        for (const block of compressedBlocks(Buffer.concat(chunks))) response.write(block)
        response.end()
      } else {
        await pipeline(result.body, response)
      }
      log.debug({ token: caller.name, format: result.format, ms: Date.now() - started, settings: [...query.output.keys()] }, 'SQL query')
    })().catch((e: unknown) => fail(response, e, started))
  })
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (socket.writable && socket.bytesWritten === 0 && err.code !== 'ECONNRESET') {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    socket.destroy()
  })
  return server
}
