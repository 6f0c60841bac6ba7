/**
 * processor: change events/s of synclog's stream processor alone, against the least a
 * transactional Kafka processor does, on the real broker; and what the processor writes
 * per input event.
 *
 * Every night's change events are Avro-encoded and published before anything is timed,
 * the same bytes to two input topics. Each pipeline process then reads its topic from the
 * beginning; the rate is events / (its consumer group stable -> every input offset
 * committed by the group), polled from the broker every 50 ms. A transactional processor
 * commits its input offsets in the transaction of its output, so the group has caught up
 * when every transaction has committed.
 *
 * figure   = synclog's ProcessorService alone (scripts/bench/stream/processor-child.ts);
 * baseline = raw kafkajs consume -> one message out per input event, offsets and output
 *            in one transaction per batch (scripts/bench/stream/raw-transactional-child.ts).
 *
 * Messages and bytes produced per input event are read back after both runs, read-committed,
 * from every topic of the run but the inputs (sync log, changelog, dead letters, whatever
 * the processor writes), so they hold whatever the processor's design is.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Admin, Kafka } from 'kafkajs'
import { idempotentProducer } from '../../../src/kafka/kafka-client.js'
import { parseNdjsonLine } from '../../../src/ndjson/read-ndjson.js'
import { ndjsonFile } from '../../../src/generate/generate.js'
import { readDataset } from '../dataset.js'
import { cpuSecondsOf } from '../proc.js'
import { costMeasure, rateMeasure } from '../stats.js'
import type { ChildResult, ChildSpec, Measure, RowPart } from '../types.js'
import { ndjsonLines } from './fold.js'
import { PARTITIONS, publishAll, startChild, step, withStreamRun, withStreamServices, type StreamRun } from './stream.js'
import { FrameWriter } from '../stream/frames.js'
import { wallNow, type PipelineArgs } from '../stream/protocol.js'
const POLL_MS = 50

interface Caught {
  readonly measure: Measure
  readonly peakRss: number
  readonly facts: Record<string, string>
}

/** Next offset to read of every partition of `topic`, once everything in it is read. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]))
}

async function caughtUp(admin: Admin, groupId: string, topic: string, ends: ReadonlyMap<number, bigint>): Promise<boolean> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]))
  for (const [partition, end] of ends) if (end > 0n && (at.get(partition) ?? -1n) < end) return false
  return true
}

/** Runs one pipeline process over its pre-filled input until its group has committed every input offset. */
async function catchUp(
  admin: Admin,
  script: string,
  args: PipelineArgs,
  input: string,
  groupId: string,
  events: number,
  logPath: string,
  spec: ChildSpec,
): Promise<Caught> {
  const ends = await endOffsets(admin, input)
  const pipeline = startChild(script, args, logPath, spec.cpuProfDir, spec.heapMb)
  try {
    const deadline = performance.now() + Math.max(300_000, events * 10)
    let startedAt: number | null = null
    let cpuAtStart = 0
    for (;;) {
      pipeline.check()
      if (performance.now() > deadline) throw new Error(`${script}: not caught up within the deadline (log: ${logPath})`)
      if (startedAt === null) {
        const { groups } = await admin.describeGroups([groupId])
        if (groups[0]?.state === 'Stable') {
          startedAt = wallNow()
          cpuAtStart = cpuSecondsOf(pipeline.child.pid!) ?? 0
        }
      } else if (await caughtUp(admin, groupId, input, ends)) break
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
    const seconds = (wallNow() - startedAt) / 1000
    const cpu = (cpuSecondsOf(pipeline.child.pid!) ?? cpuAtStart) - cpuAtStart
    await pipeline.waitReady(60_000)
    const stopped = await pipeline.stop(120_000)
    return {
      measure: rateMeasure(events, seconds, cpu, { 'CPU per event (µs)': Math.round((cpu / events) * 1e6) }),
      peakRss: Math.max(pipeline.sampler.peak, stopped.peakRss),
      facts: { ...stopped.facts },
    }
  } catch (e) {
    pipeline.kill()
    throw e
  }
}

interface Produced {
  messages: number
  bytes: number
}

/**
 * Messages and bytes (key + value + headers) on each topic, read committed from the beginning:
 * read until nothing more has arrived for a few seconds after the group has joined.
 */
async function countProduced(kafka: Kafka, topics: readonly string[], groupId: string): Promise<Map<string, Produced>> {
  const counts = new Map<string, Produced>(topics.map((t) => [t, { messages: 0, bytes: 0 }]))
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 500, allowAutoTopicCreation: false })
  let joinedAt: number | null = null
  let lastAt = 0
  consumer.on(consumer.events.GROUP_JOIN, () => void (joinedAt = performance.now()))
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true })
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const c = counts.get(batch.topic)!
        for (const m of batch.messages) {
          c.messages++
          c.bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0)
          for (const [k, v] of Object.entries(m.headers ?? {}))
            c.bytes += k.length + (Buffer.isBuffer(v) ? v.length : String(v ?? '').length)
        }
        if (batch.messages.length > 0) lastAt = performance.now()
      },
    })
    const deadline = performance.now() + 300_000
    while (joinedAt === null || performance.now() - Math.max(joinedAt, lastAt) < 4000) {
      if (performance.now() > deadline) throw new Error('counting the produced messages took more than 5 minutes')
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    await consumer.disconnect()
  }
  return counts
}

