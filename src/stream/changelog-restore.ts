/**
 * Rebuilds the state of the partitions this processor owns: the changelog of
 * deltas read to its end, then the records of the syncs still open read again from
 * the input partition, from the earliest open sync's SyncStarted up to the offset
 * the processor's group has committed.
 *
 * "The end" of the changelog is its high watermark when the restore starts: this
 * processor owns the partitions, so nobody else commits to them meanwhile (a
 * zombie's open transaction is aborted by the broker). Reading is read_committed.
 */
import type { Kafka } from 'kafkajs'
import { SynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import type { FoldOptions, ProcessorState, StepInput } from '../processor/index.js'
import type { AvroSerde } from '../kafka/avro-serde.js'
import { kafkaCall } from '../kafka/errors.js'
import type { TopicNames } from '../kafka/topics.js'
import { changelogValueFromAvro } from './changelog-avro.js'
import { firstInputOffset, restoreFromRecords, takeInAgain, type ChangelogRecord, type CommittedChunks } from './state-changelog.js'

export interface RestoreDeps {
  readonly kafka: Kafka
  readonly serde: Pick<AvroSerde, 'decodeProcessorStates' | 'decodeChangeEvents'>
  readonly topics: TopicNames
  /** The processor's consumer group: its committed input offsets bound the input read again. */
  readonly groupId: string
  readonly foldOptions: FoldOptions
  readonly logger: Logger
  /** The heartbeat of the batch that needs the restore, called every few seconds while reading. */
  readonly heartbeat?: () => Promise<void>
  /** A read that makes no progress for this long fails (retriable). Default 120 s. */
  readonly idleTimeoutMs?: number
}

/** How often the caller's heartbeat is sent while a restore reads. */
const HEARTBEAT_MS = 3000

interface Range {
  /** First offset to read. */
  readonly from: bigint
  /** First offset not to read (a high watermark or a committed offset). */
  readonly until: bigint
}

interface ReadMessage {
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/**
 * Reads `ranges` (per partition) of `topic`, read_committed, handing each partition's
 * messages in offset order to `onMessages`. A throwaway consumer group (deleted after)
 * starts where its offsets were set before it joins, so no fetch happens from anywhere
 * else (a seek after `run` races the first fetch); the read ends when every partition's last offset,
 * transaction markers included (kafkajs reports them even for marker-only batches),
 * reaches the end of its range.
 */
async function readRanges(
  deps: RestoreDeps,
  topic: string,
  ranges: ReadonlyMap<number, Range>,
  onMessages: (partition: number, messages: readonly ReadMessage[]) => Promise<void>,
): Promise<void> {
  const pending = new Map([...ranges].filter(([, r]) => r.until > r.from))
  if (pending.size === 0) return
  const idleMs = deps.idleTimeoutMs ?? 120_000
  const groupId = `synclog-restore-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
  const consumer = deps.kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 250, allowAutoTopicCreation: false })
  const admin = deps.kafka.admin()
  let heartbeatTimer: NodeJS.Timeout | undefined
  let idleTimer: NodeJS.Timeout | undefined
  let fail: (e: unknown) => void = () => undefined
  try {
    const done = new Promise<void>((resolve, reject) => {
      fail = reject
      const idle = (): void => {
        clearTimeout(idleTimer)
        idleTimer = setTimeout(
          () =>
            reject(
              new SynclogError(
                'KAFKA_UNAVAILABLE',
                `restoring the processor state: no progress reading ${topic} for ${Math.round(idleMs / 1000)} s (partitions ${[...pending.keys()].join(', ')} not read to their end)`,
              ),
            ),
          idleMs,
        )
      }
      idle()
      if (deps.heartbeat) {
        const beat = deps.heartbeat
        heartbeatTimer = setInterval(() => void beat().catch(reject), HEARTBEAT_MS)
      }
      consumer.on(consumer.events.END_BATCH_PROCESS, (e: { payload: { topic: string; partition: number; lastOffset: string } }) => {
        const range = pending.get(e.payload.partition)
        if (e.payload.topic !== topic || range === undefined) return
        idle()
        if (BigInt(e.payload.lastOffset) >= range.until - 1n) pending.delete(e.payload.partition)
        if (pending.size === 0) resolve()
      })
      consumer.on(consumer.events.CRASH, (e: { payload: { error: Error } }) => reject(e.payload.error))
    })
    // Handled here so a failure while connecting is no unhandled rejection; `await done` below still throws it.
    done.catch(() => undefined)
    await kafkaCall(`connecting to Kafka to read ${topic}`, () => admin.connect())
    await kafkaCall(`setting where group ${groupId} starts reading ${topic}`, () =>
      admin.setOffsets({
        groupId,
        topic,
        partitions: [...pending].map(([partition, range]) => ({ partition, offset: String(range.from) })),
      }),
    )
    await kafkaCall(`connecting a consumer to read ${topic}`, () => consumer.connect())
    // Partitions not in `ranges` start at their end and give nothing.
    await kafkaCall(`subscribing to ${topic}`, () => consumer.subscribe({ topic, fromBeginning: false }))
    await kafkaCall(`reading ${topic}`, () =>
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const range = ranges.get(batch.partition)
          if (!range) return
          const inRange = batch.messages.filter((m) => BigInt(m.offset) >= range.from && BigInt(m.offset) < range.until)
          // A failure ends the read at once: kafkajs would retry the batch, then crash the consumer.
          if (inRange.length > 0) await onMessages(batch.partition, inRange).catch(fail)
        },
      }),
    )
    await done
  } finally {
    clearInterval(heartbeatTimer)
    clearTimeout(idleTimer)
    await consumer.disconnect().catch(() => undefined)
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
  }
}

/** A partition's state as restored, and where its committed chunks stand. */
export interface RestoredPartition {
  readonly state: ProcessorState
  readonly chunks: CommittedChunks
}

export async function restorePartitions(deps: RestoreDeps, partitions: readonly number[]): Promise<Map<number, RestoredPartition>> {
  const { kafka, serde, topics, logger } = deps
  const admin = kafka.admin()
  await kafkaCall('connecting to Kafka to restore the processor state', () => admin.connect())
  let changelogEnds: { partition: number; low: string; high: string }[]
  let committed: { partition: number; offset: string }[]
  let inputEnds: { partition: number; high: string }[]
  try {
    changelogEnds = await kafkaCall(`reading the offsets of ${topics.processorState}`, () => admin.fetchTopicOffsets(topics.processorState))
    inputEnds = await kafkaCall(`reading the offsets of ${topics.changeEvents}`, () => admin.fetchTopicOffsets(topics.changeEvents))
    const fetched = await kafkaCall(`reading the offsets of group ${deps.groupId}`, () =>
      admin.fetchOffsets({ groupId: deps.groupId, topics: [topics.changeEvents] }),
    )
    committed = fetched.find((t) => t.topic === topics.changeEvents)?.partitions ?? []
  } finally {
    await admin.disconnect()
  }

  // 1. The changelog, to its high watermark.
  const records = new Map<number, ChangelogRecord[]>(partitions.map((p) => [p, []]))
  const changelogRanges = new Map(
    changelogEnds.filter((o) => records.has(o.partition)).map((o) => [o.partition, { from: BigInt(o.low), until: BigInt(o.high) }]),
  )
  await readRanges(deps, topics.processorState, changelogRanges, async (partition, messages) => {
    const list = records.get(partition)
    // Tombstones come back as errors too: they are not read.
    const decoded = await serde.decodeProcessorStates(messages.map((m) => m.value))
    for (const [i, m] of messages.entries()) {
      const key = m.key?.toString('utf8') ?? ''
      let value = null
      if (m.value !== null) {
        try {
          const raw = decoded[i]
          if (raw instanceof Error) throw raw
          value = changelogValueFromAvro(raw)
        } catch (e) {
          if (e instanceof SynclogError && e.retriable) throw e
          throw new SynclogError(
            'STATE_CORRUPT',
            `${topics.processorState} partition ${partition} offset ${m.offset}: ${e instanceof Error ? e.message : String(e)}; ` +
              "if the topic was written by an older synclog, delete it and reset the processor's consumer group on the change-events topic to the earliest offset so the state is rebuilt",
            { cause: e },
          )
        }
      }
      list?.push({ key, value })
    }
  })
  const restored = new Map([...records].map(([p, list]) => [p, { entries: list.length, ...restoreFromRecords(list) }]))

  // 2. The records of the open syncs, from the input.
  const inputRanges = new Map<number, Range>()
  for (const [p, r] of restored) {
    const from = firstInputOffset(r.open)
    if (from === null) continue
    const group = committed.find((c) => c.partition === p)?.offset ?? '-1'
    // Nothing committed yet (cannot be, with a changelog entry): read to the end.
    const until = BigInt(group) >= 0n ? BigInt(group) : BigInt(inputEnds.find((o) => o.partition === p)?.high ?? '0')
    inputRanges.set(p, { from: BigInt(from), until })
  }
  const taken = new Map<number, number>()
  await readRanges(deps, topics.changeEvents, inputRanges, async (partition, messages) => {
    const r = restored.get(partition)
    if (!r) return
    const inputs: StepInput[] = []
    const decoded = await serde.decodeChangeEvents(messages.map((m) => m.value))
    for (const [i, m] of messages.entries()) {
      const event = decoded[i]!
      // Undecodable input went to the dead letters the first time: nothing was taken in from it.
      if (!(event instanceof Error)) inputs.push({ offset: m.offset, event })
    }
    taken.set(partition, (taken.get(partition) ?? 0) + takeInAgain(r, inputs, deps.foldOptions))
  })

  const states = new Map<number, RestoredPartition>()
  for (const [p, r] of restored) {
    states.set(p, { state: r.state, chunks: r.chunks })
    logger.info(
      { partition: p, entries: r.entries, openSyncs: r.open.length, recordsTakenInAgain: taken.get(p) ?? 0 },
      'state restored from changelog and input',
    )
  }
  return states
}
