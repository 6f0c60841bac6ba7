/**
 * Health, readiness and Prometheus metrics of the stream services over HTTP:
 * GET /healthz, /readyz, /metrics. The metrics are prom-client's, in a registry of
 * their own (one per process: `run all` and `serve --stream` share it between the
 * processor and the projector).
 */
import { createServer, type Server } from 'node:http'
import { Counter, Gauge, Registry } from 'prom-client'
import { SynclogError } from '../errors.js'

export class StreamMetrics {
  readonly registry = new Registry()
  /** Readiness of each service in the process (`run all` has two); ready when all are. */
  readonly readiness = new Map<string, boolean>()
  /**
   * Whether each service's consumer runs: false from a crash until it has joined its group
   * again (src/stream/consumer-supervision.ts). /healthz fails while one does not.
   */
  readonly running = new Map<string, boolean>()
  /** Lag per assigned partition of the processor's input (change events). */
  readonly lag = new Map<number, number>()
  /** Lag per assigned partition of the projector's input (sync-log events). */
  readonly projectorLag = new Map<number, number>()
  /** True while the projector retries a ClickHouse write that failed. */
  projectorStoreFailing = false

  readonly eventsProcessed = this.counter('synclog_events_processed_total', 'Change events folded by the processor.')
  readonly deadLetters = this.counter('synclog_dead_letters_total', 'Messages sent to the dead-letter topic.')
  /** Events that arrived on another partition than their tenant's and were forwarded there. */
  readonly forwarded = this.counter(
    'synclog_events_forwarded_total',
    "Change events forwarded to their tenant's partition (a producer with another partitioner).",
  )
  readonly rowsProjected = this.counter('synclog_rows_projected_total', 'Sync-log events written to ClickHouse.')
  readonly projectorRetries = this.counter('synclog_projector_retries_total', 'ClickHouse writes retried.')
  /** Consumer crashes per service, each one followed by a restart. */
  readonly consumerCrashes = new Counter({
    name: 'synclog_consumer_crashes_total',
    help: "Crashes of the service's Kafka consumer, each followed by a restart.",
    labelNames: ['service'] as const,
    registers: [this.registry],
  })

  constructor() {
    const started = performance.now()
    // Gauges of state kept above, read when scraped.
    this.gauge('synclog_projector_store_failing', '1 while the projector retries a ClickHouse write that failed.', [], (g) =>
      g.set(this.projectorStoreFailing ? 1 : 0),
    )
    this.gauge(
      'synclog_consumer_running',
      "1 while the service's Kafka consumer runs; 0 from a crash until it is back.",
      ['service'],
      (g) => {
        for (const [service, running] of this.running) g.set({ service }, running ? 1 : 0)
      },
    )
    this.gauge(
      'synclog_consumer_lag',
      "Offsets from the group's position to the end of each assigned partition (from the broker every few seconds, and after each batch).",
      ['service', 'partition'],
      (g) => {
        for (const [partition, n] of this.lag) g.set({ service: 'processor', partition: String(partition) }, n)
        for (const [partition, n] of this.projectorLag) g.set({ service: 'projector', partition: String(partition) }, n)
      },
    )
    this.gauge('synclog_uptime_seconds', 'Seconds since start.', [], (g) => g.set(Math.round((performance.now() - started) / 100) / 10))
  }

  get ready(): boolean {
    return this.readiness.size > 0 && [...this.readiness.values()].every(Boolean)
  }

  /** The services whose consumer does not run (crashed, not back yet). */
  get stopped(): string[] {
    return [...this.running].filter(([, running]) => !running).map(([service]) => service)
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] })
  }

  /** A gauge set from the state above each time it is scraped (series no longer there are dropped). */
  private gauge(name: string, help: string, labelNames: string[], read: (gauge: Gauge) => void): void {
    const gauge: Gauge = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        gauge.reset()
        read(gauge)
      },
    })
  }
}

export function serveMetrics(metrics: StreamMetrics, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      const stopped = metrics.stopped
      if (stopped.length > 0) return void res.writeHead(503).end(`consumer not running: ${stopped.join(', ')}\n`)
      return void res.writeHead(200).end(metrics.projectorStoreFailing ? 'ok; the projector is retrying ClickHouse\n' : 'ok\n')
    }
    if (req.url === '/readyz') return void res.writeHead(metrics.ready ? 200 : 503).end(metrics.ready ? 'ready\n' : 'not ready\n')
    if (req.url === '/metrics') {
      return void metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(`cannot collect the metrics: ${(e as Error).message}\n`),
      )
    }
    res.writeHead(404).end('not found\n')
  })
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is in use' : e.message
      reject(
        new SynclogError(
          'USAGE',
          `cannot serve the stream metrics on ${host}:${port}: ${reason}; pick another port with --http-port of synclog run (--metrics-port of synclog serve --stream; 0 = none)`,
          { cause: e },
        ),
      )
    })
    server.listen(port, host, () => resolve(server))
  })
}
