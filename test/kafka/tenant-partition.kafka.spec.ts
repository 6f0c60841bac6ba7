/**
 * Where a tenant's events belong (src/kafka/tenant-partition.ts) is where a librdkafka
 * producer set to `partitioner=murmur2_random` puts them, the setting docs/stream-mode.md
 * tells non-Node producers to use; librdkafka's default partitioner puts some tenants
 * elsewhere (which the processor then forwards). Checked with real records on a real topic,
 * read back by a consumer.
 */
import kafkajs from 'kafkajs'
import type { Admin, Kafka as KafkaClient } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tenantPartition } from '../../src/kafka/tenant-partition.js'
import {
  CONFLUENT_KAFKA_MISSING,
  HAS_CONFLUENT_KAFKA,
  produceWithLibrdkafka,
  type LibrdkafkaPartitioner,
} from '../support/librdkafka-producer.js'
import { readTopic } from '../support/read-topic.js'
import { serviceEndpoints } from '../support/services.js'

const { Kafka, logLevel } = kafkajs
const { brokers } = serviceEndpoints()
const RUN = `${process.pid}-${Date.now()}`
const PARTITIONS = 6

/** Tenant ids as SIS send them: plain, URNs, paths, spaces, non-ASCII. */
const TENANTS = [
  'district-a',
  'district-b',
  'district-c',
  'Emerson Unified',
  'urn:district:0042',
  'us/ca/fremont',
  'école-montréal',
  '学区-7',
  'a',
  ...Array.from({ length: 40 }, (_, i) => `tenant-${i}`),
]

let kafka: KafkaClient
let admin: Admin
const topics: string[] = []

beforeAll(async () => {
  kafka = new Kafka({ clientId: `tenant-partition-${RUN}`, brokers, logLevel: logLevel.NOTHING })
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  if (topics.length > 0) await admin.deleteTopics({ topics })
  await admin.disconnect()
})

/** Produces one record per tenant with librdkafka's `partitioner`, and reads back which partition each tenant's record is in. */
async function partitionsOf(partitioner: LibrdkafkaPartitioner | undefined): Promise<Map<string, number>> {
  const topic = `tenant-partition-${partitioner ?? 'default'}-${RUN}`
  topics.push(topic)
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })
  const delivered = await produceWithLibrdkafka(
    brokers,
    topic,
    TENANTS.map((key) => ({ key, value: Buffer.from(key) })),
    partitioner,
  )
  expect(delivered.length).toBe(TENANTS.length)

  const records = await readTopic(kafka, topic, TENANTS.length, `tenant-partition-reader-${topic}`)
  return new Map(records.map((r) => [r.key?.toString('utf8') ?? '', r.partition]))
}

describe.skipIf(!HAS_CONFLUENT_KAFKA)(
  `the partition that owns a tenant (${HAS_CONFLUENT_KAFKA ? 'librdkafka' : CONFLUENT_KAFKA_MISSING})`,
  () => {
    it('is where librdkafka with partitioner=murmur2_random puts the tenant, for every tenant', async () => {
      const read = await partitionsOf('murmur2_random')
      const expected = new Map(TENANTS.map((t) => [t, tenantPartition(t, PARTITIONS)]))
      expect(read).toEqual(expected)
    })

    it("is not always where librdkafka's default partitioner puts the tenant", async () => {
      const read = await partitionsOf(undefined)
      const elsewhere = TENANTS.filter((t) => read.get(t) !== tenantPartition(t, PARTITIONS))
      expect(read.size).toBe(TENANTS.length)
      // CRC32 against murmur2 over 6 partitions: about 5 tenants in 6 land elsewhere.
      expect(elsewhere.length).toBeGreaterThan(TENANTS.length / 2)
      expect(elsewhere).toContain('district-a')
    })
  },
)
