/**
 * `synclog run processor`: consume change events and fold them exactly once.
 *
 * Each batch goes through `foldBatch` (fold-batch.ts): the pure step decides,
 * one Kafka transaction per step carries the sync-log events, the changelog of
 * state deltas, the dead letters, the events forwarded to their tenant's
 * partition and the consumed offset; the in-memory state evolves only after
 * the commit. One transactional producer per input partition (kafkajs has no
 * KIP-447 fencing, so the transactional id names the partition); a fenced
 * producer, or one that cannot abort, is discarded and a new one takes its id over.
 *
 * Up to PARTITIONS_IN_FLIGHT partitions are folded at once, each by its own producer.
 * State lives per partition. It is kept across a rebalance when this member
 * keeps the partition and nobody moved its offset meanwhile (the batch starts
 * where our last commit ended); otherwise, and after any failure, it is restored
 * from the changelog and the input (changelog-restore.ts).
 */
import type { EachBatchPayload, Kafka } from 'kafkajs'
import { ownValue } from '../dict.js'
import type { Logger } from '../logging/logger.js'
import { decideAbandoned, type FoldOptions, type ProcessorState } from '../processor/index.js'
import type { AvroSerde } from '../kafka/avro-serde.js'
import type { TopicNames } from '../kafka/topics.js'
import { TransactionalProducers, isFenced } from '../kafka/kafka-client.js'
import { kafkaErrorType } from '../kafka/errors.js'
import { isDecodeError } from '../kafka/wire-format.js'
import { tenantPartition } from '../kafka/tenant-partition.js'
import { changelogMessages, type CommittedChunks } from './state-changelog.js'
import { restorePartitions } from './changelog-restore.js'
import { deadLetter } from './dead-letter.js'
import {
  commitWithoutInput,
  foldBatch,
  type FoldBatchPorts,
  type OutputMessage,
  type OutputTopic,
  type TransactionPort,
} from './fold-batch.js'
import type { StreamMetrics } from './metrics.js'
import { ConsumerSupervisor } from './consumer-supervision.js'
import { backoffMs, sleep } from './backoff.js'
import { TenantClocks } from './tenant-clocks.js'

/** How often Running syncs are checked for abandonment. */
const ABANDON_CHECK_MS = 60_000

/**
 * Partitions whose batches are folded at once: while one partition's transaction is at the
 * broker, another's is folded and encoded. Each partition keeps one batch at a time, in order.
 */
const PARTITIONS_IN_FLIGHT = 4

/** The key under which restores take turns: they are one queue whatever the partition. */
const ALL_PARTITIONS = -1

/** The heartbeat of work done between batches (an abandonment check): the consumer sends its own there, and the commit is small. */
const BETWEEN_BATCHES = async (): Promise<void> => undefined

export interface ProcessorDeps {
  readonly kafka: Kafka
  readonly serde: AvroSerde
  readonly topics: TopicNames
  readonly groupId: string
  readonly foldOptions: FoldOptions
  readonly logger: Logger
  readonly metrics: StreamMetrics
}

/**
 * Runs a transaction call again while the coordinator is still finishing the previous
 * transaction (CONCURRENT_TRANSACTIONS, common right after a commit), as the Java producer
 * does; kafkajs retries it for InitProducerId only. Nothing is lost by waiting: the call
 * failed before changing anything. The first wait is 5 to 10 ms (the markers take a few ms
 * on one broker), doubling to at most a second; about 7 s in all before it gives up.
 */
async function whileConcurrent<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call()
    } catch (e) {
      if (kafkaErrorType(e) !== 'CONCURRENT_TRANSACTIONS' || attempt >= 14) throw e
      await sleep(5 + backoffMs(attempt, 5, 1000))
    }
  }
}

/** Runs one task at a time per key: a partition (its batches, its abandonment checks), or ALL_PARTITIONS (restores). */
class PartitionQueue {
  private readonly tails = new Map<number, Promise<unknown>>()

  run<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(partition) ?? Promise.resolve()
    const next = previous.then(task, task)
    this.tails.set(
      partition,
      next.catch(() => undefined),
    )
    return next
  }
}

export class ProcessorService {
  private supervisor: ConsumerSupervisor | undefined
  private readonly states = new Map<number, ProcessorState>()
  /** Per partition, where its changelog's committed chunks stand (kept and forgotten with the state). */
  private readonly chunks = new Map<number, CommittedChunks>()
  /** Per partition, the input offset our last transaction committed (the next to read). */
  private readonly committedByUs = new Map<number, string>()
  /** Partitions restored up to the group's committed offset and not consumed since: current whatever their next offset. */
  private readonly restoredFresh = new Set<number>()
  /** Restores, one at a time (see `stateFor`). */
  private readonly restoreTurns = new PartitionQueue()
  private readonly producers: TransactionalProducers
  private readonly queue = new PartitionQueue()
  private assigned: number[] = []
  private partitionCount = 0
  private abandonTimer: NodeJS.Timeout | undefined
  /** Each tenant's clock for the abandonment check. */
  private readonly clocks = new TenantClocks()

