/**
 * `synclog run projector`: read committed sync-log events and write them to
 * ClickHouse; commit the offsets only once ClickHouse has the rows. Writing a
 * batch twice is harmless (the tables collapse on the rows' identity), so a
 * crash between the write and the commit loses and duplicates nothing.
 * While ClickHouse is down the projector backs off and retries, holding its place.
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

export interface ProjectorDeps {
  readonly kafka: Kafka
  readonly serde: AvroSerde
  readonly topics: TopicNames
  readonly groupId: string
  readonly store: SyncLogStore
  readonly logger: Logger
  readonly metrics: StreamMetrics
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 15_000): number {
  return Math.round(Math.random() * Math.min(capMs, baseMs * 2 ** attempt))
}

export class ProjectorService {
  private consumer: Consumer | undefined

  constructor(private readonly deps: ProjectorDeps) {}

  async start(): Promise<void> {
    const { kafka, topics, groupId, logger } = this.deps
    const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 20_000, heartbeatInterval: 2000, maxBytesPerPartition: 4 * 1024 * 1024, allowAutoTopicCreation: false })
    this.consumer = consumer
    this.deps.metrics.readiness.set('projector', false)
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.deps.metrics.readiness.set('projector', true)
    })
    consumer.on(consumer.events.CRASH, () => {
      this.deps.metrics.readiness.set('projector', false)
    })
    await consumer.connect()
    await consumer.subscribe({ topic: topics.syncLog, fromBeginning: true })
    logger.info({ topic: topics.syncLog }, 'projector started')
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.projectBatch(payload) })
  }

  private async projectBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return
    const { serde, store, logger, metrics } = this.deps
    const events: SyncLogEvent[] = []
    for (const m of batch.messages) {
      try {
        events.push(await serde.decodeSyncLogEvent(m.value))
      } catch (e) {
        if (!isDecodeError(e)) throw e // registry down: retry the batch later
        // Only the processor writes this topic; an undecodable record is a bug or a foreign writer: log it loudly, skip it.
        logger.error({ err: e, partition: batch.partition, offset: m.offset }, 'undecodable sync-log record skipped')
      }
    }
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return // not committed: the next owner writes the batch again
      try {
        await store.write(events)
        break
      } catch (e) {
        if (!isSynclogError(e) || !e.retriable) throw e
        metrics.projectorRetries++
        const wait = backoffMs(attempt)
        logger.warn({ err: e, attempt, waitMs: wait }, 'ClickHouse write failed; retrying')
        await heartbeat()
        await sleep(wait)
      }
    }
    resolveOffset(batch.lastOffset())
    await this.consumer!.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }])
    await heartbeat()
    metrics.rowsProjected += events.length
    metrics.projectorLag.set(batch.partition, Number(batch.offsetLag()))
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect()
  }
}
