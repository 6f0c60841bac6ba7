/**
 * The projector against a ClickHouse server that hangs, is gone, then refuses every write,
 * then answers again (test/support/clickhouse-facade.ts: ClickHouse's HTTP interface over chDB,
 * with the faults switched by the test). Through all of it `synclog run all` stays up,
 * reports what happens in /metrics and /healthz, restarts the consumer that the refusals
 * stop, and once the store answers writes every row, none lost or twice, as the embedded
 * ingest of the same events. And a transactional producer fenced by another one with its
 * id is recognised and replaced.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { CLI, jsonLines, synclog, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { freePort, ndjson, nightEvents, waitFor } from '../support/stream-events.js'
import { startClickHouseFacade, type ClickHouseFacade } from '../support/clickhouse-facade.js'
import { createKafka, isFenced, TransactionalProducers } from '../../src/kafka/kafka-client.js'
import { silentLogger } from '../support/silent-logger.js'

const { brokers, registryUrl } = serviceEndpoints()
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined)
})

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, text: await res.text() }
}

/** The sum of the samples of a metric whose line starts with `prefix`. */
async function metric(port: number, prefix: string): Promise<number> {
  const { text } = await get(port, '/metrics')
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
}

async function lines(port: number, prefix: string): Promise<string[]> {
  return (await get(port, '/metrics')).text.split('\n').filter((l) => l.startsWith(prefix))
}

async function twoNights(dir: string): Promise<ChangeEvent[][]> {
  const { night1, night2 } = generateDemoNights({ seed: 7, schoolYear: currentSchoolYear(new Date()) })
  await writeOneRosterBundle(join(dir, 'night1'), night1)
  await writeOneRosterBundle(join(dir, 'night2'), night2)
  return [await nightEvents(dir, 1, 'night-1'), await nightEvents(dir, 2, 'night-2')]
}

const logArgs = ['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01']
const sortedLog = (stdout: string): string[] =>
  jsonLines(stdout)
    .map((r) => JSON.stringify(r))
    .sort()