  constructor(private readonly deps: ProcessorDeps) {
    this.producers = new TransactionalProducers(deps.kafka, { transactionTimeout: 300_000 })
  }

  async start(): Promise<void> {
    const { kafka, topics, groupId, logger } = this.deps
    this.partitionCount = await this.countPartitions()
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      sessionTimeout: 20_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 2000,
      maxBytesPerPartition: 2 * 1024 * 1024,
      allowAutoTopicCreation: false,
    })
    // Restarts the consumer whatever stopped it, and keeps health, readiness and every partition's lag.
    this.supervisor = new ConsumerSupervisor({
      service: 'processor',
      kafka,
      groupId,
      topic: topics.changeEvents,
      consumer,
      lagGauge: this.deps.metrics.lag,
      logger,
      metrics: this.deps.metrics,
    })
    consumer.on(consumer.events.GROUP_JOIN, (e: { payload: { memberAssignment: Record<string, number[]> } }) => {
      this.assigned = ownValue(e.payload.memberAssignment, topics.changeEvents) ?? []
      // A partition we no longer own may be folded elsewhere meanwhile: forget it. One we keep is
      // checked against the offset of its next batch before its state is trusted.
      for (const p of [...this.states.keys()]) if (!this.assigned.includes(p)) this.forget(p)
      logger.info({ partitions: this.assigned }, 'processor partitions assigned')
    })
    consumer.on(consumer.events.CRASH, () => {
      for (const p of [...this.states.keys()]) this.forget(p)
    })
    await consumer.connect()
    await consumer.subscribe({ topic: topics.changeEvents, fromBeginning: true })
    await this.supervisor.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // While one partition's transaction is at the broker, another's batch is folded.
      partitionsConsumedConcurrently: PARTITIONS_IN_FLIGHT,
      eachBatch: (payload) => this.processBatch(payload),
    })
    this.abandonTimer = setInterval(() => void this.abandonSilentSyncs(), ABANDON_CHECK_MS)
    this.abandonTimer.unref()
  }

  private async countPartitions(): Promise<number> {
    const admin = this.deps.kafka.admin()
    await admin.connect()
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [this.deps.topics.changeEvents] })
      return meta.topics[0]?.partitions.length ?? 1
    } finally {
      await admin.disconnect()
    }
  }

  private forget(partition: number): void {
    this.states.delete(partition)
    this.chunks.delete(partition)
    this.committedByUs.delete(partition)
    this.restoredFresh.delete(partition)
  }

  /**
   * The partition's state, restored unless the one we hold is known current at `firstOffset`.
   * Partitions are folded concurrently, so restores take turns (one queue for them all): a
   * restore also restores the other owned partitions it finds missing, and must not replace
   * a state another batch folds. A state known current needs no turn: no restore replaces it.
   */
  private stateFor(partition: number, firstOffset: string, heartbeat: () => Promise<void>): Promise<ProcessorState> {
    const current = this.currentState(partition, firstOffset)
    if (current) return Promise.resolve(current)
    return this.restoreTurns.run(ALL_PARTITIONS, () => this.restoredStateFor(partition, firstOffset, heartbeat))
  }

  /** The state we hold for the partition, if it is current at `firstOffset`. */
  private currentState(partition: number, firstOffset: string): ProcessorState | undefined {
    const known = this.states.get(partition)
    if (!known) return undefined
    if (this.restoredFresh.delete(partition) || this.committedByUs.get(partition) === firstOffset) return known
    return undefined
  }

  private async restoredStateFor(partition: number, firstOffset: string, heartbeat: () => Promise<void>): Promise<ProcessorState> {
    // Another partition's restore may have restored this one while it waited its turn.
    const current = this.currentState(partition, firstOffset)
    if (current) return current
    if (this.states.has(partition)) this.forget(partition)
    // One read of the changelog restores every owned partition that needs it, not one read each.
    const missing = [...new Set([partition, ...this.assigned])].filter((p) => !this.states.has(p))
    const restored = await restorePartitions(
      {
        kafka: this.deps.kafka,
        serde: this.deps.serde,
        topics: this.deps.topics,
        groupId: this.deps.groupId,
        foldOptions: this.deps.foldOptions,
        logger: this.deps.logger,
        heartbeat,
      },
      missing,
    )
    for (const [p, { state, chunks }] of restored) {
      // Restored to the group's committed offset, where the partition's next batch starts.
      this.states.set(p, state)
      this.chunks.set(p, chunks)
      if (p !== partition) this.restoredFresh.add(p)
    }
    return restored.get(partition)!.state
  }

  private transactionalId(partition: number): string {
    return `${this.deps.groupId}-${this.deps.topics.changeEvents}-${partition}`
  }

  /** Discards the partition's producer (fenced, or its transaction failed): the next one fences it. */
  private dropProducer(partition: number): void {
    void this.producers.discard(this.transactionalId(partition))
  }

  private topicName(topic: OutputTopic): string {
    const t = this.deps.topics
    switch (topic) {
      case 'syncLog':
        return t.syncLog
      case 'changelog':
        return t.processorState
      case 'deadLetter':
        return t.deadLetter
      case 'changeEvents':
        return t.changeEvents
    }
  }

  private portsFor(partition: number, topic: string, heartbeat: () => Promise<void>): FoldBatchPorts {
    const { serde } = this.deps
    return {
      decode: (values) => serde.decodeChangeEvents(values),
      isUnreadable: (e) => (isDecodeError(e) ? `${e.reason}: ${e.message}` : null),
      encodeOutputs: (events) => {
        const out: OutputMessage[] = []
        for (const ev of events) out.push({ key: ev.tenant, value: serde.encodeSyncLogEvent(ev) })
        return out
      },
      // The state and chunks are the partition's as committed: the changes apply to them.
      encodeChangelog: (changes) =>
        changelogMessages(serde, this.chunks.get(partition)!.records(this.states.get(partition)!, changes), partition),
      deadLetter: (m, reason) => deadLetter(m, { topic, partition, offset: m.offset }, reason),
      ownerOf: (tenant) => tenantPartition(tenant, this.partitionCount),
      begin: async () => this.transaction(partition, topic),
      heartbeat,
    }
  }

  private async transaction(partition: number, inputTopic: string): Promise<TransactionPort> {
    const tx = await (await this.producers.get(this.transactionalId(partition))).transaction()
    return {
      // foldBatch sends within the broker's batch limit (send-slices.ts).
      send: async (topic, messages) => {
        await whileConcurrent(() => tx.send({ topic: this.topicName(topic), messages: messages as OutputMessage[], acks: -1 }))
      },
      sendOffset: (nextOffset) =>
        whileConcurrent(() =>
          tx.sendOffsets({
            consumerGroupId: this.deps.groupId,
            topics: [{ topic: inputTopic, partitions: [{ partition, offset: nextOffset }] }],
          }),
        ),
      commit: () => tx.commit(),
      abort: async () => {
        try {
          await tx.abort()
        } catch (e) {
          // A producer that cannot even abort is unusable: the next transaction gets a new one.
          this.dropProducer(partition)
          throw e
        }
      },
    }
  }

  private processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return Promise.resolve()
    const partition = batch.partition
    return this.queue.run(partition, async () => {
      const { foldOptions, logger, metrics } = this.deps
      const log = logger.child({ partition, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() })
      const state = await this.stateFor(partition, batch.messages[0]!.offset, heartbeat)
      try {
        const report = await foldBatch(
          state,
          partition,
          batch.messages,
          this.portsFor(partition, batch.topic, heartbeat),
          foldOptions,
          async (last) => {
            this.committedByUs.set(partition, (BigInt(last) + 1n).toString())
            resolveOffset(last)
            await heartbeat()
          },
        )
        this.clocks.observe(state, Date.now())
        metrics.eventsProcessed.inc(report.events)
        metrics.deadLetters.inc(report.deadLetters)
        metrics.forwarded.inc(report.forwarded)
        if (report.deadLetters > 0) log.warn({ deadLetters: report.deadLetters }, 'events sent to the dead-letter topic')
        if (report.forwarded > 0)
          log.warn(
            { forwarded: report.forwarded },
            "events forwarded to their tenant's partition (the producer's partitioner is not murmur2 of the tenant)",
          )
        log.debug({ events: report.events, logEvents: report.outputs, transactions: report.transactions }, 'batch committed')
      } catch (e) {
        // Whatever failed, the state is never ahead of Kafka; but a commit whose answer was lost may
        // have landed: restore from the changelog rather than guess. A new producer fences the old one.
        this.forget(partition)
        if (isFenced(e)) this.dropProducer(partition)
        log.warn({ err: e }, 'batch aborted; it will be retried from the last committed offset')
        throw e
      }
    })
  }

  /**
   * Fails the Running syncs no event has reached for too long: silence is measured on the
   * processor's clock, from when it saw each tenant's events last move (tenant-clocks.ts).
   */
  private async abandonSilentSyncs(): Promise<void> {
    for (const partition of [...this.states.keys()]) {
      await this.queue
        .run(partition, async () => {
          const state = this.states.get(partition)
          if (!state) return
          const wallMs = Date.now()
          // A state restored since the last check starts its tenants' clocks now.
          this.clocks.observe(state, wallMs)
          const decision = decideAbandoned(state, (tenant) => this.clocks.nowOf(tenant, wallMs), this.deps.foldOptions)
          if (decision.changes.length === 0) return
          try {
            await commitWithoutInput(
              state,
              decision.events,
              decision.changes,
              this.portsFor(partition, this.deps.topics.changeEvents, BETWEEN_BATCHES),
            )
            this.deps.logger.warn({ partition, syncs: decision.events.map((e) => e.syncId) }, 'abandoned syncs failed')
          } catch (e) {
            this.forget(partition)
            if (isFenced(e)) this.dropProducer(partition)
            this.deps.logger.warn({ err: e, partition }, 'failing abandoned syncs did not commit; retried at the next check')
          }
        })
        .catch(() => undefined)
    }
  }

  async stop(): Promise<void> {
    if (this.abandonTimer) clearInterval(this.abandonTimer)
    await this.supervisor?.stop()
    await this.producers.closeAll()
  }
}
