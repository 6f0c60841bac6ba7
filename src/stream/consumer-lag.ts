/**
 * Lag of a consumer group on every partition assigned to this member, from the broker's
 * offsets: every few seconds the group's committed offset of each partition is compared
 * with the partition's high watermark (admin `fetchOffsets` and `fetchTopicOffsets`), so a
 * partition that has had no batch yet, or whose consumer is stuck, is reported too. After
 * each batch the gauge is also updated from the batch itself (kafkajs' `offsetLag`).
 *
 * The position of a partition is the larger of its committed offset and the offset after
 * the last batch this member finished: a batch of nothing but a transaction's commit marker
 * moves the consumer on without a commit, and would otherwise leave the lag at 1 for ever
 * on a topic written in transactions (the sync-log topic).
 */
import type { Admin, Consumer, ConsumerEndBatchProcessEvent, ConsumerGroupJoinEvent, Kafka } from 'kafkajs'
import { ownValue } from '../dict.js'
import type { Logger } from '../logging/logger.js'

/** How often the lag is read from the broker. */
export const LAG_INTERVAL_MS = 5000

export interface PartitionLagOptions {
  readonly kafka: Kafka
  readonly groupId: string
  readonly topic: string
  /** The gauge to keep: partition → lag, for the assigned partitions only. */
  readonly gauge: Map<number, number>
  readonly logger: Logger
  readonly intervalMs?: number
}

export class PartitionLag {
  private assigned: readonly number[] = []
  /** The offset after the last batch this member finished, per partition. */
  private readonly finished = new Map<number, bigint>()
  /** Grows at each group join, so a reading that started before it is dropped. */
  private generation = 0
  private admin: Admin | undefined
  private timer: NodeJS.Timeout | undefined
  private reading: Promise<void> | undefined
  private failing = false
  private stopped = false

  constructor(private readonly opts: PartitionLagOptions) {}

  /** Follows the consumer's assignment and batches. */
  watch(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, (e: ConsumerGroupJoinEvent) => {
      this.generation++
      this.assigned = ownValue(e.payload.memberAssignment, this.opts.topic) ?? []
      this.finished.clear()
      this.opts.gauge.clear()
      void this.read()
    })
    consumer.on(consumer.events.END_BATCH_PROCESS, (e: ConsumerEndBatchProcessEvent) => {
      const { topic, partition, lastOffset, offsetLag } = e.payload
      if (topic !== this.opts.topic || !this.assigned.includes(partition)) return
      this.finished.set(partition, BigInt(lastOffset) + 1n)
      this.opts.gauge.set(partition, Math.max(0, Number(offsetLag)))
    })
  }

  start(): void {
    this.timer ??= setInterval(() => void this.read(), this.opts.intervalMs ?? LAG_INTERVAL_MS)
    this.timer.unref()
  }

  /**
   * Stops reading. A reading in flight ends first: disconnecting its admin client under it
   * would let its next request connect again, and that connection would keep the process alive.
   */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
    await this.reading?.catch(() => undefined)
    const admin = this.admin
    this.admin = undefined
    await admin?.disconnect().catch(() => undefined)
  }

  /** Reads the offsets once (at most one reading at a time); a broker that does not answer leaves the last values. */
  read(): Promise<void> {
    this.reading ??= this.readOnce().finally(() => {
      this.reading = undefined
    })
    return this.reading
  }

  private async readOnce(): Promise<void> {
    const { kafka, groupId, topic, gauge, logger } = this.opts
    const generation = this.generation
    if (this.assigned.length === 0 || this.stopped) return
    try {
      const admin = (this.admin ??= kafka.admin())
      await admin.connect() // a no-op once connected
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })])
      if (generation !== this.generation || this.stopped) return
      for (const partition of this.assigned) {
        const end = ends.find((o) => o.partition === partition)
        if (end === undefined) continue
        const commit = BigInt(committed?.partitions.find((o) => o.partition === partition)?.offset ?? '-1')
        // Nothing committed yet: the group starts from the beginning of what the partition still holds.
        let position = commit < 0n ? BigInt(end.low) : commit
        const done = this.finished.get(partition)
        if (done !== undefined && done > position) position = done
        const lag = BigInt(end.high) - position
        gauge.set(partition, Number(lag > 0n ? lag : 0n))
      }
      if (this.failing) logger.info({ topic }, 'consumer lag readable again')
      this.failing = false
    } catch (e) {
      if (this.stopped) return
      if (!this.failing) logger.warn({ err: e, topic }, 'cannot read the consumer lag from the broker; keeping the last values')
      this.failing = true
    }
  }
}
