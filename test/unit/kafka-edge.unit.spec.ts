/**
 * The Kafka edge without a broker: error mapping, the kafkajs → pino log bridge,
 * topic creation against a fake admin, and the publisher against a fake producer.
 */
import kafkajs from 'kafkajs'
import type { Admin, LogEntry, ProducerRecord, RecordMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { isSynclogError, SynclogError } from '../../src/errors.js'
import { kafkaError, kafkaErrorType } from '../../src/kafka/errors.js'
import { pinoLevelOf } from '../../src/kafka/kafka-log.js'
import { publishChangeEvents } from '../../src/kafka/publisher.js'
import { ensureTopics, topicConfigEntries, topicNames } from '../../src/kafka/topics.js'
import { silentLogger } from '../support/silent-logger.js'
import { smallDistrict, sync, SyncScript } from '../support/sis.js'

const {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  KafkaJSAggregateError,
  logLevel,
  ConfigResourceTypes,
} = kafkajs

/** What kafkajs' retrier throws for a non-retriable error (its typings omit the cause argument). */
const NonRetriable = KafkaJSNonRetriableError as unknown as new (
  e: Error,
  m: { cause: Error },
) => InstanceType<typeof KafkaJSNonRetriableError>

function protocolError(type: string, code: number, retriable: boolean, message: string): InstanceType<typeof KafkaJSProtocolError> {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable }))
}

describe('kafkajs errors map to SynclogError once', () => {
  it('a broker unreachable for the whole retry budget is retriable, with its cause kept', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1', {
      broker: '127.0.0.1:1',
      code: 'ECONNREFUSED',
    })
    const gaveUp = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 30000 })
    expect(gaveUp.retriable).toBe(false) // kafkajs' own flag on the wrapper
    const e = kafkaError(gaveUp, 'connecting to Kafka')
    expect(isSynclogError(e, 'KAFKA_UNAVAILABLE')).toBe(true)
    expect(e.retriable).toBe(true)
    expect(e.cause).toBe(gaveUp)
    expect(e.message).toBe(
      'Kafka: connecting to Kafka failed (gave up after 8 retries): Connection error: connect ECONNREFUSED 127.0.0.1:1',
    )
  })

  it('a non-retriable broker error stays non-retriable and names the broker error type', () => {
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', 29, false, 'Not authorized to access topics: [Topic authorization failed]')
    const e = kafkaError(new NonRetriable(denied, { cause: denied }), 'sending to t')
    expect(isSynclogError(e, 'KAFKA_FAILED')).toBe(true)
    expect(e.retriable).toBe(false)
    expect(e.message).toMatch(/\[TOPIC_AUTHORIZATION_FAILED\]$/)
    expect(kafkaErrorType(e.cause)).toBe('TOPIC_AUTHORIZATION_FAILED')
  })

  it('an aggregate is retriable only when every inner error is', () => {
    const leader = protocolError('LEADER_NOT_AVAILABLE', 5, true, 'no leader')
    const invalid = protocolError('INVALID_REPLICATION_FACTOR', 38, false, 'Replication factor is invalid')
    expect(kafkaError(new KafkaJSAggregateError('Topic creation errors', [leader]), 'creating topics').retriable).toBe(true)
    const mixed = kafkaError(new KafkaJSAggregateError('Topic creation errors', [leader, invalid]), 'creating topics')
    expect(mixed.retriable).toBe(false)
    expect(mixed.message).toMatch(/\[INVALID_REPLICATION_FACTOR\]/)
    expect(kafkaErrorType(new KafkaJSAggregateError('x', [invalid]))).toBe('INVALID_REPLICATION_FACTOR')
  })

  it('a SynclogError passes through; anything else is a non-retriable failure', () => {
    const own = new SynclogError('USAGE', 'x')
    expect(kafkaError(own, 'x')).toBe(own)
    expect(kafkaError(new TypeError('boom'), 'sending')).toMatchObject({ code: 'KAFKA_FAILED', retriable: false })
    expect(kafkaErrorType(new Error('x'))).toBeNull()
  })
})

