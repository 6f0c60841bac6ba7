/**
 * How a run of messages goes out in sends the broker accepts. A broker refuses a record
 * batch larger than its `message.max.bytes` (1 MiB by default; 16 MiB on synclog's
 * processor-state topic, topics.ts), and kafkajs puts all of one send's messages for a
 * partition into one batch. So a run goes out in slices of at most `SEND_MESSAGES`
 * messages and `SEND_BYTES` bytes of keys, values and headers; a message larger than
 * that goes alone (the changelog's roster chunks can be; their topic allows 16 MiB).
 */

/** The parts of a Kafka message that count towards its batch's size (kafkajs's Message). */
export interface SizedMessage {
  readonly key?: Buffer | string | null
  readonly value: Buffer | string | null
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>
}

export const SEND_MESSAGES = 1000

/** Three quarters of the default limit: room for the batch's and each record's framing. */
export const SEND_BYTES = 768 * 1024

const bytesOf = (v: Buffer | string | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length

/** The bytes a message adds to its batch, framing aside. */
export function messageBytes(m: SizedMessage): number {
  let n = bytesOf(m.key) + bytesOf(m.value)
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    n += Buffer.byteLength(name)
    if (Array.isArray(value)) for (const v of value) n += bytesOf(v)
    else n += bytesOf(value)
  }
  return n
}

/** The messages in order, as slices within both limits (each slice holds at least one message). */
export function* sendSlices<M extends SizedMessage>(
  messages: readonly M[],
  maxMessages = SEND_MESSAGES,
  maxBytes = SEND_BYTES,
): Generator<M[]> {
  let slice: M[] = []
  let bytes = 0
  for (const m of messages) {
    const size = messageBytes(m)
    if (slice.length > 0 && (slice.length >= maxMessages || bytes + size > maxBytes)) {
      yield slice
      slice = []
      bytes = 0
    }
    slice.push(m)
    bytes += size
  }
  if (slice.length > 0) yield slice
}
