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
  rowsProjected = 0
  projectorRetries = 0
  readonly lag = new Map<number, number>()
  readonly projectorLag = new Map<number, number>()
  private readonly started = performance.now()

  get ready(): boolean {
    return this.readiness.size > 0 && [...this.readiness.values()].every(Boolean)
  }

  render(): string {
    const lines = [
      '# HELP synclog_events_processed_total Change events folded by the processor.',
      '# TYPE synclog_events_processed_total counter',
      `synclog_events_processed_total ${this.eventsProcessed}`,
      '# HELP synclog_dead_letters_total Messages sent to the dead-letter topic.',
      '# TYPE synclog_dead_letters_total counter',
      `synclog_dead_letters_total ${this.deadLetters}`,
      '# HELP synclog_rows_projected_total Sync-log events written to ClickHouse.',
      '# TYPE synclog_rows_projected_total counter',
      `synclog_rows_projected_total ${this.rowsProjected}`,
      '# HELP synclog_projector_retries_total ClickHouse writes retried.',
      '# TYPE synclog_projector_retries_total counter',
      `synclog_projector_retries_total ${this.projectorRetries}`,
      '# HELP synclog_consumer_lag Messages behind the end of each partition, as of the last batch.',
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
    if (req.url === '/healthz') return void res.writeHead(200).end('ok\n')
    if (req.url === '/readyz') return void res.writeHead(metrics.ready ? 200 : 503).end(metrics.ready ? 'ready\n' : 'not ready\n')
    if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render())
    res.writeHead(404).end('not found\n')
  })
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is in use' : e.message
      reject(new SynclogError('USAGE', `cannot serve the stream metrics on ${host}:${port}: ${reason}; pick another port`, { cause: e }))
    })
    server.listen(port, host, () => resolve(server))
  })
}