describe('a ClickHouse server that hangs or refuses', () => {
  it('keeps the projector running and reporting, and loses nothing once the store answers', async () => {
    const dir = await tempDir('store-faults')
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const facade: ClickHouseFacade = await startClickHouseFacade(join(dir, 'clickhouse'))
    cleanups.push(() => facade.close())
    const [n1, n2] = await twoNights(dir)
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      // Its own topics and consumer groups: a group shared with another test's topics would be handed them.
      SYNCLOG_TOPIC_PREFIX: `store-faults-${process.pid}.`,
      SYNCLOG_TOPIC_PARTITIONS: '3',
      // The client gives up on a request after 1.5 s (30 s by default), so the test sees many attempts.
      CLICKHOUSE_URL: `${facade.url}/?request_timeout=1500`,
    }
    const port = await freePort()
    const service: ChildProcess = spawn(
      process.execPath,
      [CLI, 'run', 'all', '--http-port', String(port), '--group', `store-faults-${process.pid}`, '--data', join(dir, 'data')],
      {
        env: { ...process.env, SYNCLOG_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    let log = ''
    service.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d))
    cleanups.push(async () => {
      if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL')
    })
    const alive = (): boolean => service.exitCode === null && service.signalCode === null
    await waitFor(
      async () => (await get(port, '/readyz').catch(() => undefined))?.status === 200,
      90_000,
      () => `never ready:\n${log}`,
    )

    // Night 1 goes through.
    expect((await synclog(['publish', await ndjson(join(dir, 'n1.ndjson'), n1!)], { env })).code).toBe(0)
    await waitFor(
      async () =>
        (await metric(port, 'synclog_rows_projected_total')) > 0 && (await metric(port, 'synclog_consumer_lag{service="projector"')) === 0,
      90_000,
      () => `night 1 not projected:\n${log}`,
    )
    // The lag of every assigned partition is reported, also of partitions that had no batch.
    expect(await lines(port, 'synclog_consumer_lag{service="projector"')).toHaveLength(3)

    // ClickHouse hangs: every write times out on the client; the projector retries, heartbeating, and stays up.
    facade.hang()
    expect((await synclog(['publish', await ndjson(join(dir, 'n2.ndjson'), n2!)], { env })).code).toBe(0)
    await waitFor(
      async () => (await metric(port, 'synclog_projector_retries_total')) >= 3,
      90_000,
      () => `no retries while hung:\n${log}`,
    )
    expect(await metric(port, 'synclog_projector_store_failing')).toBe(1)
    expect(await metric(port, 'synclog_consumer_lag{service="projector"')).toBeGreaterThan(0)
    const hungHealth = await get(port, '/healthz')
    expect([hungHealth.status, hungHealth.text]).toEqual([200, 'ok; the projector is retrying ClickHouse\n'])
    expect(alive()).toBe(true)
    expect(log).toMatch(/ClickHouse write failed; retrying/)

    // ClickHouse is gone (connections reset): still retried, still up.
    const retriesWhileHung = await metric(port, 'synclog_projector_retries_total')
    facade.down()
    await waitFor(
      async () => (await metric(port, 'synclog_projector_retries_total')) >= retriesWhileHung + 2,
      90_000,
      () => `no retries while down:\n${log}`,
    )
    expect((await get(port, '/healthz')).status).toBe(200)
    expect(alive()).toBe(true)

    // ClickHouse refuses every write (not a transient error): kafkajs stops the consumer; it is restarted, /healthz says so meanwhile.
    facade.refuse(60)
    let unhealthy: string | undefined
    await waitFor(
      async () => {
        const health = await get(port, '/healthz')
        if (health.status === 503) unhealthy = health.text
        return unhealthy !== undefined && (await metric(port, 'synclog_consumer_crashes_total{service="projector"}')) >= 2
      },
      90_000,
      () => `no crash and restart seen:\n${log}`,
    )
    expect(unhealthy).toBe('consumer not running: projector\n')
    expect(log).toMatch(/projector consumer crashed and kafkajs stopped it; restarting it in \d+ ms/)
    expect(alive()).toBe(true)

    // ClickHouse answers again: the projector catches up, healthy.
    facade.answer()
    await waitFor(
      async () =>
        (await get(port, '/healthz')).status === 200 &&
        (await metric(port, 'synclog_projector_store_failing')) === 0 &&
        (await metric(port, 'synclog_consumer_lag{service="projector"')) === 0 &&
        (await metric(port, 'synclog_consumer_running{service="projector"}')) === 1,
      120_000,
      () => `never caught up:\n${log}`,
    )
    expect(log).toMatch(/projector consumer running again/)

    const streamed = await synclog([...logArgs, '--data', join(dir, 'reader')], { env })
    expect(streamed.code, streamed.stderr).toBe(0)
    const embedded = join(dir, 'embedded')
    expect((await synclog(['ingest', await ndjson(join(dir, 'all.ndjson'), [...n1!, ...n2!]), '--data', embedded])).code).toBe(0)
    const reference = await synclog([...logArgs, '--data', embedded])
    expect(sortedLog(streamed.stdout)).toEqual(sortedLog(reference.stdout))
    expect(sortedLog(streamed.stdout).length).toBeGreaterThan(0)

    service.kill('SIGTERM')
    await new Promise((resolve) => service.once('exit', resolve))
  })
})

describe('a fenced transactional producer', () => {
  it('is recognised as fenced, and a new one under the same id commits', async () => {
    const kafka = createKafka(
      { kafka: { brokers, clientId: 'synclog-fence-test', topicPrefix: '', partitions: 1, replicationFactor: 1 } },
      silentLogger(),
    )
    const topic = `fence-${process.pid}-${Date.now()}`
    const admin = kafka.admin()
    await admin.connect()
    cleanups.push(() => admin.disconnect())
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
    cleanups.push(() => admin.deleteTopics({ topics: [topic] }))
    const ours = new TransactionalProducers(kafka)
    const zombie = new TransactionalProducers(kafka)
    cleanups.push(
      () => ours.closeAll(),
      () => zombie.closeAll(),
    )
    const id = `${topic}-0`

    const first = await (await zombie.get(id)).transaction()
    await first.send({ topic, messages: [{ key: 't', value: 'zombie' }] })
    // Another producer takes the id over (as the next owner of a partition does): the first one is fenced.
    const taken = await (await ours.get(id)).transaction()
    await taken.send({ topic, messages: [{ key: 't', value: 'ours' }] })
    await taken.commit()
    const fenced = await first.commit().then(
      () => null,
      (e: unknown) => e,
    )
    expect(isFenced(fenced), String(fenced)).toBe(true)

    // The fenced one is discarded and made anew: it takes the id back and commits.
    await zombie.discard(id)
    const again = await (await zombie.get(id)).transaction()
    await again.send({ topic, messages: [{ key: 't', value: 'again' }] })
    await again.commit()

    const offsets = await admin.fetchTopicOffsets(topic)
    // 'ours' and 'again', each followed by its commit marker; the zombie's send was aborted.
    expect(Number(offsets[0]!.high)).toBeGreaterThanOrEqual(4)
  })
})
