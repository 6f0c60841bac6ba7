/**
 * Stream mode against the real broker and registry: SIS events published to
 * Kafka, folded by `synclog run processor`, projected by `synclog run projector`
 * into embedded ClickHouse. Its tables must equal those of the embedded
 * `synclog ingest` of the very same events, whatever gets killed on the way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { CLI, jsonLines, synclog, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { ndjson, nightEvents, waitFor } from '../support/stream-events.js'

const { brokers, registryUrl } = serviceEndpoints()
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

function envFor(prefix: string): Record<string, string> {
  return {
    SYNCLOG_KAFKA_BROKERS: brokers.join(','),
    SYNCLOG_REGISTRY_URL: registryUrl,
    SYNCLOG_TOPIC_PREFIX: prefix,
    SYNCLOG_TOPIC_PARTITIONS: '3',
  }
}

/** Starts `synclog run <role>` and resolves with it once its /readyz answers. */
async function startService(role: string, env: Record<string, string>, args: string[], port: number): Promise<ChildProcess> {
  // A consumer group per topic prefix: other test files running at once use groups of their own.
  const group = ['--group', `e2e-${env.SYNCLOG_TOPIC_PREFIX ?? ''}${process.pid}`]
  const child = spawn(process.execPath, [CLI, 'run', role, '--http-port', String(port), ...group, ...args], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d))
  child.on('exit', () => void writeFile(`/tmp/synclog-${role}-${port}.log`, log).catch(() => undefined))
  children.push(child)
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    90_000,
    () => `${role} never became ready:\n${log}`,
  )
  return child
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
}

async function twoNights(dir: string): Promise<ChangeEvent[][]> {
  const { night1, night2 } = generateDemoNights({ seed: 21, schoolYear: currentSchoolYear(new Date()) })
  await writeOneRosterBundle(join(dir, 'night1'), night1)
  await writeOneRosterBundle(join(dir, 'night2'), night2)
  return [await nightEvents(dir, 1, 'night-1'), await nightEvents(dir, 2, 'night-2')]
}

