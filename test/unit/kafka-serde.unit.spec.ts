/**
 * AvroSerde without a running registry: framing errors never reach the registry, an
 * in-memory registry covers lookups, caches and evolution, and a refused connection is
 * a retriable error (never a dead letter).
 */
import { createServer as createHttpServer, type ServerResponse } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { avroTypeFor, changeEventToAvro, changeEventType, syncLogEventType } from '../../src/events/avro.js'
import { isSynclogError } from '../../src/errors.js'
import { AvroSerde, DecodeError, type DecodeFailure } from '../../src/kafka/avro-serde.js'
import { ConfluentRegistryClient } from '../../src/kafka/registry-client.js'
import { frame, unframe } from '../../src/kafka/wire-format.js'
import { silentLogger } from '../support/silent-logger.js'
import { logRow } from '../support/log-row.js'
import { smallDistrict, sync } from '../support/sis.js'
import { MemoryRegistry, NO_REGISTRY } from '../support/memory-registry.js'
import { newerChangeEventSchema, withUserField } from '../support/evolved-schema.js'
import { asDecoded } from '../support/stream-events.js'

const TOPICS = { changeEvents: 't.change-events', syncLog: 't.sync-log' }

async function failure(p: Promise<unknown>): Promise<DecodeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(DecodeError)
  return e as DecodeError
}

function serdeWith(client = new MemoryRegistry(), now?: () => number): { serde: AvroSerde; client: MemoryRegistry } {
  return { serde: new AvroSerde('http://unused', silentLogger(), { client, now, unknownSchemaTtlMs: 1000 }), client }
}

const events = (): ChangeEvent[] => smallDistrict(sync()).end()

describe('Confluent framing errors are clear SynclogErrors, without asking the registry', () => {
  const serde = new AvroSerde('http://127.0.0.1:9', silentLogger(), { client: NO_REGISTRY })
  const cases: [string, Buffer | null, DecodeFailure, RegExp][] = [
    ['a tombstone (null value)', null, 'empty', /no value/],
    ['zero bytes', Buffer.alloc(0), 'empty', /no value/],
    ['JSON text', Buffer.from('{"eventId":"e1"}'), 'not-framed', /not Confluent-framed: first byte is 0x7b, expected magic byte 0x00/],
    ['an Avro body without header', Buffer.from([0x06, 0x65, 0x31]), 'not-framed', /not Confluent-framed/],
    ['a header cut after 3 bytes', Buffer.from([0, 0, 0]), 'truncated', /truncated Confluent frame: 3 byte\(s\), a frame needs 5/],
    ['the magic byte alone', Buffer.from([0]), 'truncated', /truncated/],
  ]
  for (const [what, value, reason, message] of cases) {
    it(`${what} → ${reason}`, async () => {
      for (const decode of [serde.decodeChangeEvent(value), serde.decodeSyncLogEvent(value), serde.decode(value)]) {
        const e = await failure(decode)
        expect(e.reason).toBe(reason)
        expect(e.message).toMatch(message)
        expect(isSynclogError(e, 'DECODE_FAILED')).toBe(true)
        expect(e.retriable).toBe(false)
        expect(e.schemaId).toBeNull()
      }
    })
  }

  it('a schema id that cannot exist (0 or negative) is unknown without a lookup', async () => {
    expect((await failure(serde.decodeChangeEvent(frame(0, Buffer.from([1]))))).reason).toBe('schema-unknown')
    const negative = Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 1])
    const e = await failure(serde.decodeChangeEvent(negative))
    expect([e.reason, e.schemaId]).toEqual(['schema-unknown', -1])
  })

  it('encoding before register() is a usage error', () => {
    expect(() => serde.encodeChangeEvent(events()[0]!)).toThrow(expect.objectContaining({ code: 'USAGE' }))
  })

  it('frame and unframe are inverse', () => {
    const body = Buffer.from([1, 2, 3])
    expect(unframe(frame(70000, body))).toEqual({ schemaId: 70000, body })
  })
})