describe('kafkajs log levels map to pino levels', () => {
  const entry = (level: number, message: string, extra: Record<string, unknown> = {}, namespace = 'Runner'): LogEntry => ({
    namespace,
    level,
    label: 'X',
    log: { timestamp: '', message, ...extra },
  })
  it.each([
    [logLevel.ERROR, 'The coordinator is not aware of this member, re-joining the group', {}, 'info'],
    [logLevel.WARN, 'The group is rebalancing, re-joining', {}, 'warn'],
    [logLevel.ERROR, 'Restarting the consumer in 300ms', { retryCount: 1, retryTime: 300 }, 'warn'],
    [logLevel.ERROR, 'Failed to connect to broker, reconnecting', { retryCount: 0, retryTime: 300 }, 'warn'],
    [logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: boom', {}, 'error'],
    [logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', {}, 'debug'],
    [logLevel.INFO, 'Consumer has joined the group', {}, 'info'],
    [logLevel.DEBUG, 'Request Metadata(key: 3, version: 6)', {}, 'trace'],
  ])('%i %s → %s', (level, message, extra, expected) => {
    expect(pinoLevelOf(entry(level, message, extra))).toBe(expected)
  })
  it('a broken connection, which the broker pool retries, is a warning', () => {
    expect(
      pinoLevelOf(entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1' }, 'Connection')),
    ).toBe('warn')
  })
})

describe('topics', () => {
  const kafka = { brokers: ['b:1'], clientId: 'c', topicPrefix: 'acme.', partitions: 6, replicationFactor: 1 }

  it('are named after the prefix', () => {
    expect(topicNames(kafka)).toEqual({
      changeEvents: 'acme.change-events',
      syncLog: 'acme.sync-log',
      processorState: 'acme.processor-state',
      deadLetter: 'acme.dead-letter',
    })
  })

  it('processor-state is compacted with 16 MiB records; min.insync.replicas 2 from 3 replicas', () => {
    expect(topicConfigEntries('processorState', 1)).toEqual([
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'max.message.bytes', value: '16777216' },
    ])
    expect(topicConfigEntries('syncLog', 3)).toEqual([
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'min.insync.replicas', value: '2' },
    ])
  })

  function fakeAdmin(existing: string[], stateCleanupPolicy = 'compact') {
    const created: Parameters<Admin['createTopics']>[0][] = []
    const admin: Pick<Admin, 'listTopics' | 'createTopics' | 'describeConfigs' | 'fetchTopicMetadata'> = {
      listTopics: async () => [...existing],
      createTopics: async (options) => {
        created.push(options)
        return true
      },
      describeConfigs: async () => ({
        throttleTime: 0,
        resources: [
          {
            errorCode: 0,
            errorMessage: '',
            resourceName: 'x',
            resourceType: ConfigResourceTypes.TOPIC,
            configEntries: [
              {
                configName: 'cleanup.policy',
                configValue: stateCleanupPolicy,
                isDefault: false,
                configSource: 1,
                isSensitive: false,
                readOnly: false,
                configSynonyms: [],
              },
            ],
          },
        ],
      }),
      fetchTopicMetadata: async (options) => ({
        topics: (options?.topics ?? []).map((name) => ({
          name,
          partitions: [{ partitionId: 0, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }],
        })),
      }),
    }
    return { admin, created }
  }

  it('creates only the missing ones, waiting for leaders, with partitions and replication from the config', async () => {
    const { admin, created } = fakeAdmin(['acme.sync-log', 'other'])
    const result = await ensureTopics(admin, kafka, silentLogger())
    expect(result).toEqual({ created: ['acme.change-events', 'acme.processor-state', 'acme.dead-letter'], existing: ['acme.sync-log'] })
    expect(created).toHaveLength(1)
    expect(created[0]?.waitForLeaders).toBe(true)
    expect(created[0]?.topics.map((t) => [t.topic, t.numPartitions, t.replicationFactor])).toEqual([
      ['acme.change-events', 6, 1],
      ['acme.processor-state', 6, 1],
      ['acme.dead-letter', 6, 1],
    ])
  })

  it('waits for the leaders of topics another process created at the same moment', async () => {
    const { admin } = fakeAdmin([])
    let asked = 0
    const racing: typeof admin = {
      ...admin,
      createTopics: async () => false, // kafkajs: every topic already existed
      fetchTopicMetadata: async (options) => ({
        topics: (options?.topics ?? []).map((name) => ({
          name,
          partitions: [{ partitionId: 0, leader: ++asked > 4 ? 1 : -1, partitionErrorCode: 0, replicas: [1], isr: [1] }],
        })),
      }),
    }
    expect((await ensureTopics(racing, kafka, silentLogger())).created).toHaveLength(4)
    expect(asked).toBeGreaterThan(4)
  })

  it('does nothing when all exist, and refuses a processor-state topic that is not compacted', async () => {
    const all = Object.values(topicNames(kafka))
    const ok = fakeAdmin(all)
    expect(await ensureTopics(ok.admin, kafka, silentLogger())).toEqual({ created: [], existing: all })
    expect(ok.created).toHaveLength(0)
    const bad = fakeAdmin(all, 'delete')
    await expect(ensureTopics(bad.admin, kafka, silentLogger())).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/acme\.processor-state exists with cleanup\.policy=delete/),
    })
  })
})

