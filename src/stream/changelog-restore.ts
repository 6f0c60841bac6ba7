/**
 * Reads the processor-state changelog to its end and rebuilds the state of the
 * partitions this processor owns. "The end" is the high watermark when the
 * restore starts: this processor owns the partitions, so nobody else commits
 * to them meanwhile (a zombie's open transaction is aborted by the broker).
 */
import { deserialize } from 'node:v8'
import type { Kafka } from 'kafkajs'
import type { Logger } from '../logging/logger.js'
import type { ProcessorState } from '../processor/index.js'
import { SynclogError } from '../errors.js'
import { restoreState, type ChangelogEntry, type ChangelogValue } from './state-changelog.js'

export async function restorePartitions(
  kafka: Kafka, topic: string, partitions: readonly number[], logger: Logger, timeoutMs = 120_000,
): Promise<Map<number, ProcessorState>> {
  const entries = new Map<number, ChangelogEntry[]>(partitions.map((p) => [p, []]))
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  const nonEmpty = offsets.filter((o) => partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low))
  const groupId = `synclog-restore-${process.pid}-${Date.now()}`
  if (nonEmpty.length > 0) {
    const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 250, allowAutoTopicCreation: false })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    // Caught up when each partition's last offset (transaction markers included, which kafkajs
    // reports even for marker-only batches) reaches the high watermark measured before reading.
    const targets = new Map(nonEmpty.map((o) => [o.partition, BigInt(o.high) - 1n]))
    const caughtUp = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SynclogError('STORE_UNAVAILABLE', `restoring state from ${topic} took longer than ${timeoutMs} ms`)), timeoutMs)
      consumer.on(consumer.events.END_BATCH_PROCESS, (e: { payload: { partition: number; lastOffset: string } }) => {
        const target = targets.get(e.payload.partition)
        if (target !== undefined && BigInt(e.payload.lastOffset) >= target) targets.delete(e.payload.partition)
        if (targets.size === 0) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const list = entries.get(batch.partition)
        if (!list) return
        for (const m of batch.messages) {
          list.push({ key: m.key?.toString('utf8') ?? '', value: m.value ? (deserialize(m.value) as ChangelogValue) : null })
        }
      },
    })
    try {
      await caughtUp
    } finally {
      await consumer.disconnect()
      await admin.deleteGroups([groupId]).catch(() => undefined)
    }
  }
  await admin.disconnect()
  const states = new Map<number, ProcessorState>()
  for (const [p, list] of entries) {
    states.set(p, restoreState(list))
    logger.info({ partition: p, entries: list.length }, 'state restored from changelog')
  }
  return states
}
