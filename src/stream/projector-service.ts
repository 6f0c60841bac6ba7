/**
 * `synclog run projector`: read committed sync-log events and write them to
 * ClickHouse; commit the offsets only once ClickHouse has the rows. Writing a
 * batch twice is harmless (the tables collapse on the rows' identity), so a
 * crash between the write and the commit loses and duplicates nothing.
 * While ClickHouse is down, refuses or does not answer in time (STORE_UNAVAILABLE), the
 * projector retries the write for ever with jittered backoff, holding its place, heartbeating,
 * with a log line and `synclog_projector_retries_total` per attempt. Any other failure stops
 * the consumer, which the ConsumerSupervisor runs again (the batch is read again).
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { Logger } from '../logging/logger.js'
import type { SyncLogEvent } from '../events/sync-log-event.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import type { AvroSerde } from '../kafka/avro-serde.js'
import type { TopicNames } from '../kafka/topics.js'
import { isSynclogError } from '../errors.js'
import { isDecodeError } from '../kafka/wire-format.js'
import type { StreamMetrics } from './metrics.js'
import { backoffMs, sleep } from './backoff.js'
import { ConsumerSupervisor, heartbeatWhile } from './consumer-supervision.js'

export interface ProjectorDeps {
  readonly kafka: Kafka
  readonly serde: AvroSerde
  readonly topics: TopicNames
  readonly groupId: string
  /** The store, or the service that owns it (src/service/store-writes.ts): the projector only writes. */
  readonly store: Pick<SyncLogStore, 'write'>
  readonly logger: Logger
  readonly metrics: StreamMetrics
}

const HEARTBEAT_MS = 2000

export class ProjectorService {
  private consumer: Consumer | undefined
  private supervisor: ConsumerSupervisor | undefined

  constructor(private readonly deps: ProjectorDeps) {}

  async start(): Promise<void> {
    const { kafka, topics, groupId, logger, metrics } = this.deps
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      sessionTimeout: 20_000,
      heartbeatInterval: HEARTBEAT_MS,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    })
    this.consumer = consumer
    this.supervisor = new ConsumerSupervisor({
      service: 'projector',
      kafka,
      groupId,
      topic: topics.syncLog,
      consumer,
      lagGauge: metrics.projectorLag,
      logger,
      metrics,
    })
    await consumer.connect()
    await consumer.subscribe({ topic: topics.syncLog, fromBeginning: true })
    logger.info({ topic: topics.syncLog }, 'projector started')
    await this.supervisor.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.projectBatch(payload) })
  }

  private async projectBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return
    const { serde, store, logger, metrics } = this.deps
    const events: SyncLogEvent[] = []
    // A registry that does not answer throws: the batch is retried later.
    const decoded = await serde.decodeSyncLogEvents(batch.messages.map((m) => m.value))
    for (const [i, m] of batch.messages.entries()) {
      const event = decoded[i]!
      if (!isDecodeError(event)) events.push(event)
      // Only the processor writes this topic; an undecodable record is a bug or a foreign writer: log it loudly, skip it.
      else logger.error({ err: event, partition: batch.partition, offset: m.offset }, 'undecodable sync-log record skipped')
    }
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return // not committed: the next owner writes the batch again
      try {
        // A store that does not answer is given up on by its client's request timeout; meanwhile the group keeps us.
        await heartbeatWhile(store.write(events), heartbeat, HEARTBEAT_MS)
        break
      } catch (e) {
        if (!isSynclogError(e) || !e.retriable) throw e
        metrics.projectorRetries.inc()
        metrics.projectorStoreFailing = true
        const wait = backoffMs(attempt)
        logger.warn({ err: e, attempt: attempt + 1, waitMs: wait, partition: batch.partition }, 'ClickHouse write failed; retrying')
        await heartbeat()
        await sleep(wait)
      }
    }
    if (metrics.projectorStoreFailing) logger.info({ partition: batch.partition }, 'ClickHouse writes go through again')
    metrics.projectorStoreFailing = false
    resolveOffset(batch.lastOffset())
    await this.consumer!.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
    ])
    await heartbeat()
    metrics.rowsProjected.inc(events.length)
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop()
  }
}
