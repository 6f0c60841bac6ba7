/**
 * Health, readiness and Prometheus metrics of the stream services over HTTP:
 * GET /healthz, /readyz, /metrics.
 */
import { createServer, type Server } from 'node:http'
import { SynclogError } from '../errors.js'

export class StreamMetrics {
  /** Readiness of each service in the process (`run all` has two); ready when all are. */
  readonly readiness = new Map<string, boolean>()
  eventsProcessed = 0
  deadLetters = 0
  /** Events that arrived on another partition than their tenant's and were forwarded there. */
  forwarded = 0
  rowsProjected = 0
  projectorRetries = 0
  /** True while the projector retries a ClickHouse write that failed. */
  projectorStoreFailing = false
  /**
   * Whether each service's consumer runs: false from a crash until it has joined its group
   * again (src/stream/consumer-supervision.ts). /healthz fails while one does not.
   */
  readonly running = new Map<string, boolean>()
  /** Consumer crashes per service, each one followed by a restart. */
  readonly consumerCrashes = new Map<string, number>()
  /** Lag per assigned partition of the processor's input (change events). */
  readonly lag = new Map<number, number>()
  /** Lag per assigned partition of the projector's input (sync-log events). */
  readonly projectorLag = new Map<number, number>()
  private readonly started = performance.now()

  get ready(): boolean {
    return this.readiness.size > 0 && [...this.readiness.values()].every(Boolean)
  }

  /** The services whose consumer does not run (crashed, not back yet). */
  get stopped(): string[] {
    return [...this.running].filter(([, running]) => !running).map(([service]) => service)
  }

  render(): string {
    const lines = [
      '# HELP synclog_events_processed_total Change events folded by the processor.',
      '# TYPE synclog_events_processed_total counter',
      `synclog_events_processed_total ${this.eventsProcessed}`,
      '# HELP synclog_dead_letters_total Messages sent to the dead-letter topic.',
      '# TYPE synclog_dead_letters_total counter',
      `synclog_dead_letters_total ${this.deadLetters}`,
      "# HELP synclog_events_forwarded_total Change events forwarded to their tenant's partition (a producer with another partitioner).",
      '# TYPE synclog_events_forwarded_total counter',
      `synclog_events_forwarded_total ${this.forwarded}`,
      '# HELP synclog_rows_projected_total Sync-log events written to ClickHouse.',
      '# TYPE synclog_rows_projected_total counter',
      `synclog_rows_projected_total ${this.rowsProjected}`,
      '# HELP synclog_projector_retries_total ClickHouse writes retried.',
      '# TYPE synclog_projector_retries_total counter',
      `synclog_projector_retries_total ${this.projectorRetries}`,
      '# HELP synclog_projector_store_failing 1 while the projector retries a ClickHouse write that failed.',
      '# TYPE synclog_projector_store_failing gauge',
      `synclog_projector_store_failing ${this.projectorStoreFailing ? 1 : 0}`,
      '# HELP synclog_consumer_running 1 while the service\'s Kafka consumer runs; 0 from a crash until it is back.',
      '# TYPE synclog_consumer_running gauge',
      ...[...this.running].map(([service, running]) => `synclog_consumer_running{service="${service}"} ${running ? 1 : 0}`),
      '# HELP synclog_consumer_crashes_total Crashes of the service\'s Kafka consumer, each followed by a restart.',
      '# TYPE synclog_consumer_crashes_total counter',
      ...[...this.running.keys()].map((service) => `synclog_consumer_crashes_total{service="${service}"} ${this.consumerCrashes.get(service) ?? 0}`),
      '# HELP synclog_consumer_lag Offsets from the group\'s position to the end of each assigned partition (from the broker every few seconds, and after each batch).',
      '# TYPE synclog_consumer_lag gauge',
      ...[...this.lag].map(([p, n]) => `synclog_consumer_lag{service="processor",partition="${p}"} ${n}`),
      ...[...this.projectorLag].map(([p, n]) => `synclog_consumer_lag{service="projector",partition="${p}"} ${n}`),
      '# HELP synclog_uptime_seconds Seconds since start.',
      '# TYPE synclog_uptime_seconds gauge',
      `synclog_uptime_seconds ${((performance.now() - this.started) / 1000).toFixed(1)}`,
    ]
    return `${lines.join('\n')}\n`
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
    if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render())
    res.writeHead(404).end('not found\n')
  })
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is in use' : e.message
      reject(new SynclogError('USAGE', `cannot serve the stream metrics on ${host}:${port}: ${reason}; pick another port with --http-port of synclog run (--metrics-port of synclog serve --stream; 0 = none)`, { cause: e }))
    })
    server.listen(port, host, () => resolve(server))
  })
}
