/**
 * The kafkajs client and its producers, configured once.
 *
 * - logs go through pino (see kafka-log.ts);
 * - retries back off exponentially with jitter (kafkajs' `factor` randomises each wait);
 * - producers use the Java-compatible murmur2 partitioner explicitly, so a tenant's key
 *   lands on the same partition as with any Java or librdkafka producer;
 * - the idempotent producer gets `maxInFlightRequests: 1` and an explicit retry budget
 *   (kafkajs' defaults there are wrong: unlimited in-flight, 5 retries), and must never be
 *   used for concurrent `send`s.
 */
import kafkajs from 'kafkajs'
import type { Kafka as KafkaClient, Producer, RetryOptions } from 'kafkajs'
import type { Config } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import { kafkaErrorType } from './errors.js'
import { kafkaLogLevelFor, pinoLogCreator } from './kafka-log.js'
import { keyedPartitioner } from './tenant-partition.js'

const { Kafka } = kafkajs

/** Client-wide retry: about 1 minute of attempts (300 ms doubling to 30 s, ±20 % jitter). */
export const CLIENT_RETRY: Readonly<RetryOptions> = {
  initialRetryTime: 300,
  maxRetryTime: 30_000,
  factor: 0.2,
  multiplier: 2,
  retries: 8,
}

/**
 * Producer retry. kafkajs warns that anything below MAX_SAFE_INTEGER "may invalidate
 * EoS": a send that gives up after its budget is reported to the caller, which stops
 * (publisher) or aborts the transaction (processor); the sequence numbers of an
 * idempotent producer are only at risk if the *same* producer sends again after a
 * failed send, which neither does. A bounded budget keeps a dead cluster visible.
 * It starts at 5 ms: the commonest retry is CONCURRENT_TRANSACTIONS (the broker still
 * writing the previous transaction's markers, a few ms on one broker). A 300 ms first wait
 * made each one the p99 of a small sync's latency, 50 ms let a tenant's small syncs, three
 * transactions each, queue behind one another (bench, stream stage: one sync every 200 ms
 * per tenant), and 20 ms (the Java producer's wait for this error) still kept a small
 * sync's p50 near 300 ms; at 5 ms it is about 100 ms. About 2 minutes in all.
 */
export const PRODUCER_RETRY: Readonly<RetryOptions> = {
  initialRetryTime: 5,
  maxRetryTime: 30_000,
  factor: 0.2,
  multiplier: 2,
  retries: 16,
}

/** A short budget for one-shot commands (about 10 s), so an unreachable cluster is reported soon. */
export const COMMAND_RETRY: Readonly<RetryOptions> = { ...CLIENT_RETRY, retries: 5 }

export interface CreateKafkaOptions {
  /** Client-wide retry; default CLIENT_RETRY (services). */
  readonly retry?: Readonly<RetryOptions>
}

export function createKafka(config: Pick<Config, 'kafka'>, logger: Logger, options: CreateKafkaOptions = {}): KafkaClient {
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: [...config.kafka.brokers],
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { ...(options.retry ?? CLIENT_RETRY) },
    logLevel: kafkaLogLevelFor(logger),
    logCreator: pinoLogCreator(logger),
  })
}

/**
 * An idempotent producer: no duplicates from its own retries, per-partition order
 * kept. Await each `send` before the next one.
 */
export function idempotentProducer(kafka: KafkaClient): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { ...PRODUCER_RETRY },
    allowAutoTopicCreation: false,
    createPartitioner: keyedPartitioner,
  })
}

export interface TransactionalProducerOptions {
  /** Must be ≤ the broker's `transaction.max.timeout.ms` (default 15 min). Default 60 s. */
  readonly transactionTimeout?: number
}

/**
 * A transactional producer (one open transaction at a time). kafkajs has no KIP-447
 * fencing, so give each input topic-partition its own `transactionalId`, e.g.
 * `${group}-${topic}-${partition}`. A fenced or expired producer cannot be used again: its
 * owner discards it and gets a new one from TransactionalProducers (below); the stream
 * processor does so (src/stream/processor-service.ts).
 */
export function transactionalProducer(kafka: KafkaClient, transactionalId: string, options: TransactionalProducerOptions = {}): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: options.transactionTimeout ?? 60_000,
    retry: { ...PRODUCER_RETRY },
    allowAutoTopicCreation: false,
    createPartitioner: keyedPartitioner,
  })
}

/**
 * Broker errors after which a transactional producer can no longer be used: another producer
 * with its transactional id took over (fenced, a newer epoch), or the coordinator expired its
 * transaction (`transactionTimeout` passed) and bumped the epoch. kafkajs cannot recover a
 * producer from these (no KIP-588), so the only way on is a new one.
 */
const FENCED_TYPES: ReadonlySet<string> = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTION_COORDINATOR_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_TXN_STATE',
])

/** True when `e` (a kafkajs error, or a SynclogError mapped from one) says the transactional producer was fenced or expired. */
export function isFenced(e: unknown): boolean {
  const type = kafkaErrorType(e)
  return type !== null && FENCED_TYPES.has(type)
}

/**
 * Transactional producers by transactional id, each created and connected on first use.
 *
 * After a failed transaction, abort it; when the error `isFenced`, or the abort itself
 * failed, the producer is unusable: `discard` disconnects it and forgets it, and the next
 * `get` creates and connects a new one (its InitProducerId takes the id over and aborts any
 * transaction still open under it). Never share one producer between concurrent batches.
 */
export class TransactionalProducers {
  private readonly producers = new Map<string, Promise<Producer>>()

  constructor(
    private readonly kafka: KafkaClient,
    private readonly options: TransactionalProducerOptions = {},
  ) {}

  get(transactionalId: string): Promise<Producer> {
    let producer = this.producers.get(transactionalId)
    if (producer === undefined) {
      producer = (async () => {
        const p = transactionalProducer(this.kafka, transactionalId, this.options)
        await p.connect()
        return p
      })()
      // A producer that could not connect is not kept: the next `get` tries again.
      producer.catch(() => this.producers.get(transactionalId) === producer && this.producers.delete(transactionalId))
      this.producers.set(transactionalId, producer)
    }
    return producer
  }

  /** Disconnects the producer of this id (if any) and forgets it; never throws. */
  async discard(transactionalId: string): Promise<void> {
    const producer = this.producers.get(transactionalId)
    this.producers.delete(transactionalId)
    await producer?.then((p) => p.disconnect()).catch(() => undefined)
  }

  /** Disconnects every producer; never throws. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((id) => this.discard(id)))
  }
}
