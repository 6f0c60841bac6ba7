/**
 * The local services are the real thing: a Kafka broker with partitions, transactions and
 * read_committed consumers, and a Confluent-compatible schema registry. Uses what answers at
 * SYNCLOG_KAFKA_BROKERS / SYNCLOG_REGISTRY_URL, else starts scripts/services.sh (and stops
 * what it started), so this file also runs without the services globalSetup.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import type { Admin, Consumer, Kafka as KafkaClient, Producer } from 'kafkajs'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { ensureServices, serviceEndpoints } from '../support/services.js'

const { Kafka, Partitioners, logLevel } = kafkajs

const RUN = `${process.env.VITEST_POOL_ID ?? '0'}-${randomUUID().slice(0, 8)}`
const topicName = (what: string): string => `synclog-services-${what}-${RUN}`

const ROSTER_SCHEMA = {
  type: 'record',
  name: 'RosterProbe',
  namespace: 'synclog.test',
  fields: [
    { name: 'studentId', type: 'string' },
    { name: 'sectionId', type: 'string' },
    { name: 'active', type: 'boolean' },
    { name: 'grade', type: ['null', 'int'], default: null },
  ],
}

let stopServices: () => Promise<void> = async () => undefined
let kafka: KafkaClient
let admin: Admin
const topics: string[] = []
const clients: (Producer | Consumer)[] = []

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  topics.push(topic)
  const created = await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true })
  expect(created).toBe(true)
}

function transactionalProducer(id: string): Producer {
  const producer = kafka.producer({
    transactionalId: `synclog-services-${id}-${RUN}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  clients.push(producer)
  return producer
}

/** Reads `topic` from the beginning (read_committed) until `expected` values arrived. */
async function readCommitted(topic: string, expected: number): Promise<{ key: string; value: Buffer; partition: number }[]> {
  const consumer = kafka.consumer({ groupId: `synclog-services-${RUN}-${topic}`, readUncommitted: false })
  clients.push(consumer)
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const got: { key: string; value: Buffer; partition: number }[] = []
  await new Promise<void>((done, fail) => {
    consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error))
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          got.push({ key: message.key?.toString() ?? '', value: message.value ?? Buffer.alloc(0), partition })
          if (got.length >= expected) done()
        },
      })
      .catch(fail)
  })
  await consumer.disconnect()
  return got
}

beforeAll(async () => {
  stopServices = await ensureServices()
  // kafkajs logs retriable answers (a coordinator still loading on a fresh broker) at ERROR;
  // failures show up in the assertions and the thrown errors instead.
  kafka = new Kafka({ clientId: `synclog-services-spec-${RUN}`, brokers: serviceEndpoints().brokers, logLevel: logLevel.NOTHING })
  admin = kafka.admin()
  await admin.connect()
}, 900_000)

afterAll(async () => {
  for (const client of clients) await client.disconnect().catch(() => undefined)
  if (admin) {
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined)
    await admin.disconnect()
  }
  await stopServices()
}, 120_000)

describe('the local Kafka', () => {
  it('creates a topic with 3 partitions, each with a leader', async () => {
    const topic = topicName('partitions')
    await createTopic(topic, 3)

    const {
      topics: [metadata],
    } = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(metadata?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2])
    expect(metadata?.partitions.every((p) => p.leader === 1)).toBe(true)
  })

  it('delivers a committed transaction to a read_committed consumer and hides an aborted one', async () => {
    const topic = topicName('tx')
    await createTopic(topic, 3)
    const keys = Array.from({ length: 12 }, (_, i) => `student-${i}`)
    const producer = transactionalProducer('tx')
    await producer.connect()

    // Aborted first, with the same keys, so every partition holds aborted records before the
    // committed ones: a consumer that has all the committed ones has passed the aborted ones.
    const aborted = await producer.transaction()
    await aborted.send({ topic, messages: keys.map((key) => ({ key, value: `aborted:${key}` })) })
    await aborted.abort()
    const committed = await producer.transaction()
    await committed.send({ topic, messages: keys.map((key) => ({ key, value: `committed:${key}` })) })
    await committed.commit()

    const got = await readCommitted(topic, keys.length)
    expect(got.map((m) => m.value.toString()).sort()).toEqual(keys.map((k) => `committed:${k}`).sort())
    expect(new Set(got.map((m) => m.partition)).size).toBeGreaterThan(1)
  })
})

describe('the local schema registry', () => {
  it('registers an Avro schema under <topic>-value and round-trips a record through Kafka', async () => {
    const { registryUrl } = serviceEndpoints()
    const registry = new SchemaRegistry({ host: registryUrl, clientId: 'synclog-services-spec' })
    const topic = topicName('avro')
    const subject = `${topic}-value`

    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ROSTER_SCHEMA) }, { subject })
    expect(id).toBeGreaterThan(0)
    expect(await registry.getLatestSchemaId(subject)).toBe(id)
    const subjects = (await (await fetch(`${registryUrl}/subjects`)).json()) as string[]
    expect(subjects).toContain(subject)

    const record = { studentId: 's-1', sectionId: 'sec-9', active: true, grade: 7 }
    const encoded = await registry.encode(id, record)
    expect(encoded.readUInt8(0)).toBe(0) // Confluent wire format: magic byte, then the schema id
    expect(encoded.readInt32BE(1)).toBe(id)
    expect(await registry.decode(encoded)).toEqual(record)

    await createTopic(topic, 3)
    const producer = transactionalProducer('avro')
    await producer.connect()
    const tx = await producer.transaction()
    await tx.send({ topic, messages: [{ key: record.studentId, value: encoded }] })
    await tx.commit()
    const [message] = await readCommitted(topic, 1)
    expect(message && (await registry.decode(message.value))).toEqual(record)
  })
})
