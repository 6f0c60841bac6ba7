/**
 * What a hostile client can hold of `synclog serve`: hundreds of slow clients
 * (silent, trickling headers, stalling mid-body) on 127.0.0.1 are answered 408
 * and closed within the configured timeouts while /healthz keeps answering; the
 * server never holds more connections than its limit; a body over a route's
 * limit gets 413 before it is read; and none of this cuts a long download to a
 * slow reader. The server runs in this process over a real chDB store holding
 * a generated log of ~100,000 rows; the timeouts are set low through the same
 * settings an operator uses.
 */
import { connect, type Socket } from 'node:net'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { SyncLogStore } from '../../src/clickhouse/sync-log-store.js'
import { loadConfig } from '../../src/config/config.js'
import { ApiTokens } from '../../src/http/api-tokens.js'
import { buildServer, type SynclogServer } from '../../src/http/server.js'
import { DEFAULT_BODY_LIMIT, SIGN_IN_BODY_LIMIT, checkIntervalMs, httpSettingsOf, type HttpLimits } from '../../src/http/server-limits.js'
import { silentLogger } from '../support/silent-logger.js'
import { tempDir } from '../support/cli.js'
import { GeneratedLog } from '../support/generated-log.js'
import { Prng } from '../../src/generate/prng.js'

const GENERATED_ROWS = 100_000

let dir: string
let ch: ClickHouse
let store: SyncLogStore
let tokens: ApiTokens
let operator: string

/** The limits as an operator would set them (config file keys), read back through the config loader. */
function limitsFrom(http: Record<string, unknown>): HttpLimits {
  return httpSettingsOf(loadConfig({ data: dir }, { SYNCLOG_CONFIG: join(dir, 'none.json'), ...envOf(http) }), undefined).limits
}

function envOf(http: Record<string, unknown>): Record<string, string> {
  const names: Record<string, string> = {
    headersTimeoutSeconds: 'SYNCLOG_HTTP_HEADERS_TIMEOUT',
    requestTimeoutSeconds: 'SYNCLOG_HTTP_REQUEST_TIMEOUT',
    idleTimeoutSeconds: 'SYNCLOG_HTTP_IDLE_TIMEOUT',
    keepAliveTimeoutSeconds: 'SYNCLOG_HTTP_KEEP_ALIVE_TIMEOUT',
    maxConnections: 'SYNCLOG_HTTP_MAX_CONNECTIONS',
  }
  return Object.fromEntries(Object.entries(http).map(([k, v]) => [names[k]!, String(v)]))
}

async function serve(limits: HttpLimits): Promise<{ server: SynclogServer; port: number }> {
  const server = await buildServer({ store, tokens, logger: silentLogger(), version: 'test', limits })
  await server.app.listen({ host: '127.0.0.1', port: 0 })
  const address = server.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, port: address.port }
}

interface SlowClient {
  readonly kind: string
  readonly openedAt: number
  closedAt: number | null
  received: string
  readonly closed: Promise<void>
  readonly socket: Socket
  stop(): void
}

/** A client that opens a connection and then does `behave` with it, slowly; never ends it itself. */
function slowClient(port: number, kind: string, behave: (socket: Socket) => () => void): Promise<SlowClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let stop = (): void => {}
    let resolveClosed!: () => void
    const client: SlowClient = {
      kind,
      openedAt: Date.now(),
      closedAt: null,
      received: '',
      socket,
      closed: new Promise<void>((r) => (resolveClosed = r)),
      stop: () => stop(),
    }
    socket.on('data', (d: Buffer) => (client.received += d.toString('latin1')))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      client.closedAt = Date.now()
      stop()
      resolveClosed()
    })
    socket.once('connect', () => {
      stop = behave(socket)
      resolve(client)
    })
    socket.once('error', reject)
  })
}

/** Writes `chunks` one every `everyMs`, then stalls; returns a stopper. */
function trickle(socket: Socket, chunks: readonly string[], everyMs: number): () => void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer)
    const next = chunks[i++]
    if (next === undefined) return clearInterval(timer)
    socket.write(next)
  }, everyMs)
  return () => clearInterval(timer)
}

const bytes = (text: string): string[] => [...text]

interface Behaviour {
  readonly name: string
  /** The answer it gets before the server closes the connection. */
  readonly answer: RegExp
  readonly start: (socket: Socket) => () => void
}

const TIMED_OUT = /^HTTP\/1\.1 408 Request Timeout\r\n[^]*"REQUEST_TIMEOUT"/

