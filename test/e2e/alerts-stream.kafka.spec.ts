/**
 * Alerts in stream mode: a sync published to the broker is folded by the stream processor
 * of `synclog serve --stream`, and its status, once the projector has stored it, is
 * delivered to the tenant's webhook (a real HTTP receiver the test starts), as an import's is.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { synclog, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { ndjson, nightEvents, startStreamServe, waitFor } from '../support/stream-events.js'
import { startReceiver, verifies } from '../support/webhook-receiver.js'
import { district11, writeFolder } from '../fixtures/oneroster/bundles.js'

const { brokers, registryUrl } = serviceEndpoints()
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

describe('alerts in stream mode', () => {
  it("delivers the status of a streamed sync once the projector has stored it, with the sync's counts", async () => {
    const dir = await tempDir('alerts-stream')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const receiver = await startReceiver(() => 200)
    cleanup.push(() => receiver.close())
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: `e2e-alerts-${process.pid}-${Date.now()}.`,
      SYNCLOG_TOPIC_PARTITIONS: '2',
    }
    const data = join(dir, 'data')
    await writeFolder(data, {})
    await writeFile(
      join(data, 'synclog.config.json'),
      JSON.stringify({ alerts: { 'district-s': [{ url: receiver.url, secret: 'stream-secret', statuses: ['Completed'] }] } }),
    )
    await writeFolder(join(dir, 'night1'), district11())
    const events = await nightEvents(dir, 1, 'stream-night-1', 'district-s')

    const { serve } = await startStreamServe(data, env, `e2e-alerts-${process.pid}`)
    cleanup.push(() => serve.stop(60_000))
    const published = await synclog(['publish', await ndjson(join(dir, 'night1.ndjson'), events)], { env })
    expect(published.code, published.stderr).toBe(0)

    await waitFor(
      async () => receiver.received.length > 0,
      90_000,
      () => `no delivery came:\n${serve.stderr()}`,
    )
    const delivery = receiver.received[0]!
    expect(verifies(delivery, 'stream-secret')).toBe(true)
    const body = JSON.parse(delivery.body) as { syncId: string; status: string; counts: Record<string, { total: number; new: number }> }
    expect(body).toMatchObject({ tenant: 'district-s', syncId: 'stream-night-1', status: 'Completed', errors: 0 })
    // district11's files: 2 orgs, 2 sessions, 1 course, 1 class, 2 users, 2 enrollments, all new.
    expect(body.counts['enrollment']).toMatchObject({ total: 2, new: 2 })
    expect(body.counts['org']).toMatchObject({ total: 2, new: 2 })

    const logged = await synclog(['alerts', '--format', 'json', '--data', data], { env })
    expect(logged.code, logged.stderr).toBe(0)
    expect(JSON.parse(logged.stdout)).toEqual([expect.objectContaining({ syncId: 'stream-night-1', outcome: 'delivered', attempt: 1 })])
  }, 240_000)
})
