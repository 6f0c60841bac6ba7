/**
 * A ClickHouse server for fault tests: ClickHouse's HTTP interface (as @clickhouse/client
 * speaks it: the SQL in the body or in `?query=` with the data in the body, `param_*`,
 * settings as URL parameters, `/ping`) over a real engine, chDB, in the test's process, so
 * `synclog run projector --clickhouse-url` can be pointed at it. What the engine does is real;
 * only its availability is the test's to choose:
 *
 * - `answer()`: requests are run and answered (the default);
 * - `hang()`: connections are accepted and requests read, and never answered (a hung server);
 * - `down()`: every connection is reset as soon as it is made (a server that is gone);
 * - `refuse(code)`: every request that writes is answered with that ClickHouse exception code.
 *
 * `query(sql)` reads the engine directly (never through the faults).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import { createChdbConnection, type ChdbConnection } from 'chdb/connection'

/** URL parameters that are HTTP options, not settings for the engine. */
const HTTP_ONLY = new Set([
  'query',
  'query_id',
  'database',
  'session_id',
  'role',
  'default_format',
  'enable_http_compression',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'user',
  'password',
])

type Mode = { kind: 'answer' } | { kind: 'hang' } | { kind: 'down' } | { kind: 'refuse'; code: number }

export interface ClickHouseFacade {
  readonly url: string
  answer(): void
  hang(): void
  down(): void
  refuse(code: number): void
  /** Requests seen while hanging or refusing. */
  readonly faults: number
  /** Runs SQL on the engine directly; rows as JSONEachRow objects. */
  query<T>(sql: string): Promise<T[]>
  close(): Promise<void>
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of request) text += (chunk as Buffer).toString('utf8')
  return text
}

function exceptionCode(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : ''
  return /^\d+$/.test(code) ? code : '1001'
}

export async function startClickHouseFacade(dataDir: string): Promise<ClickHouseFacade> {
  const connection: ChdbConnection = createChdbConnection({ path: dataDir })
  let mode: Mode = { kind: 'answer' }
  let faults = 0
  const sockets = new Set<Socket>()
  const held = new Set<ServerResponse>()

  async function run(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://facade')
    if (url.pathname === '/ping') return void response.writeHead(200).end('Ok.\n')
    const body = await bodyOf(request)
    const queryParams = new Map<string, string>()
    const settings = new Map<string, string>()
    for (const [key, value] of url.searchParams) {
      if (key.startsWith('param_')) queryParams.set(key.slice('param_'.length), value)
      else if (!HTTP_ONLY.has(key)) settings.set(key, value)
    }
    const inURL = url.searchParams.get('query')
    const sql = inURL ?? body
    const writes = /^\s*(INSERT|CREATE|ALTER|DROP)\b/i.test(sql)
    if (mode.kind === 'hang') {
      faults++
      held.add(response)
      return
    }
    if (mode.kind === 'refuse' && writes) {
      faults++
      response.writeHead(500, { 'X-ClickHouse-Exception-Code': String(mode.code) })
      return void response.end(`Code: ${mode.code}. DB::Exception: refused by the test's ClickHouse. (TEST_FAULT)\n`)
    }
    try {
      const result = await connection.exec({
        query: sql,
        ...(inURL === null ? {} : { values: Readable.from([body]) }),
        query_params: Object.fromEntries(queryParams),
        clickhouse_settings: Object.fromEntries(settings),
      })
      const chunks: Buffer[] = []
      for await (const chunk of result.stream) chunks.push(chunk as Buffer)
      response.writeHead(200, { 'X-ClickHouse-Query-Id': result.query_id }).end(Buffer.concat(chunks))
    } catch (e) {
      const code = exceptionCode(e)
      const message = e instanceof Error ? e.message : String(e)
      response
        .writeHead(500, { 'X-ClickHouse-Exception-Code': code })
        .end(message.startsWith('Code:') ? message : `Code: ${code}. DB::Exception: ${message}\n`)
    }
  }

  const server: Server = createServer((request, response) => {
    run(request, response).catch((e: unknown) => response.writeHead(500).end(String(e)))
  })
  server.on('connection', (socket) => {
    if (mode.kind === 'down') {
      faults++
      return void socket.resetAndDestroy()
    }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the ClickHouse facade has no port')

  const release = (): void => {
    // What hung is gone for good: the client gave up on it (its request timeout).
    for (const response of held) response.destroy()
    held.clear()
  }

  return {
    url: `http://127.0.0.1:${address.port}`,
    answer: () => {
      mode = { kind: 'answer' }
      release()
    },
    hang: () => {
      mode = { kind: 'hang' }
    },
    down: () => {
      mode = { kind: 'down' }
      release()
      for (const socket of sockets) socket.resetAndDestroy()
    },
    refuse: (code) => {
      mode = { kind: 'refuse', code }
    },
    get faults() {
      return faults
    },
    async query<T>(sql: string): Promise<T[]> {
      const result = await connection.query({ query: `${sql} FORMAT JSONEachRow` })
      let text = ''
      for await (const chunk of result.stream) text += (chunk as Buffer).toString('utf8')
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as T)
    },
    async close(): Promise<void> {
      release()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
      await connection.close()
    },
  }
}
