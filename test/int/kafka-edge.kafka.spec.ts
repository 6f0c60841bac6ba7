/**
 * The Kafka edge against the real broker and registry (scripts/services.sh start):
 * topics, schema registration, publishing and reading back, schema evolution, and the
 * errors a consumer routes to the dead-letter topic. Endpoints come from the config
 * (SYNCLOG_KAFKA_BROKERS, SYNCLOG_REGISTRY_URL; defaults 127.0.0.1:19092 and
 * http://127.0.0.1:18081/apis/ccompat/v7). Every name here carries a per-run prefix.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import kafkajs from 'kafkajs'
import type { Admin, Kafka } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Config } from '../../src/config/config.js'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { avroTypeFor, changeEventSchema, changeEventToAvro, changeEventType } from '../../src/events/avro.js'
import { AvroSerde, DecodeError, valueSubject } from '../../src/kafka/avro-serde.js'
import { createKafka, idempotentProducer } from '../../src/kafka/kafka-client.js'
import { publishChangeEvents } from '../../src/kafka/publisher.js'
import { ConfluentRegistryClient } from '../../src/kafka/registry-client.js'
import { ensureTopics, topicNames, type TopicNames } from '../../src/kafka/topics.js'
import { frame, unframe } from '../../src/kafka/wire-format.js'
import { silentLogger } from '../support/silent-logger.js'
import { FULL, smallDistrict, SyncScript } from '../support/sis.js'
import { newerChangeEventSchema, withUserField } from '../support/evolved-schema.js'
import { asDecoded } from '../support/stream-events.js'

const { ConfigResourceTypes } = kafkajs
const logger = silentLogger()
const PREFIX = `test-${process.pid}-${Date.now()}.`

let config: Config
let kafka: Kafka
let admin: Admin
let topics: TopicNames

beforeAll(async () => {
  const base = loadConfig({ data: await mkdtemp(join(tmpdir(), 'synclog-kafka-edge-')) })
  config = { ...base, kafka: { ...base.kafka, topicPrefix: PREFIX, partitions: 3 } }
  topics = topicNames(config.kafka)
  kafka = createKafka(config, logger)
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX))
  if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  await admin.disconnect()
})

async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(what())
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function decodeFailure(p: Promise<unknown>): Promise<DecodeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(DecodeError)
  return e as DecodeError
}

describe('topics', () => {
  it('ensureTopics creates the four topics (processor-state compacted) and is idempotent', async () => {
    const first = await ensureTopics(admin, config.kafka, logger)
    expect([...first.created].sort()).toEqual(Object.values(topics).sort())
    const second = await ensureTopics(admin, config.kafka, logger)
    expect(second.created).toEqual([])
    expect([...second.existing].sort()).toEqual(Object.values(topics).sort())

    const metadata = await admin.fetchTopicMetadata({ topics: Object.values(topics) })
    expect(metadata.topics.map((t) => t.partitions.length)).toEqual([3, 3, 3, 3])
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: Object.values(topics).map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['cleanup.policy', 'max.message.bytes'],
      })),
    })
    const settings = Object.fromEntries(
      described.resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.map((c) => [c.configName, c.configValue]))]),
    )
    expect(settings[topics.processorState]).toEqual({ 'cleanup.policy': 'compact', 'max.message.bytes': '16777216' })
    expect(settings[topics.changeEvents]?.['cleanup.policy']).toBe('delete')
    expect(settings[topics.syncLog]?.['cleanup.policy']).toBe('delete')
  })
})

describe('schemas', () => {
  it('registers both schemas under <topic>-value with BACKWARD, the same ids on every start', async () => {
    const first = await new AvroSerde(config.registry.url, logger).register(topics)
    const again = await new AvroSerde(config.registry.url, logger).register(topics)
    expect(again).toEqual(first)
    expect(first.changeEvent).not.toBe(first.syncLogEvent)
    const registry = new ConfluentRegistryClient(config.registry.url)
    expect(await registry.compatibility(valueSubject(topics.changeEvents))).toBe('BACKWARD')
    expect(await registry.compatibility(valueSubject(topics.syncLog))).toBe('BACKWARD')
  })
})

/** Four tenants' syncs, interleaved event by event, as several SIS publishing at once would. */
function multiTenantStream(): ChangeEvent[] {
  const perTenant = ['district-a', 'district-b', 'district-c', 'district-d'].map((tenant, i) =>
    smallDistrict(new SyncScript(tenant, `${tenant}.sync-1`, 'sis-nightly', `2024-10-0${i + 1}T02:00:00.000Z`, FULL), {
      students: 3 + i,
    }).end(),
  )
  const out: ChangeEvent[] = []
  for (let i = 0; i < Math.max(...perTenant.map((s) => s.length)); i++) {
    for (const s of perTenant) if (s[i]) out.push(s[i]!)
  }
  return out
}

