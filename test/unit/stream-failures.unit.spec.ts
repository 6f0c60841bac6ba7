/**
 * Failure handling by kind in the stream services: which store errors are retried, which
 * Kafka errors need a new transactional producer, and heartbeats while a batch waits.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { ClickHouseLogLevel, createClient } from '@clickhouse/client'
import kafkajs from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { isSynclogError } from '../../src/errors.js'
import { isTransient, toStoreError } from '../../src/clickhouse/store-errors.js'
import { kafkaError } from '../../src/kafka/errors.js'
import { isFenced } from '../../src/kafka/kafka-client.js'
import { heartbeatWhile } from '../../src/stream/consumer-supervision.js'

const { KafkaJSProtocolError, KafkaJSNonRetriableError, KafkaJSConnectionError } = kafkajs

/** What kafkajs' retrier throws for a non-retriable error (its typings omit the cause argument). */
const NonRetriable = KafkaJSNonRetriableError as unknown as new (
  e: Error,
  m: { cause: Error },
) => InstanceType<typeof KafkaJSNonRetriableError>

function protocolError(type: string, code: number): InstanceType<typeof KafkaJSProtocolError> {
  return new KafkaJSProtocolError(Object.assign(new Error(`broker said ${type}`), { type, code, retriable: false }))
}

/** A TCP server that accepts connections and never answers: a hung ClickHouse. */
async function silentServer(): Promise<{ server: Server; url: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, url: `http://127.0.0.1:${address.port}`, sockets }
}

let hung: Awaited<ReturnType<typeof silentServer>> | undefined
afterEach(async () => {
  if (hung === undefined) return
  for (const s of hung.sockets) s.destroy()
  await new Promise((resolve) => hung!.server.close(resolve))
  hung = undefined
})

describe('store errors are classified by kind', () => {
  it('a ClickHouse server that accepts and never answers is unavailable (retried), not a failure', async () => {
    hung = await silentServer()
    const client = createClient({ url: hung.url, request_timeout: 300, log: { level: ClickHouseLogLevel.OFF } })
    try {
      const error = await client.insert({ table: 'sync_log', values: [{ a: 1 }], format: 'JSONEachRow' }).then(
        () => null,
        (e: unknown) => e,
      )
      expect(isTransient(error)).toBe(true)
      const mapped = toStoreError(error, 'write 1 rows to sync_log')
      expect([mapped.code, mapped.retriable]).toEqual(['STORE_UNAVAILABLE', true])
      expect(mapped.message).toMatch(/^ClickHouse could not write 1 rows to sync_log: Timeout error/)
    } finally {
      await client.close()
    }
  })

  it('a refused connection is unavailable; a query ClickHouse refuses is a failure; a bug is a failure', () => {
    expect(toStoreError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'write').code).toBe(
      'STORE_UNAVAILABLE',
    )
    expect(toStoreError(Object.assign(new Error('Cannot parse DateTime'), { code: '41' }), 'write').code).toBe('STORE_FAILED')
    expect(toStoreError(new TypeError('Timeout error.x'), 'write').code).toBe('STORE_FAILED')
    expect(toStoreError(Object.assign(new Error('Timeout error.'), { code: '62' }), 'write').code).toBe('STORE_FAILED')
  })
})

describe('a fenced transactional producer is recognised, however kafkajs wraps it', () => {
  it('an old epoch (another producer took the id over, or the transaction expired) is fenced', () => {
    const epoch = protocolError('INVALID_PRODUCER_EPOCH', 47)
    expect(isFenced(epoch)).toBe(true)
    expect(isFenced(new NonRetriable(epoch, { cause: epoch }))).toBe(true)
    expect(isFenced(kafkaError(new NonRetriable(epoch, { cause: epoch }), 'committing a transaction'))).toBe(true)
    expect(isFenced(protocolError('TRANSACTION_COORDINATOR_FENCED', 52))).toBe(true)
  })

  it('an unreachable broker or another broker error is not', () => {
    expect(
      isFenced(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { broker: '127.0.0.1:1', code: 'ECONNREFUSED' })),
    ).toBe(false)
    expect(isFenced(protocolError('TOPIC_AUTHORIZATION_FAILED', 29))).toBe(false)
    expect(isFenced(new Error('INVALID_PRODUCER_EPOCH'))).toBe(false)
  })
})

describe('heartbeats while a batch waits', () => {
  it('beats while the work is pending and stops once it is done', async () => {
    let beats = 0
    let finish: (v: string) => void = () => undefined
    const work = new Promise<string>((resolve) => {
      finish = resolve
    })
    const waiting = heartbeatWhile(
      work,
      async () => {
        beats++
      },
      20,
    )
    await expect.poll(() => beats, { timeout: 2000, interval: 10 }).toBeGreaterThanOrEqual(3)
    finish('written')
    await expect(waiting).resolves.toBe('written')
    const after = beats
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(beats).toBe(after)
  })

  it("ends the wait with the heartbeat's error when the group rebalances", async () => {
    const rebalancing = protocolError('REBALANCE_IN_PROGRESS', 27)
    const work = new Promise<never>(() => undefined)
    const waited = await heartbeatWhile(work, () => Promise.reject(rebalancing), 10).then(
      () => null,
      (e: unknown) => e,
    )
    expect(waited).toBe(rebalancing)
  })

  it("passes the work's own failure through", async () => {
    const failed = toStoreError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'write')
    const waited = await heartbeatWhile(Promise.reject(failed), async () => undefined, 10).then(
      () => null,
      (e: unknown) => e,
    )
    expect(isSynclogError(waited, 'STORE_UNAVAILABLE')).toBe(true)
  })
})