/** The kinds of slow client, each a way to hold a connection without finishing a request. */
function slowBehaviours(prng: Prng): Behaviour[] {
  const body = (n: number): string => JSON.stringify({ token: 'x'.repeat(n) })
  const timedOut = (name: string, start: Behaviour['start']): Behaviour => ({ name, answer: TIMED_OUT, start })
  return [
    timedOut('connects and says nothing', () => () => {}),
    timedOut('sends its headers a byte at a time, never finishing', (s) =>
      trickle(s, bytes(`GET /api/v1/log?limit=${prng.below(1000)} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`), 20 + prng.below(40)),
    ),
    timedOut("sends a sign-in's headers and part of its body, then nothing", (s) => {
      const b = body(200)
      s.write(
        `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b.slice(0, prng.below(b.length - 1))}`,
      )
      return () => {}
    }),
    // Never silent for the idle timeout, too slow for the request timeout.
    timedOut("sends a sign-in's body a byte every 150 ms", (s) => {
      const b = body(500)
      s.write(`POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`)
      return trickle(s, bytes(b), 150)
    }),
    timedOut('sends a chunked body that never ends', (s) => {
      s.write('POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
      return trickle(
        s,
        Array.from({ length: 200 }, () => '1\r\n \r\n'),
        100,
      )
    }),
    // Routed (and answered) from its headers; the body it never finishes still ends the connection.
    {
      name: 'sends a GET to an unknown path with a body that stalls',
      answer: /^HTTP\/1\.1 404 Not Found\r\n/,
      start: (s) => {
        s.write(`GET /nowhere/${prng.below(1e6)} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'z'.repeat(prng.below(1000))}`)
        return () => {}
      },
    },
    timedOut('sends a sign-in body one byte short of its Content-Length', (s) => {
      const b = body(600)
      s.write(
        `POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b.slice(0, -1)}`,
      )
      return () => {}
    }),
  ]
}

/** Polls /healthz every `everyMs` until stopped; every status seen. */
function watchHealth(port: number, everyMs: number): { stop: () => Promise<number[]> } {
  const statuses: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status,
        () => 0,
      )
      statuses.push(res)
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return statuses
    },
  }
}

/** Samples the server's open connections every few ms until stopped; the largest count seen. */
function watchConnections(server: SynclogServer): { stop: () => number } {
  let most = 0
  const timer = setInterval(() => server.app.server.getConnections((_e, n) => (most = Math.max(most, n))), 10)
  return {
    stop: () => {
      clearInterval(timer)
      return most
    },
  }
}

beforeAll(async () => {
  dir = await tempDir('http-limits')
  const logger = silentLogger()
  ch = await openClickHouse({ dataDir: join(dir, 'data'), logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)
  const log = new GeneratedLog({ rows: GENERATED_ROWS, seed: 'http-limits' })
  for (const batch of log.logBatches(50_000)) await store.write(batch)
  await store.write([...log.countEvents(), ...log.statusEvents()])
  tokens = ApiTokens.inDataDir(join(dir, 'data'))
  operator = (await tokens.create('operator', {})).token
}, 120_000)

afterAll(async () => {
  await ch?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('slow clients', () => {
  it('answers hundreds of slow clients 408 and closes them within the timeouts, while /healthz keeps answering', async () => {
    const limits = limitsFrom({
      headersTimeoutSeconds: 1,
      requestTimeoutSeconds: 2,
      idleTimeoutSeconds: 1,
      keepAliveTimeoutSeconds: 1,
      maxConnections: 400,
    })
    const { server, port } = await serve(limits)
    try {
      const prng = new Prng('slow-clients')
      const behaviours = slowBehaviours(prng)
      const health = watchHealth(port, 50)
      const connections = watchConnections(server)
      const clients: SlowClient[] = []
      const behaviourOf = new Map<SlowClient, Behaviour>()
      for (let i = 0; i < 300; i++) {
        const behaviour = prng.pick(behaviours)
        const client = await slowClient(port, behaviour.name, behaviour.start)
        behaviourOf.set(client, behaviour)
        clients.push(client)
      }
      await Promise.all(clients.map((c) => c.closed))
      const most = connections.stop()
      const statuses = await health.stop()

      // Node looks for expired requests every checkIntervalMs; allow that and scheduling on a busy machine.
      const bound = limits.requestTimeoutMs + checkIntervalMs(limits) + 1_500
      for (const c of clients) {
        expect(c.closedAt! - c.openedAt, c.kind).toBeLessThanOrEqual(bound)
        expect(c.received, c.kind).toMatch(behaviourOf.get(c)!.answer)
      }
      expect(statuses.length).toBeGreaterThan(5)
      expect(
        statuses.every((s) => s === 200),
        statuses.join(','),
      ).toBe(true)
      expect(most).toBeLessThanOrEqual(limits.maxConnections)
    } finally {
      await server.app.close()
    }
  }, 30_000)

  it('holds no more connections than its limit, and serves again once the slow ones are gone', async () => {
    const limits = limitsFrom({ headersTimeoutSeconds: 1, requestTimeoutSeconds: 1, idleTimeoutSeconds: 1, maxConnections: 40 })
    const { server, port } = await serve(limits)
    try {
      const connections = watchConnections(server)
      const clients: SlowClient[] = []
      for (let i = 0; i < 120; i++) clients.push(await slowClient(port, 'silent', () => () => {}))
      await Promise.all(clients.map((c) => c.closed))
      expect(connections.stop()).toBeLessThanOrEqual(40)
      const refusedAtOnce = clients.filter((c) => c.closedAt! - c.openedAt < 500 && c.received === '')
      expect(refusedAtOnce.length).toBeGreaterThanOrEqual(80 - 5)
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    } finally {
      await server.app.close()
    }
  }, 30_000)
})

/** Sends headers declaring `declared` body bytes, then body bytes until an answer comes; the answer and what was sent. */
function sendUntilAnswered(port: number, head: string, chunk: string, maxBytes: number): Promise<{ answer: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let answer = ''
    let sent = 0
    let timer: NodeJS.Timeout | undefined
    socket.on('error', () => undefined)
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')))
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ answer, sent })
    })
    socket.once('connect', () => {
      socket.write(head)
      timer = setInterval(() => {
        if (answer !== '' || sent >= maxBytes || socket.destroyed) return clearInterval(timer)
        socket.write(chunk)
        sent += chunk.length
      }, 5)
    })
    socket.once('error', reject)
    setTimeout(() => reject(new Error('no answer')), 10_000).unref()
  })
}

