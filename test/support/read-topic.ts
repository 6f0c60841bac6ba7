/** Reading a topic back from the beginning, as a consumer of the deployment would see it. */
import type { Kafka as KafkaClient } from 'kafkajs'

export interface ReadRecord {
  readonly partition: number
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/**
 * The first `expected` records of `topic` (read committed, in each partition's order),
 * read by a consumer group of its own (`groupId`); fails after `timeoutMs`.
 */
export async function readTopic(
  kafka: KafkaClient,
  topic: string,
  expected: number,
  groupId: string,
  timeoutMs = 60_000,
): Promise<ReadRecord[]> {
  const got: ReadRecord[] = []
  const consumer = kafka.consumer({ groupId })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`read ${got.length} of ${expected} records of ${topic} in ${timeoutMs / 1000} s`)),
        timeoutMs,
      )
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            got.push({ partition, offset: message.offset, key: message.key, value: message.value })
            if (got.length === expected) {
              clearTimeout(timer)
              done()
            }
          },
        })
        .catch((e: unknown) => {
          clearTimeout(timer)
          fail(e)
        })
    })
  } finally {
    await consumer.disconnect()
  }
  return got
}