function measure(spec: ChildSpec, brokers: string, registry: string): Promise<ChildResult> {
  return withStreamRun(spec, brokers, registry, ['processor', 'rawtx', 'count'], (run) => measureRun(spec, brokers, registry, run))
}

async function measureRun(
  spec: ChildSpec,
  brokers: string,
  registry: string,
  { prefix, group, kafka, admin, topics, rawIn, rawOut, serde }: StreamRun,
): Promise<ChildResult> {
  const dataset = await readDataset(spec.datasetDir)
  // Encode every night once, and fill both inputs with the same bytes, before anything is timed.
  const framesPath = join(spec.workDir, 'input.frames')
  const writer = new FrameWriter(framesPath)
  let inputBytes = 0
  for (const { night } of dataset.perNight) {
    let line = 0
    for await (const text of ndjsonLines(ndjsonFile(spec.datasetDir, night))) {
      const item = parseNdjsonLine(text, ++line)
      if (item.kind !== 'event') throw new Error(`night ${night} line ${line}: ${item.message}`)
      const frame = { key: Buffer.from(item.event.tenant), value: await serde.encodeChangeEvent(item.event), endOf: '' }
      inputBytes += frame.key.length + frame.value.length
      await writer.write(frame)
    }
  }
  await writer.close()
  const events = writer.count
  const producer = idempotentProducer(kafka)
  await producer.connect()
  try {
    await step('filling the input topics', async () => {
      for (const topic of [rawIn, topics.changeEvents]) {
        const n = await publishAll(producer, topic, framesPath)
        if (n !== events) throw new Error(`published ${n} messages to ${topic}, prepared ${events}`)
      }
    })
  } finally {
    await producer.disconnect()
  }

  const args: PipelineArgs = { brokers, registry, prefix, group, dataDir: join(spec.workDir, 'synclog-data') }
  await mkdir(args.dataDir, { recursive: true })
  const base = await step('the raw transactional loop', () =>
    catchUp(admin, 'raw-transactional-child.ts', args, rawIn, `${group}-rawtx`, events, join(spec.workDir, 'raw-transactional.log'), spec),
  )
  const fig = await step('the synclog processor', () =>
    catchUp(
      admin,
      'processor-child.ts',
      args,
      topics.changeEvents,
      `${group}-processor`,
      events,
      join(spec.workDir, 'processor.log'),
      spec,
    ),
  )

  // Everything of the run but the two inputs: the processor's outputs (whatever they are) and raw-out.
  const outputs = (await admin.listTopics()).filter((t) => t.startsWith(prefix)).filter((t) => t !== rawIn && t !== topics.changeEvents)
  const produced = await step('counting the produced messages', () => countProduced(kafka, outputs, `${group}-count`))
  const synclogOut = { messages: 0, bytes: 0 }
  const perTopic: string[] = []
  for (const [topic, c] of produced) {
    if (topic === rawOut) continue
    synclogOut.messages += c.messages
    synclogOut.bytes += c.bytes
    perTopic.push(`${topic.slice(prefix.length)} ${c.messages} (${c.bytes} B)`)
  }
  const rawOutCount = produced.get(rawOut) ?? { messages: 0, bytes: 0 }
  return {
    rows: [
      {
        key: 'processor',
        label: 'stream processor alone, input topic filled beforehand (synclog / raw transactional loop)',
        kind: 'rate',
        unit: 'events/s',
        figure: fig.measure,
        baseline: base.measure,
        figureRss: fig.peakRss,
        baselineRss: base.peakRss,
      },
      ...(['messages', 'bytes'] as const).map((what): RowPart => ({
        key: `processor-${what}`,
        label: `stream processor: ${what} produced per input event (synclog / raw transactional loop)`,
        kind: 'cost',
        unit: what === 'messages' ? 'messages/event' : 'B/event',
        figure: costMeasure(synclogOut[what], events, { [`${what} produced`]: synclogOut[what] }),
        baseline: costMeasure(rawOutCount[what], events, { [`${what} produced`]: rawOutCount[what] }),
        figureRss: fig.peakRss,
        baselineRss: base.peakRss,
      })),
    ],
    facts: {
      ...fig.facts,
      ...base.facts,
      'processor input': `${events} change events (every night), ${Math.round(inputBytes / events)} B each on average (key + Avro value); ${PARTITIONS} partitions`,
      'processor output (read committed, per topic)': perTopic.join('; '),
    },
    notes: ['processor: peak RSS is the pipeline process alone (synclog processor, or the raw loop), not the broker.'],
  }
}

export function runProcessor(spec: ChildSpec): Promise<ChildResult> {
  return withStreamServices(spec, measure)
}