const logOf = async (data: string): Promise<string[]> =>
  jsonLines((await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', '--data', data])).stdout)
    .map((r) => JSON.stringify(r))
    .sort()

async function embeddedReference(dir: string, events: readonly ChangeEvent[]): Promise<string[]> {
  const data = join(dir, 'embedded')
  const run = await synclog(['ingest', await ndjson(join(dir, 'all.ndjson'), events), '--data', data])
  expect(run.code).toBe(0)
  return logOf(data)
}

let port = 19500 + (process.pid % 200) * 2
const nextPort = (): number => ++port

describe('stream mode', () => {
  it('projects the same sync log as the embedded import of the same events', async () => {
    const dir = await tempDir('stream')
    const env = envFor(`e2e-${process.pid}-a.`)
    const [n1, n2] = await twoNights(dir)
    const all = [...n1!, ...n2!]
    const data = join(dir, 'stream')
    const metricsPort = nextPort()
    const service = await startService('all', env, ['--data', data], metricsPort)
    const pub = await synclog(['publish', await ndjson(join(dir, 'all.ndjson'), all)], { env })
    expect(pub.code, pub.stderr).toBe(0)
    await waitFor(
      async () =>
        (await metric(metricsPort, 'synclog_events_processed_total')) >= all.length &&
        (await metric(metricsPort, 'synclog_consumer_lag')) === 0,
      90_000,
      () => 'stream never caught up',
    )
    service.kill('SIGTERM')
    await new Promise((r) => service.once('exit', r))
    expect(await logOf(data)).toEqual(await embeddedReference(dir, all))
  })

  it('loses and duplicates nothing when the processor is killed in the middle of a sync', async () => {
    const dir = await tempDir('kill')
    const env = envFor(`e2e-${process.pid}-b.`)
    const [n1, n2] = await twoNights(dir)
    const half = Math.floor(n2!.length / 2)
    const data = join(dir, 'stream')
    const projector = await startService('projector', env, ['--data', data], nextPort())
    let processorPort = nextPort()
    let processor = await startService('processor', env, [], processorPort)
    expect((await synclog(['publish', await ndjson(join(dir, 'p1.ndjson'), [...n1!, ...n2!.slice(0, half)])], { env })).code).toBe(0)
    await waitFor(
      async () => (await metric(processorPort, 'synclog_events_processed_total')) >= n1!.length + half,
      60_000,
      () => 'processor did not take the first half',
    )
    processor.kill('SIGKILL')
    await new Promise((r) => processor.once('exit', r))
    expect((await synclog(['publish', await ndjson(join(dir, 'p2.ndjson'), n2!.slice(half))], { env })).code).toBe(0)
    processorPort = nextPort()
    processor = await startService('processor', env, [], processorPort)
    await waitFor(
      async () => (await metric(processorPort, 'synclog_events_processed_total')) >= n2!.length - half,
      60_000,
      () => 'restarted processor did not finish',
    )
    // The projector keeps up; give it the time to drain, then stop it to read the tables.
    await new Promise((r) => setTimeout(r, 3000))
    projector.kill('SIGTERM')
    processor.kill('SIGTERM')
    await new Promise((r) => projector.once('exit', r))
    expect(await logOf(data)).toEqual(await embeddedReference(dir, [...n1!, ...n2!]))
  })

  it('loses and duplicates nothing when the projector is killed while writing', async () => {
    const dir = await tempDir('kill-projector')
    const env = envFor(`e2e-${process.pid}-d.`)
    const [n1, n2] = await twoNights(dir)
    const data = join(dir, 'stream')
    const processorPort = nextPort()
    const processor = await startService('processor', env, [], processorPort)
    let projectorPort = nextPort()
    let projector = await startService('projector', env, ['--data', data], projectorPort)
    expect((await synclog(['publish', await ndjson(join(dir, 'all.ndjson'), [...n1!, ...n2!])], { env })).code).toBe(0)
    await waitFor(
      async () => (await metric(projectorPort, 'synclog_rows_projected_total')) > 0,
      60_000,
      () => 'projector wrote nothing',
    )
    projector.kill('SIGKILL')
    await new Promise((r) => projector.once('exit', r))
    await waitFor(
      async () => (await metric(processorPort, 'synclog_events_processed_total')) >= n1!.length + n2!.length,
      60_000,
      () => 'processor did not finish',
    )
    projectorPort = nextPort()
    projector = await startService('projector', env, ['--data', data], projectorPort)
    await waitFor(
      async () =>
        (await metric(projectorPort, 'synclog_rows_projected_total')) > 0 &&
        (await metric(projectorPort, 'synclog_consumer_lag{service="projector"')) === 0,
      60_000,
      () => 'restarted projector did not drain',
    )
    projector.kill('SIGTERM')
    processor.kill('SIGTERM')
    await new Promise((r) => projector.once('exit', r))
    expect(await logOf(data)).toEqual(await embeddedReference(dir, [...n1!, ...n2!]))
  })

  it.skipIf(spawnSync('kcat', ['-V']).status !== 0)(
    'writes Confluent-framed records that kcat reads and whose schema id resolves in the registry',
    async () => {
      const dir = await tempDir('kcat')
      const prefix = `e2e-${process.pid}-e.`
      const env = envFor(prefix)
      const [n1] = await twoNights(dir)
      const processorPort = nextPort()
      await startService('processor', env, [], processorPort)
      expect((await synclog(['publish', await ndjson(join(dir, 'n1.ndjson'), n1!)], { env })).code).toBe(0)
      await waitFor(
        async () => (await metric(processorPort, 'synclog_events_processed_total')) >= n1!.length,
        60_000,
        () => 'processor did not finish',
      )
      const kcat = spawnSync(
        'kcat',
        [
          '-C',
          '-b',
          brokers[0]!,
          '-t',
          `${prefix}sync-log`,
          '-o',
          'beginning',
          '-c',
          '1',
          '-e',
          '-q',
          '-X',
          'isolation.level=read_committed',
          '-f',
          '%s',
        ],
        { timeout: 30_000 },
      )
      expect(kcat.status, kcat.stderr.toString()).toBe(0)
      const value = kcat.stdout
      expect(value[0]).toBe(0) // Confluent magic byte
      const schemaId = value.readUInt32BE(1)
      const schema = (await (await fetch(`${registryUrl}/schemas/ids/${schemaId}`)).json()) as { schema: string }
      expect(JSON.parse(schema.schema)).toMatchObject({ name: 'SyncLogEvent' })
    },
  )

  it('sends poison messages to the dead-letter topic with their reason and keeps going', async () => {
    const dir = await tempDir('poison')
    const prefix = `e2e-${process.pid}-c.`
    const env = envFor(prefix)
    const [n1] = await twoNights(dir)
    const metricsPort = nextPort()
    await startService('processor', env, [], metricsPort)
    const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: `${prefix}change-events`, messages: [{ key: 'district-a', value: Buffer.from('not avro at all') }] })
    const orphan: ChangeEvent = {
      type: 'SyncEnded',
      eventId: 'x',
      tenant: 'district-a',
      syncId: 'never-started',
      app: 'sis',
      occurredAt: '2026-10-01T00:00:00.000Z',
    }
    expect((await synclog(['publish', await ndjson(join(dir, 'orphan.ndjson'), [orphan, ...n1!])], { env })).code).toBe(0)
    await producer.disconnect()
    await waitFor(
      async () => (await metric(metricsPort, 'synclog_events_processed_total')) >= n1!.length + 2,
      60_000,
      () => 'processor stalled after poison',
    )

    const reasons: string[] = []
    const consumer = kafka.consumer({ groupId: `dlq-reader-${process.pid}` })
    await consumer.connect()
    await consumer.subscribe({ topic: `${prefix}dead-letter`, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => void reasons.push(message.headers?.['synclog.reason']?.toString() ?? '') })
    await waitFor(
      async () => reasons.length >= 2,
      30_000,
      () => `dead letters: ${reasons.join(' | ')}`,
    )
    await consumer.disconnect()
    expect(reasons.some((r) => /Confluent|magic/i.test(r))).toBe(true)
    expect(reasons.some((r) => r.includes('no SyncStarted for sync never-started'))).toBe(true)
    expect(await metric(metricsPort, 'synclog_dead_letters_total')).toBe(2)
  })
})
