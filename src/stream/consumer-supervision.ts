/**
 * Keeps a stream service's Kafka consumer running whatever error stops it, and says so in
 * /healthz and /metrics.
 *
 * kafkajs restarts a crashed consumer only when it judges the error retriable; after any
 * other error (a store write refused, a bug, an error without a `retriable` flag) it has
 * already disconnected the consumer and leaves it stopped, while the process stays up.
 * The supervisor then runs the same consumer again, after a jittered backoff that grows
 * with each crash and starts over once a batch goes through: exactly what kafkajs does
 * when it restarts by itself (`run` after its disconnect), with our backoff. Restarting in
 * the process, rather than exiting for an outside supervisor to restart it, keeps the other
 * things the process runs (the API of `serve --stream`, the other service of `run all`)
 * up, and needs no outside supervisor at all; the batch that failed is read again from the
 * last committed offset, so nothing is lost or applied twice.
 *
 * From a crash until the consumer has joined its group again, `metrics.running` is false
 * for the service (/healthz answers 503, `synclog_consumer_running` is 0) and readiness is
 * false. The lag of every assigned partition is kept from the broker's offsets
 * (consumer-lag.ts).
 */
import type { Consumer, ConsumerCrashEvent, ConsumerRunConfig, Kafka } from 'kafkajs'
import type { Logger } from '../logging/logger.js'
import { backoffMs } from './backoff.js'
import { PartitionLag } from './consumer-lag.js'
import type { StreamMetrics } from './metrics.js'

export interface ConsumerSupervisorOptions {
  /** The service's name in metrics and logs: `processor` or `projector`. */
  readonly service: string
  readonly kafka: Kafka
  readonly groupId: string
  /** The topic the consumer reads (its lag is reported per assigned partition). */
  readonly topic: string
  /** A consumer created by the service, with its own listeners; connected and subscribed before `run`. */
  readonly consumer: Consumer
  /** The gauge of this service's lag (metrics.lag or metrics.projectorLag). */
  readonly lagGauge: Map<number, number>
  readonly logger: Logger
  readonly metrics: StreamMetrics
}

export class ConsumerSupervisor {
  private config: ConsumerRunConfig | undefined
  private crashes = 0
  private restartTimer: NodeJS.Timeout | undefined
  private stopping = false
  private readonly lag: PartitionLag

  constructor(private readonly opts: ConsumerSupervisorOptions) {
    const { consumer, service, metrics } = opts
    this.lag = new PartitionLag({ kafka: opts.kafka, groupId: opts.groupId, topic: opts.topic, gauge: opts.lagGauge, logger: opts.logger })
    metrics.running.set(service, true)
    metrics.readiness.set(service, false)
    metrics.consumerCrashes.inc({ service }, 0) // shown, as 0, before the first crash
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (metrics.running.get(service) === false) opts.logger.info({ service }, `${service} consumer running again`)
      metrics.running.set(service, true)
      metrics.readiness.set(service, true)
    })
    consumer.on(consumer.events.END_BATCH_PROCESS, () => {
      this.crashes = 0
    })
    consumer.on(consumer.events.CRASH, (e: ConsumerCrashEvent) => this.onCrash(e.payload.error, e.payload.restart))
    this.lag.watch(consumer)
  }

  /** Runs the consumer (as `consumer.run(config)`) and keeps it running until `stop`. */
  async run(config: ConsumerRunConfig): Promise<void> {
    this.config = config
    this.lag.start()
    await this.opts.consumer.run(config)
  }

  /** Stops restarting, then disconnects the consumer (its batch in flight finishes first). */
  async stop(): Promise<void> {
    this.stopping = true
    clearTimeout(this.restartTimer)
    await this.lag.stop()
    await this.opts.consumer.disconnect()
  }

  private onCrash(error: Error, restart: boolean): void {
    const { service, metrics, logger } = this.opts
    if (this.stopping) return
    metrics.running.set(service, false)
    metrics.readiness.set(service, false)
    metrics.consumerCrashes.inc({ service })
    if (restart) {
      // kafkajs restarts it by itself, after its own retry time.
      logger.error({ err: error, service }, `${service} consumer crashed; kafkajs restarts it`)
      return
    }
    const waitMs = backoffMs(this.crashes++, 1000, 60_000)
    logger.error(
      { err: error, service, attempt: this.crashes, waitMs },
      `${service} consumer crashed and kafkajs stopped it; restarting it in ${waitMs} ms`,
    )
    this.restartTimer = setTimeout(() => void this.restart(), waitMs)
  }

  private async restart(): Promise<void> {
    if (this.stopping || this.config === undefined) return
    try {
      // kafkajs disconnected it before reporting the crash; `run` connects again and joins the group.
      await this.opts.consumer.run(this.config)
    } catch (e) {
      // `run` reports its failures as a crash (handled above); anything it throws gets another try.
      this.onCrash(e instanceof Error ? e : new Error(String(e)), false)
    }
  }
}

/**
 * Awaits `work` while calling `heartbeat` every `everyMs`, so the group keeps a member whose
 * batch waits on something bounded (a store write under its client's request timeout, a
 * restore). A heartbeat that fails (the group is rebalancing) ends the wait with its error;
 * `work` then finishes or fails unobserved, which only an idempotent step may allow.
 */
export async function heartbeatWhile<T>(work: Promise<T>, heartbeat: () => Promise<void>, everyMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let done = false
  const beating = new Promise<never>((_, reject) => {
    const beat = (): void => {
      if (!done) timer = setTimeout(() => void heartbeat().then(beat, reject), everyMs)
    }
    beat()
  })
  work.catch(() => undefined) // observed below; this only keeps a late failure from being unhandled
  try {
    return await Promise.race([work, beating])
  } finally {
    done = true
    clearTimeout(timer)
  }
}
