/**
 * Where a small sync's latency goes inside synclog's pipeline, from kafkajs'
 * own instrumentation events (no change to the services): how long a processor
 * batch takes (fold + transaction), how long after a processor batch ends the
 * projector starts on the result (read-committed fetch), and how long a projector
 * batch takes (decode + ClickHouse write + offset commit).
 */
import type { Consumer, Kafka } from 'kafkajs'
import { percentile } from '../stats.js'

type Role = 'processor' | 'projector'

interface BatchEvent {
  readonly role: Role
  readonly kind: 'start' | 'end'
  readonly at: number
  readonly duration: number
  readonly size: number
}

export class BatchTrace {
  private events: BatchEvent[] = []

  attach(consumer: Consumer, role: Role): void {
    consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
      if (e.payload.batchSize > 0) this.events.push({ role, kind: 'start', at: e.timestamp, duration: 0, size: e.payload.batchSize })
    })
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      if (e.payload.batchSize > 0)
        this.events.push({ role, kind: 'end', at: e.timestamp, duration: e.payload.duration, size: e.payload.batchSize })
    })
  }

  /** Forgets what was traced so far (a new phase begins). */
  reset(): void {
    this.events = []
  }

  summary(): string {
    const ends = (role: Role): BatchEvent[] => this.events.filter((e) => e.role === role && e.kind === 'end')
    const processor = ends('processor')
    const projector = ends('projector')
    const processorEnds = processor.map((e) => e.at).sort((a, b) => a - b)
    const handoffs: number[] = []
    for (const start of this.events.filter((e) => e.role === 'projector' && e.kind === 'start')) {
      let latest = Number.NEGATIVE_INFINITY
      for (const t of processorEnds) if (t <= start.at) latest = t
      if (Number.isFinite(latest)) handoffs.push(start.at - latest)
    }
    const stat = (xs: readonly number[]): string =>
      xs.length === 0 ? '–' : `p50 ${percentile(xs, 50).toFixed(0)} ms, p95 ${percentile(xs, 95).toFixed(0)} ms`
    return (
      `processor batch (decode, fold, one transaction) ${stat(processor.map((e) => e.duration))} over ${processor.length} batches; ` +
      `processor batch end -> projector batch start ${stat(handoffs)}; ` +
      `projector batch (decode, ClickHouse write, offset commit) ${stat(projector.map((e) => e.duration))} over ${projector.length} batches`
    )
  }
}

/** The same client, with every consumer it makes traced (role from the group id's suffix). */
export function tracedKafka(kafka: Kafka, trace: BatchTrace): Kafka {
  return {
    producer: (config) => kafka.producer(config),
    admin: (config) => kafka.admin(config),
    logger: () => kafka.logger(),
    consumer: (config) => {
      const consumer = kafka.consumer(config)
      trace.attach(consumer, config.groupId.endsWith('-processor') ? 'processor' : 'projector')
      return consumer
    },
  } as Kafka
}