describe('request bodies', () => {
  it("refuses a body over the route's limit with 413 from its Content-Length, before reading it", async () => {
    const { server, port } = await serve(limitsFrom({ requestTimeoutSeconds: 5 }))
    try {
      const prng = new Prng('bodies')
      const routes = [
        { method: 'POST', path: '/api/v1/session', limit: SIGN_IN_BODY_LIMIT },
        { method: 'DELETE', path: '/api/v1/session', limit: DEFAULT_BODY_LIMIT },
      ]
      for (let i = 0; i < 200; i++) {
        const route = routes[i % routes.length]!
        const size = route.limit + 1 + prng.below(i % 3 === 0 ? 10 : 50_000_000)
        const started = Date.now()
        const { answer, sent } = await sendUntilAnswered(
          port,
          `${route.method} ${route.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
          'x'.repeat(1024),
          size,
        )
        expect(answer, `${route.method} ${size}`).toMatch(/^HTTP\/1\.1 413 /)
        expect(answer).toContain('"TOO_LARGE"')
        expect(answer).toContain(`larger than ${route.limit} bytes`)
        expect(sent).toBeLessThan(route.limit + 64 * 1024)
        expect(Date.now() - started).toBeLessThan(2_000)
      }
    } finally {
      await server.app.close()
    }
  }, 60_000)

  it('refuses a chunked body with 413 as soon as it passes the limit, and accepts one within it', async () => {
    const { server, port } = await serve(limitsFrom({ requestTimeoutSeconds: 5 }))
    try {
      const chunk = `400\r\n${'x'.repeat(1024)}\r\n`
      const { answer, sent } = await sendUntilAnswered(
        port,
        'POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        chunk,
        10_000_000,
      )
      expect(answer).toMatch(/^HTTP\/1\.1 413 /)
      expect(sent).toBeLessThan(SIGN_IN_BODY_LIMIT + 64 * 1024)
      for (const size of [1, 10, 100, 500, SIGN_IN_BODY_LIMIT - 20]) {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: 's'.repeat(size) }).slice(0, SIGN_IN_BODY_LIMIT),
        })
        expect([400, 401], String(size)).toContain(res.status)
      }
    } finally {
      await server.app.close()
    }
  })
})

describe('long downloads', () => {
  it('streams a 100,000-row CSV to a slow reader to the end, however much longer than the timeouts it takes', async () => {
    const limits = limitsFrom({
      headersTimeoutSeconds: 0.5,
      requestTimeoutSeconds: 0.5,
      idleTimeoutSeconds: 0.5,
      keepAliveTimeoutSeconds: 0.5,
    })
    const { server, port } = await serve(limits)
    try {
      const expected = (await store.countLog({}, { from: '1900-01-01', includeRejected: true })).rows
      expect(expected).toBeGreaterThan(90_000)
      const started = Date.now()
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/log.csv?from=1900-01-01&includeRejected=true`, {
        headers: { authorization: `Bearer ${operator}` },
      })
      expect(res.status).toBe(200)
      let rows = 0
      const parser = parse({ bom: true, columns: true })
      parser.on('data', () => rows++)
      const done = new Promise<void>((resolve, reject) => {
        parser.on('end', resolve)
        parser.on('error', reject)
      })
      const reader = res.body!.getReader()
      for (let n = 0; ; n++) {
        const { done: finished, value } = await reader.read()
        if (finished) break
        parser.write(value)
        // Stall now and then, each time longer than every timeout.
        if (n % 200 === 0 && Date.now() - started < 4_000) await new Promise((r) => setTimeout(r, 800))
      }
      parser.end()
      await done
      expect(rows).toBe(expected)
      expect(Date.now() - started).toBeGreaterThan(4 * limits.requestTimeoutMs)
    } finally {
      await server.app.close()
    }
  }, 60_000)
})