describe('publish and read back', () => {
  it('consumes the published events decoded equal to the originals, each tenant in order in one partition', async () => {
    await ensureTopics(admin, config.kafka, logger)
    const serde = new AvroSerde(config.registry.url, logger)
    await serde.register(topics)
    const events = multiTenantStream()
    const producer = idempotentProducer(kafka)
    await producer.connect()
    const progress: number[] = []
    const result = await publishChangeEvents(producer, serde, topics.changeEvents, events, {
      batchSize: 7,
      onProgress: (p) => progress.push(p.events),
    }).finally(() => producer.disconnect())
    expect(result.events).toBe(events.length)
    expect(result.tenants.size).toBe(4)
    expect(progress.at(-1)).toBe(events.length)

    const reader = new AvroSerde(config.registry.url, logger) // a fresh cache: writer schemas come from the registry
    const received: { partition: number; key: string; event: ChangeEvent }[] = []
    const consumer = kafka.consumer({ groupId: `${PREFIX}read-back`, allowAutoTopicCreation: false })
    await consumer.connect()
    try {
      await consumer.subscribe({ topic: topics.changeEvents, fromBeginning: true })
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          received.push({ partition, key: message.key?.toString() ?? '', event: await reader.decodeChangeEvent(message.value) })
        },
      })
      await waitFor(
        () => received.length >= events.length,
        60_000,
        () => `received ${received.length} of ${events.length}`,
      )
    } finally {
      await consumer.disconnect()
    }
    expect(received).toHaveLength(events.length)
    const byId = new Map(received.map((r) => [r.event.eventId, r.event]))
    expect(events.map((e) => byId.get(e.eventId))).toEqual(events.map(asDecoded))
    for (const tenant of result.tenants) {
      const mine = received.filter((r) => r.key === tenant)
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1)
      expect(mine.every((r) => r.event.tenant === tenant)).toBe(true)
      expect(mine.map((r) => r.event.eventId)).toEqual(events.filter((e) => e.tenant === tenant).map((e) => e.eventId))
    }
    // The four tenant keys spread over more than one partition (murmur2 of these names).
    expect(new Set(received.map((r) => r.partition)).size).toBeGreaterThan(1)
  })
})

