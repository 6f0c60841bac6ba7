/**
 * Publishes change events to the change-events topic, as a SIS would.
 *
 * Key = tenant, so all events of a tenant land in one partition in the order they were
 * read. Batches are sent one after the other, each awaited, acks from all in-sync
 * replicas: with an idempotent producer (maxInFlightRequests 1) a retried batch is neither
 * duplicated nor reordered. If a send fails, nothing after it is sent; the error says how
 * many events were acknowledged. Publishing a sync again is harmless: events carry their
 * ids and the fold ignores a redelivered id.
 */
import type { Producer } from 'kafkajs'
import type { ChangeEvent } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import type { AvroSerde } from './avro-serde.js'
import { kafkaError } from './errors.js'
import { sendSlices } from './send-slices.js'

export interface PublishProgress {
  /** Events acknowledged by the broker so far. */
  readonly events: number
  readonly batches: number
}

export interface PublishOptions {
  /** Called after every acknowledged batch. */
  readonly onProgress?: (p: PublishProgress) => void
  /** Events per `send`. Default 500. */
  readonly batchSize?: number
}

export interface PublishResult {
  readonly events: number
  readonly batches: number
  /** Events per sync id, in order of first appearance. */
  readonly syncs: ReadonlyMap<string, number>
  readonly tenants: ReadonlySet<string>
}

type Sender = Pick<Producer, 'send'>
type Encoder = Pick<AvroSerde, 'encodeChangeEvent'>

export async function publishChangeEvents(
  producer: Sender,
  serde: Encoder,
  topic: string,
  events: AsyncIterable<ChangeEvent> | Iterable<ChangeEvent>,
  opts: PublishOptions = {},
): Promise<PublishResult> {
  const batchSize = opts.batchSize ?? 500
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new SynclogError('USAGE', `batchSize must be a positive integer (got ${batchSize})`)
  const syncs = new Map<string, number>()
  const tenants = new Set<string>()
  let sent = 0
  let batches = 0
  let batch: { key: string; value: Buffer }[] = []

  // Each send stays within the broker's batch limit however large the records (send-slices.ts).
  const flush = async (): Promise<void> => {
    const pending = batch
    batch = []
    for (const messages of sendSlices(pending, batchSize)) {
      try {
        await producer.send({ topic, acks: -1, messages })
      } catch (e) {
        throw kafkaError(e, `sending ${messages.length} events to ${topic} (${sent} acknowledged before)`)
      }
      sent += messages.length
      batches++
      opts.onProgress?.({ events: sent, batches })
    }
  }

  for await (const event of events) {
    batch.push({ key: event.tenant, value: serde.encodeChangeEvent(event) })
    syncs.set(event.syncId, (syncs.get(event.syncId) ?? 0) + 1)
    tenants.add(event.tenant)
    if (batch.length >= batchSize) await flush()
  }
  await flush()
  return { events: sent, batches, syncs, tenants }
}
