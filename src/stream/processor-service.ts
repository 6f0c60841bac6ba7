/**
 * `synclog run processor`: consume change events, fold them, and write the
 * sync-log events, the state changelog and the consumed offsets in one Kafka
 * transaction per batch (exactly once). One transactional producer per input
 * partition (kafkajs has no KIP-447 fencing, so the transactional id names the
 * partition). State lives per partition and is restored from the changelog
 * whenever the partition is (re)assigned or a batch failed.
 */
import { serialize } from 'node:v8'
import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs'
import { ownValue } from '../dict.js'
import type { Logger } from '../logging/logger.js'
import { applyEvent, type FoldOptions, type ProcessorState } from '../processor/index.js'
import type { AvroSerde } from '../kafka/avro-serde.js'
import type { TopicNames } from '../kafka/topics.js'
import { transactionalProducer } from '../kafka/kafka-client.js'
import { isDecodeError } from '../kafka/wire-format.js'
import { changelogEntries } from './state-changelog.js'
import { restorePartitions } from './changelog-restore.js'
import { deadLetter } from './dead-letter.js'
import type { StreamMetrics } from './metrics.js'

/** Messages per `send` inside a transaction: keeps each record batch far below the broker's size limit. */
const SEND_CHUNK = 1000

export interface ProcessorDeps {
  readonly kafka: Kafka
  readonly serde: AvroSerde
  readonly topics: TopicNames
  readonly groupId: string
  readonly foldOptions: FoldOptions
  readonly logger: Logger
  readonly metrics: StreamMetrics
}

async function sendChunked(tx: { send: Producer['send'] }, topic: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += SEND_CHUNK) {
    await tx.send({ topic, messages: messages.slice(i, i + SEND_CHUNK), acks: -1 })
  }
}

export class ProcessorService {
  private consumer: Consumer | undefined
  private readonly states = new Map<number, ProcessorState>()
  private readonly producers = new Map<number, Producer>()
  private assigned: number[] = []

  constructor(private readonly deps: ProcessorDeps) {}

  async start(): Promise<void> {
    const { kafka, topics, groupId, logger } = this.deps
    const consumer = kafka.consumer({
      groupId, readUncommitted: false, sessionTimeout: 20_000, rebalanceTimeout: 60_000, heartbeatInterval: 2000,
      maxBytesPerPartition: 2 * 1024 * 1024, allowAutoTopicCreation: false,
    })
    this.consumer = consumer
    this.deps.metrics.readiness.set('processor', false)
    consumer.on(consumer.events.GROUP_JOIN, (e: { payload: { memberAssignment: Record<string, number[]> } }) => {
      this.assigned = ownValue(e.payload.memberAssignment, topics.changeEvents) ?? []
      // Whatever happened while we were not the owner, the changelog knows it: restore on next use.
      this.states.clear()
      logger.info({ partitions: this.assigned }, 'processor partitions assigned')
      this.deps.metrics.readiness.set('processor', true)
    })
    consumer.on(consumer.events.CRASH, (e: { payload: { error: Error; restart: boolean } }) => {
      this.states.clear()
      this.deps.metrics.readiness.set('processor', false)
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'processor consumer crashed')
    })
    await consumer.connect()
    await consumer.subscribe({ topic: topics.changeEvents, fromBeginning: true })
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.processBatch(payload) })
  }

  private async stateFor(partition: number): Promise<ProcessorState> {
    const known = this.states.get(partition)
    if (known) return known
    // One read of the changelog restores every owned partition that needs it, not one read each.
    const missing = [...new Set([partition, ...this.assigned])].filter((p) => !this.states.has(p))
    const restored = await restorePartitions(this.deps.kafka, this.deps.topics.processorState, missing, this.deps.logger)
    for (const [p, state] of restored) this.states.set(p, state)
    return restored.get(partition)!
  }

  private async producerFor(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition)
    if (!producer) {
      producer = transactionalProducer(this.deps.kafka, `${this.deps.groupId}-${this.deps.topics.changeEvents}-${partition}`, { transactionTimeout: 300_000 })
      await producer.connect()
      this.producers.set(partition, producer)
    }
    return producer
  }

  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return
    const { serde, topics, foldOptions, logger, metrics } = this.deps
    const partition = batch.partition
    const state = await this.stateFor(partition)
    const producer = await this.producerFor(partition)
    const log = logger.child({ partition, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() })

    const out: Message[] = []
    const changelog: Message[] = []
    const dead: Message[] = []
    for (const message of batch.messages) {
      const coordinates = { topic: batch.topic, partition, offset: message.offset }
      let event
      try {
        event = await serde.decodeChangeEvent(message.value)
      } catch (e) {
        // Bad bytes are the message's fault: dead-letter them. Anything else (registry down) is ours: retry the batch.
        if (!isDecodeError(e)) throw e
        dead.push(deadLetter(message, coordinates, `${e.reason}: ${e.message}`))
        continue
      }
      const result = applyEvent(state, event, foldOptions)
      if (result.rejected) dead.push(deadLetter(message, coordinates, result.rejected))
      for (const ev of result.events) out.push({ key: ev.tenant, value: await serde.encodeSyncLogEvent(ev) })
      for (const entry of changelogEntries(result.changes)) {
        changelog.push({ key: entry.key, value: entry.value === null ? null : serialize(entry.value), partition })
      }
    }

    const tx = await producer.transaction()
    try {
      await sendChunked(tx, topics.syncLog, out)
      await sendChunked(tx, topics.processorState, changelog)
      await sendChunked(tx, topics.deadLetter, dead)
      await tx.sendOffsets({
        consumerGroupId: this.deps.groupId,
        topics: [{ topic: batch.topic, partitions: [{ partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }] }],
      })
      await tx.commit()
    } catch (e) {
      await tx.abort().catch(() => undefined)
      // The in-memory state is ahead of what was committed: rebuild it from the changelog on retry.
      this.states.delete(partition)
      log.warn({ err: e }, 'batch aborted; it will be retried from the last committed offset')
      throw e
    }
    resolveOffset(batch.lastOffset())
    await heartbeat()
    metrics.eventsProcessed += batch.messages.length
    metrics.deadLetters += dead.length
    metrics.lag.set(partition, Number(batch.offsetLag()))
    if (dead.length > 0) log.warn({ deadLetters: dead.length }, 'events sent to the dead-letter topic')
    log.debug({ events: batch.messages.length, logEvents: out.length }, 'batch committed')
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect()
    for (const p of this.producers.values()) await p.disconnect().catch(() => undefined)
    this.producers.clear()
  }
}