describe('schema evolution', () => {
  const user = (): ChangeEvent =>
    smallDistrict(new SyncScript('district-e', 'e.sync-1', 'sis', '2024-10-01T02:00:00.000Z', FULL))
      .end()
      .find((e) => e.type === 'RecordChanged' && e.entity === 'user')!

  it('a newer schema with one more optional user field is BACKWARD-compatible; old and new records read both ways', async () => {
    const registry = new ConfluentRegistryClient(config.registry.url)
    const subject = `${PREFIX}evolution-value`
    const currentId = await registry.register(subject, changeEventSchema)
    const newer = newerChangeEventSchema('pronouns')
    const newerId = await registry.register(subject, newer)
    expect(newerId).not.toBe(currentId)
    expect(await registry.register(subject, newer)).toBe(newerId)

    // A record written by the newer schema reads as the same ChangeEvent (the extra field dropped).
    const event = user()
    const newerRecord = await registry.encode(newerId, withUserField(changeEventToAvro(event), 'pronouns', 'they/them'))
    expect(unframe(newerRecord).schemaId).toBe(newerId)
    const serde = new AvroSerde(config.registry.url, logger)
    expect(await serde.decodeChangeEvent(newerRecord)).toEqual(event)

    // A record written by the current schema is read by a reader built from the newer one: the field is null.
    const currentRecord = unframe(await registry.encode(currentId, changeEventToAvro(event)))
    const newerType = avroTypeFor(newer)
    const read = newerType.fromBuffer(currentRecord.body, newerType.createResolver(changeEventType)) as {
      payload: Record<string, { fields: Record<string, unknown> }>
    }
    expect(read.payload['synclog.v1.UserChanged']?.fields).toMatchObject({ pronouns: null, givenName: 'James', familyName: 'Staff' })
  })

  it('the registry enforces BACKWARD: a new required field without default is refused', async () => {
    const registry = new ConfluentRegistryClient(config.registry.url)
    const subject = `${PREFIX}evolution-strict-value`
    await registry.register(subject, changeEventSchema)
    const breaking = structuredClone(changeEventSchema) as unknown as { fields: object[] }
    breaking.fields.push({ name: 'region', type: 'string' })
    await expect(registry.register(subject, breaking)).rejects.toMatchObject({
      code: 'REGISTRY_FAILED',
      retriable: false,
      message: expect.stringMatching(/not BACKWARD-compatible.*409/),
    })
  })
})

describe('values that do not fit the registered schema', () => {
  it('are refused by the registry client with EVENT_REJECTED naming the bad field, not a registry error', async () => {
    const registry = new ConfluentRegistryClient(config.registry.url)
    const id = await registry.register(`${PREFIX}misfit-value`, changeEventSchema)
    const value = {
      eventId: 'e',
      tenant: 't',
      syncId: 's',
      app: 'a',
      occurredAt: '2024-10-01T02:00:00.000Z',
      payload: { 'synclog.v1.SyncFailed': { reason: 5 } },
    }
    await expect(registry.encode(id, value)).rejects.toMatchObject({
      code: 'EVENT_REJECTED',
      retriable: false,
      message: expect.stringContaining(`value does not fit schema id ${id} at payload`),
    })
  })
})

describe('records a consumer cannot use', () => {
  it('unknown schema id, undecodable bytes and unframed bytes give the documented DecodeError', async () => {
    const serde = new AvroSerde(config.registry.url, logger)
    const ids = await serde.register(topics)

    const unknown = await decodeFailure(serde.decodeChangeEvent(frame(2_000_000_000, Buffer.from([2, 0x61]))))
    expect([unknown.reason, unknown.schemaId, unknown.code, unknown.retriable]).toEqual([
      'schema-unknown',
      2_000_000_000,
      'SCHEMA_UNKNOWN',
      false,
    ])
    expect(unknown.message).toMatch(/schema id 2000000000 is unknown to the registry/)

    const garbage = await decodeFailure(serde.decodeChangeEvent(frame(ids.changeEvent, Buffer.from([0xff, 0xff, 0xff]))))
    expect([garbage.reason, garbage.schemaId]).toEqual(['undecodable', ids.changeEvent])

    const json = await decodeFailure(serde.decodeChangeEvent(Buffer.from(JSON.stringify({ eventId: 'x' }))))
    expect(json.reason).toBe('not-framed')
    expect(json.message).toMatch(/not Confluent-framed/)

    // A sync-log record on the change-events path: its writer schema cannot be read as a change event.
    const row = await serde.encodeSyncLogEvent({
      kind: 'SyncStatusChanged',
      tenant: 't',
      syncId: 's',
      app: 'a',
      status: 'Completed',
      version: 1,
      startedAt: '2024-10-01T02:00:00.000Z',
      endedAt: '',
      message: '',
      modes: '',
      reviewedBy: '',
      reviewedAt: '',
      reviewReason: '',
    })
    expect((await decodeFailure(serde.decodeChangeEvent(row))).reason).toBe('schema-unusable')
    expect((await serde.decode(row)).kind).toBe('syncLog')
  })
})
