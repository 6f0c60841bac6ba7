import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { StreamMetrics, serveMetrics } from '../../src/stream/metrics.js'

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

async function get(metrics: StreamMetrics, path: string): Promise<{ status: number; type: string | null; text: string }> {
  server ??= await serveMetrics(metrics, 0)
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`)
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() }
}

describe("the stream services' metrics endpoint", () => {
  it('answers /metrics in the Prometheus text format with the names, help texts and labels dashboards use', async () => {
    const metrics = new StreamMetrics()
    metrics.running.set('processor', true)
    metrics.running.set('projector', false)
    metrics.consumerCrashes.inc({ service: 'processor' }, 0)
    metrics.consumerCrashes.inc({ service: 'projector' })
    metrics.eventsProcessed.inc(12)
    metrics.deadLetters.inc(2)
    metrics.forwarded.inc(1)
    metrics.rowsProjected.inc(30)
    metrics.projectorRetries.inc()
    metrics.projectorStoreFailing = true
    metrics.lag.set(0, 5)
    metrics.projectorLag.set(3, 7)

    const { status, type, text } = await get(metrics, '/metrics')
    expect(status).toBe(200)
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/)
    const lines = text.split('\n')
    expect(lines).toEqual(
      expect.arrayContaining([
        '# HELP synclog_events_processed_total Change events folded by the processor.',
        '# TYPE synclog_events_processed_total counter',
        'synclog_events_processed_total 12',
        'synclog_dead_letters_total 2',
        'synclog_events_forwarded_total 1',
        'synclog_rows_projected_total 30',
        'synclog_projector_retries_total 1',
        '# TYPE synclog_projector_store_failing gauge',
        'synclog_projector_store_failing 1',
        'synclog_consumer_running{service="processor"} 1',
        'synclog_consumer_running{service="projector"} 0',
        'synclog_consumer_crashes_total{service="processor"} 0',
        'synclog_consumer_crashes_total{service="projector"} 1',
        '# TYPE synclog_consumer_lag gauge',
        'synclog_consumer_lag{service="processor",partition="0"} 5',
        'synclog_consumer_lag{service="projector",partition="3"} 7',
        '# TYPE synclog_uptime_seconds gauge',
      ]),
    )
  })

  it('drops the lag of a partition once it is no longer assigned', async () => {
    const metrics = new StreamMetrics()
    metrics.lag.set(0, 5)
    metrics.lag.set(1, 2)
    await get(metrics, '/metrics')
    metrics.lag.delete(0)
    const { text } = await get(metrics, '/metrics')
    expect(text.split('\n').filter((l) => l.startsWith('synclog_consumer_lag{'))).toEqual([
      'synclog_consumer_lag{service="processor",partition="1"} 2',
    ])
  })

  it('is healthy while every consumer runs and ready once every service has joined its group', async () => {
    const metrics = new StreamMetrics()
    metrics.running.set('processor', true)
    metrics.readiness.set('processor', false)
    expect(await get(metrics, '/readyz')).toMatchObject({ status: 503, text: 'not ready\n' })
    expect(await get(metrics, '/healthz')).toMatchObject({ status: 200, text: 'ok\n' })
    metrics.readiness.set('processor', true)
    expect(await get(metrics, '/readyz')).toMatchObject({ status: 200, text: 'ready\n' })
    metrics.running.set('processor', false)
    expect(await get(metrics, '/healthz')).toMatchObject({ status: 503, text: 'consumer not running: processor\n' })
  })
})
