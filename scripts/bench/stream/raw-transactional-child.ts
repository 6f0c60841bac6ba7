/**
 * The processor stage's baseline: the least a transactional stream processor does with
 * kafkajs. A consumer reads `<prefix>raw-in` a batch at a time (read committed, no auto
 * commit); for each batch, one transaction sends one message per input message (the input
 * unchanged) to `<prefix>raw-out`, in sends of 1000 like synclog's processor (a whole batch
 * can exceed the broker's request size), then the batch's next offset, and commits. One
 * transactional producer per input partition, as an exactly-once processor needs; same
 * client and producer settings as synclog. No decode, no fold, no encode.
 */
import type { Producer } from 'kafkajs'
import { transactionalProducer } from '../../../src/kafka/kafka-client.js'
import { ownPeakRss } from '../proc.js'
import { pipelineClient } from './pipeline-client.js'
import { runPipelineProcess, send, untilStopped } from './protocol.js'

const SEND_CHUNK = 1000

async function main(): Promise<void> {
  const { args, kafka } = pipelineClient(false)
  const rawIn = `${args.prefix}raw-in`
  const rawOut = `${args.prefix}raw-out`
  const groupId = `${args.group}-rawtx`
  const producers = new Map<number, Producer>()
  const producerFor = async (partition: number): Promise<Producer> => {
    let producer = producers.get(partition)
    if (producer === undefined) {
      producer = transactionalProducer(kafka, `${groupId}-${partition}`)
      await producer.connect()
      producers.set(partition, producer)
    }
    return producer
  }
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxBytesPerPartition: 2 * 1024 * 1024, allowAutoTopicCreation: false })
  let joined = false
  consumer.on(consumer.events.GROUP_JOIN, () => void (joined = true))
  let piped = 0
  let transactions = 0
  await consumer.connect()
  await consumer.subscribe({ topic: rawIn, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (batch.messages.length === 0) return
      const tx = await (await producerFor(batch.partition)).transaction()
      try {
        const messages = batch.messages.map((m) => ({ key: m.key, value: m.value }))
        for (let i = 0; i < messages.length; i += SEND_CHUNK)
          await tx.send({ topic: rawOut, acks: -1, messages: messages.slice(i, i + SEND_CHUNK) })
        const next = (BigInt(batch.lastOffset()) + 1n).toString()
        await tx.sendOffsets({
          consumerGroupId: groupId,
          topics: [{ topic: rawIn, partitions: [{ partition: batch.partition, offset: next }] }],
        })
        await tx.commit()
      } catch (e) {
        await tx.abort().catch(() => undefined)
        throw e
      }
      piped += batch.messages.length
      transactions++
      resolveOffset(batch.lastOffset())
      await heartbeat()
    },
  })
  while (!joined) await new Promise((r) => setTimeout(r, 50))
  await send({ type: 'ready' })
  await untilStopped()
  await consumer.disconnect()
  for (const p of producers.values()) await p.disconnect()
  await send({
    type: 'stopped',
    peakRss: ownPeakRss(),
    facts: { 'processor: raw transactional loop': `${piped} messages piped in ${transactions} transactions` },
  })
}

runPipelineProcess(main)
