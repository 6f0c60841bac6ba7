/**
 * The stream services of one process, started over a store: the processor (change events
 * -> sync-log events) and/or the projector (sync-log events -> the store), with their
 * health and metrics. `synclog run` starts them over a store it opens; `synclog serve
 * --stream` over the service's own store, so the log can be read while events arrive.
 *
 * The projector writes beside the service's write queue, not through it: each batch is
 * self-contained and idempotent (the tables collapse on the rows' identity), it touches no
 * file of the data directory, and one tenant's events arrive in order in one partition and
 * are written rows first, then counts, then runs, so a reader that sees a sync's status
 * sees its rows. Waiting behind an hour-long import would only stall the consumer past its
 * session timeout and have its batches written again.
 *
 * `stop` drains in the order that loses nothing: the processor first (its transaction in
 * flight commits or aborts), then the projector (its batch written and committed), then the
 * metrics server. The caller closes the store after.
 */
import type { Server } from 'node:http'
import type { Config } from '../config/config.js'
import { foldOptionsOf } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import type { Producer } from 'kafkajs'
import type { ChangeEvent } from '../events/change-event.js'
import { createKafka, idempotentProducer } from '../kafka/kafka-client.js'
import { publishChangeEvents } from '../kafka/publisher.js'
import type { TopicNames } from '../kafka/topics.js'
import { SynclogError } from '../errors.js'
import { kafkaError } from '../kafka/errors.js'
import { prepareStream } from './prepare-stream.js'
import { ProcessorService } from './processor-service.js'
import { ProjectorService } from './projector-service.js'
import { StreamMetrics, serveMetrics } from './metrics.js'

export const STREAM_ROLES = ['processor', 'projector', 'all'] as const
export type StreamRole = (typeof STREAM_ROLES)[number]

export function parseStreamRole(role: string): StreamRole {
  if (!(STREAM_ROLES as readonly string[]).includes(role))
    throw new SynclogError('USAGE', `role must be one of ${STREAM_ROLES.join(', ')} (got '${role}')`)
  return role as StreamRole
}

/** Whether the role writes to the store (and so needs one open). */
export const projects = (role: StreamRole): boolean => role !== 'processor'

/** A port for /healthz, /readyz and /metrics (0 = none); `option` names the flag in the message. */
export function parseMetricsPort(value: string, option: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new SynclogError('USAGE', `${option} must be a port number from 0 to 65535 (0 = none; got '${value}')`)
  return port
}

export interface StreamServicesOptions {
  readonly role: StreamRole
  readonly config: Config
  readonly logger: Logger
  /** Consumer group prefix (one per deployment). */
  readonly group: string
  /** Where the projector writes; needed unless the role is `processor`. */
  readonly store: Pick<SyncLogStore, 'write'> | undefined
  /** Port of /healthz, /readyz and /metrics on 127.0.0.1; 0 = none. */
  readonly metricsPort: number
}

export interface StreamServices {
  readonly topics: TopicNames
  readonly metrics: StreamMetrics
  /** Publishes change events to the change-events topic, as a SIS would (a reviewer's decision); its producer connects on first use. */
  publish(events: readonly ChangeEvent[]): Promise<void>
  /** Drains and stops the services (processor, then projector, then metrics); never throws. */
  stop(): Promise<void>
}

export async function startStreamServices(opts: StreamServicesOptions): Promise<StreamServices> {
  const { role, config, logger, group } = opts
  const kafka = createKafka(config, logger)
  const { topics, serde } = await prepareStream(kafka, config, logger).catch((e: unknown) => {
    throw kafkaError(e, `preparing the stream topics at ${config.kafka.brokers.join(',')} (--brokers, SYNCLOG_KAFKA_BROKERS)`)
  })
  const metrics = new StreamMetrics()
  // In stop order: the processor first, so nothing it commits is left for a stopped projector to miss for long.
  const stoppers: (() => Promise<void>)[] = []
  let server: Server | undefined
  let producer: Promise<Producer> | undefined
  const publish = async (events: readonly ChangeEvent[]): Promise<void> => {
    producer ??= (async () => {
      const p = idempotentProducer(kafka)
      await p.connect()
      return p
    })()
    await publishChangeEvents(await producer, serde, topics.changeEvents, events)
  }
  const stop = async (): Promise<void> => {
    for (const s of stoppers.splice(0)) await s().catch((e: unknown) => logger.error({ err: e }, 'error while stopping'))
    if (producer !== undefined)
      await (await producer).disconnect().catch((e: unknown) => logger.warn({ err: e }, 'closing the Kafka producer failed'))
    producer = undefined
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
    server = undefined
  }
  try {
    server = opts.metricsPort > 0 ? await serveMetrics(metrics, opts.metricsPort) : undefined
    if (role === 'processor' || role === 'all') {
      const processor = new ProcessorService({
        kafka,
        serde,
        topics,
        groupId: `${group}-processor`,
        foldOptions: foldOptionsOf(config),
        logger: logger.child({ component: 'processor' }),
        metrics,
      })
      stoppers.push(() => processor.stop())
      await processor.start()
    }
    if (projects(role)) {
      if (opts.store === undefined) throw new Error(`the ${role} stream role needs a store`)
      const projector = new ProjectorService({
        kafka,
        serde,
        topics,
        groupId: `${group}-projector`,
        store: opts.store,
        logger: logger.child({ component: 'projector' }),
        metrics,
      })
      stoppers.push(() => projector.stop())
      await projector.start()
    }
  } catch (e) {
    await stop()
    throw kafkaError(e, `starting the stream ${role === 'all' ? 'services' : role}`)
  }
  logger.info({ role, topics, metricsPort: opts.metricsPort || null }, 'synclog stream services running')
  return { topics, metrics, publish, stop }
}