describe('publishChangeEvents', () => {
  const encoder = { encodeChangeEvent: (e: ChangeEvent) => Buffer.from(e.eventId) }

  function fakeProducer(failOnCall?: number) {
    const sends: ProducerRecord[] = []
    let inFlight = 0
    let maxInFlight = 0
    return {
      sends,
      maxInFlight: () => maxInFlight,
      producer: {
        send: async (record: ProducerRecord): Promise<RecordMetadata[]> => {
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          await new Promise((r) => setTimeout(r, 1))
          inFlight--
          if (sends.length + 1 === failOnCall) {
            throw new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: ECONNREFUSED'), {
              retryCount: 10,
              retryTime: 30000,
            })
          }
          sends.push(record)
          return []
        },
      },
    }
  }

  it('keys by tenant, sends awaited batches with acks -1, and counts per sync', async () => {
    const a = smallDistrict(sync()).end()
    const b = smallDistrict(new SyncScript('district-b', 'sync-b', 'sis', '2024-10-01T02:00:00.000Z', {})).end()
    const { producer, sends, maxInFlight } = fakeProducer()
    const progress: number[] = []
    async function* interleaved(): AsyncGenerator<ChangeEvent> {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (a[i]) yield a[i]!
        if (b[i]) yield b[i]!
      }
    }
    const result = await publishChangeEvents(producer, encoder, 'acme.change-events', interleaved(), {
      batchSize: 4,
      onProgress: (p) => progress.push(p.events),
    })
    const total = a.length + b.length
    expect(result.events).toBe(total)
    expect(result.batches).toBe(Math.ceil(total / 4))
    expect([...result.syncs]).toEqual([
      [a[0]!.syncId, a.length],
      ['sync-b', b.length],
    ])
    expect([...result.tenants]).toEqual(['district-a', 'district-b'])
    expect(maxInFlight()).toBe(1)
    expect(sends.every((s) => s.acks === -1 && s.topic === 'acme.change-events' && s.messages.length <= 4)).toBe(true)
    const messages = sends.flatMap((s) => s.messages)
    expect(messages.filter((m) => m.key === 'district-a').map((m) => String(m.value))).toEqual(a.map((e) => e.eventId))
    expect(progress.at(-1)).toBe(total)
  })

  it('stops at the first failed send and says how many were acknowledged', async () => {
    const { producer, sends } = fakeProducer(3)
    const err = await publishChangeEvents(producer, encoder, 't', smallDistrict(sync()).end(), { batchSize: 2 }).catch((e: unknown) => e)
    expect(sends).toHaveLength(2)
    expect(err).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true })
    expect((err as Error).message).toMatch(/sending 2 events to t \(4 acknowledged before\) failed/)
  })
})