describe('decoding through a registry (in memory)', () => {
  it('round-trips a district sync and looks each writer schema up once', async () => {
    const { serde, client } = serdeWith()
    expect(await serde.register(TOPICS)).toEqual({ changeEvent: 1, syncLogEvent: 2 })
    expect(await serde.register(TOPICS)).toEqual({ changeEvent: 1, syncLogEvent: 2 })
    const original = events()
    const decoded: ChangeEvent[] = []
    for (const e of original) decoded.push(await serde.decodeChangeEvent(await serde.encodeChangeEvent(e)))
    expect(decoded).toEqual(original.map(asDecoded))
    expect(await serde.decodeSyncLogEvent(await serde.encodeSyncLogEvent(logRow))).toEqual(logRow)
    expect(client.lookups).toBe(2)
    const anyKind = await serde.decode(await serde.encodeSyncLogEvent(logRow))
    expect(anyKind).toEqual({ kind: 'syncLog', event: logRow, schemaId: 2 })
  })

  it('an unknown schema id is schema-unknown, remembered for a while, then asked again', async () => {
    let now = 0
    const { serde, client } = serdeWith(new MemoryRegistry(), () => now)
    const record = frame(42, Buffer.from([2]))
    for (let i = 0; i < 5; i++) {
      const e = await failure(serde.decodeChangeEvent(record))
      expect([e.reason, e.schemaId]).toEqual(['schema-unknown', 42])
      expect(e.message).toMatch(/schema id 42 is unknown/)
    }
    expect(client.lookups).toBe(1)
    now = 1001
    await failure(serde.decodeChangeEvent(record))
    expect(client.lookups).toBe(2)
  })

  it('a body that is not Avro of its writer schema is undecodable', async () => {
    const { serde } = serdeWith()
    await serde.register(TOPICS)
    const good = await serde.encodeChangeEvent(events()[0]!)
    const cut = await failure(serde.decodeChangeEvent(good.subarray(0, good.length - 3)))
    expect([cut.reason, cut.schemaId]).toEqual(['undecodable', 1])
    const trailing = await failure(serde.decodeChangeEvent(Buffer.concat([good, Buffer.from([1, 2])])))
    expect(trailing.reason).toBe('undecodable')
    expect(trailing.message).toMatch(/not Avro of its writer schema/)
  })

  it('valid Avro that is not a known event is not-an-event', async () => {
    const { serde, client } = serdeWith()
    await serde.register(TOPICS)
    const id = await client.register('x', JSON.parse(JSON.stringify(syncLogEventType.schema())) as object)
    const bogus = { payload: { 'synclog.v1.LogRow': { ...logRow, kind: undefined, entity: 'spaceship' } } }
    const e = await failure(serde.decodeSyncLogEvent(frame(id, syncLogEventType.toBuffer(bogus))))
    expect(e.reason).toBe('not-an-event')
    expect(e.message).toMatch(/valid Avro but not a known event.*entity/)
  })

  it('a writer schema of another record cannot be read as an event: schema-unusable, decode() says not-an-event', async () => {
    const { serde, client } = serdeWith()
    const other = { type: 'record', name: 'Invoice', namespace: 'billing', fields: [{ name: 'total', type: 'long' }] }
    const id = await client.register('billing-value', other)
    const record = frame(id, avroTypeFor(other).toBuffer({ total: 5 }))
    expect((await failure(serde.decodeChangeEvent(record))).reason).toBe('schema-unusable')
    expect((await failure(serde.decodeChangeEvent(record))).reason).toBe('schema-unusable')
    expect((await failure(serde.decode(record))).reason).toBe('not-an-event')
    expect(client.lookups).toBe(1)
  })

  it('schema evolution: a newer writer (one more optional user field) reads as the same event, and the newer reader reads current records', async () => {
    const { serde, client } = serdeWith()
    await serde.register(TOPICS)
    const newer = newerChangeEventSchema('pronouns')
    const newerId = await client.register('t.change-events-value', newer)
    const user = events().find((e) => e.type === 'RecordChanged' && e.entity === 'user')!
    const written = await client.encode(newerId, withUserField(changeEventToAvro(user), 'pronouns', 'she/her'))
    expect(await serde.decodeChangeEvent(written)).toEqual(user)

    const newerType = avroTypeFor(newer)
    const current = unframe(await serde.encodeChangeEvent(user))
    const read = newerType.fromBuffer(current.body, newerType.createResolver(changeEventType)) as {
      payload: Record<string, { fields: Record<string, unknown> }>
    }
    expect(read.payload['synclog.v1.UserChanged']?.fields.pronouns).toBeNull()
    expect(read.payload['synclog.v1.UserChanged']?.fields.givenName).toBe('James')
  })
})

describe('a registry that cannot be reached', () => {
  /** A loopback port nothing listens on: bound, then released. */
  async function closedPort(): Promise<number> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    await new Promise((resolve) => server.close(resolve))
    if (address === null || typeof address === 'string') throw new Error('no port')
    return address.port
  }

  it('is a retriable error, not a DecodeError, and is asked again next time', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/apis/ccompat/v7`
    const serde = new AvroSerde(url, silentLogger())
    for (let i = 0; i < 2; i++) {
      const e = await serde.decodeChangeEvent(frame(7, Buffer.from([1]))).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(e).not.toBeInstanceOf(DecodeError)
      expect(isSynclogError(e, 'REGISTRY_UNAVAILABLE')).toBe(true)
      expect((e as Error).message).toContain(
        `schema registry ${url} unavailable: looking up schema id 7 failed: fetch failed: connect ECONNREFUSED`,
      )
    }
    await expect(serde.register(TOPICS)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true })
  })

  it('that takes a registration and never answers it is given up on after the timeout, as retriable', async () => {
    // Answers the compatibility calls as a registry does; takes every other request and says nothing.
    const hung: ServerResponse[] = []
    const server = createHttpServer((req, res) => {
      if (req.url?.includes('/config/')) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' })
        res.end(JSON.stringify({ compatibility: 'BACKWARD', compatibilityLevel: 'BACKWARD' }))
      } else hung.push(res)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const registry = new ConfluentRegistryClient(`http://127.0.0.1:${port}/apis/ccompat/v7`, 300)
      const e = await registry.register('district-events-value', { type: 'record', name: 'E', fields: [] }).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(hung.length).toBeGreaterThan(0)
      expect(e).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true })
      expect((e as Error).message).toMatch(/registering a schema under subject district-events-value failed: .*Timeout \(300ms\)/)
    } finally {
      for (const res of hung) res.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
