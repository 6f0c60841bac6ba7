/**
 * A message the processor cannot use goes to the dead-letter topic as it came,
 * with the reason and where it came from in headers; the partition moves on.
 */
import type { KafkaMessage, Message } from 'kafkajs'

export interface SourceCoordinates {
  readonly topic: string
  readonly partition: number
  readonly offset: string
}

export function deadLetter(message: Pick<KafkaMessage, 'key' | 'value'>, from: SourceCoordinates, reason: string): Message {
  return {
    key: message.key,
    value: message.value,
    headers: {
      'synclog.reason': reason,
      'synclog.source.topic': from.topic,
      'synclog.source.partition': String(from.partition),
      'synclog.source.offset': from.offset,
    },
  }
}
