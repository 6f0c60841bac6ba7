/**
 * The stream stage's baseline: the same Kafka hops as synclog's pipeline with
 * nothing in between. A consumer reads `<prefix>raw-in` a batch at a time and
 * produces the messages unchanged to `<prefix>raw-out` (acks from all replicas,
 * chunks of 1000 like the processor); a second consumer reads `raw-out`, where
 * a message counts as visible. Same client settings as synclog (createKafka), no
 * decode, no fold, no transaction, no ClickHouse.
 */
import kafkajs from 'kafkajs'
import type { Message } from 'kafkajs'
import { ownPeakRss } from '../proc.js'
import { pipelineClient } from './pipeline-client.js'
import { END_HEADER, runPipelineProcess, send, untilStopped, wallNow } from './protocol.js'

const { Partitioners } = kafkajs
const SEND_CHUNK = 1000

async function main(): Promise<void> {
  const { args, kafka } = pipelineClient(false)
  const rawIn = `${args.prefix}raw-in`
  const rawOut = `${args.prefix}raw-out`
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  const pipe = kafka.consumer({ groupId: `${args.group}-pipe`, maxBytesPerPartition: 2 * 1024 * 1024, allowAutoTopicCreation: false })
  const sink = kafka.consumer({ groupId: `${args.group}-sink`, maxBytesPerPartition: 4 * 1024 * 1024, allowAutoTopicCreation: false })
  let joined = 0
  pipe.on(pipe.events.GROUP_JOIN, () => void joined++)
  sink.on(sink.events.GROUP_JOIN, () => void joined++)
  let piped = 0
  let seen = 0
  await producer.connect()
  await pipe.connect()
  await sink.connect()
  await pipe.subscribe({ topic: rawIn, fromBeginning: true })
  await sink.subscribe({ topic: rawOut, fromBeginning: true })
  await pipe.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const messages: Message[] = batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers }))
      for (let i = 0; i < messages.length; i += SEND_CHUNK)
        await producer.send({ topic: rawOut, acks: -1, messages: messages.slice(i, i + SEND_CHUNK) })
      piped += messages.length
      resolveOffset(batch.lastOffset())
      await heartbeat()
    },
  })
  await sink.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const at = wallNow()
      const ended: string[] = []
      for (const m of batch.messages) {
        const end = m.headers?.[END_HEADER]
        if (end !== undefined) ended.push(String(end))
      }
      seen += batch.messages.length
      if (ended.length > 0) void send({ type: 'visible', syncIds: ended, at })
      resolveOffset(batch.lastOffset())
      await heartbeat()
    },
  })
  while (joined < 2) await new Promise((r) => setTimeout(r, 50))
  await send({ type: 'ready' })

  await untilStopped()
  await pipe.disconnect()
  await sink.disconnect()
  await producer.disconnect()
  await send({
    type: 'stopped',
    peakRss: ownPeakRss(),
    facts: { 'stream: raw kafkajs pipe': `${piped} messages piped, ${seen} read back` },
  })
}

runPipelineProcess(main)
