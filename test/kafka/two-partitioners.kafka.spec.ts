/**
 * A district whose SIS changed producers between two nights: night 1 published by
 * `synclog publish` (kafkajs, murmur2 of the tenant), night 2 by a librdkafka producer with
 * its default partitioner (CRC32), which puts the tenant on another partition. The
 * processor forwards night 2 to the tenant's partition and folds it against night 1's
 * state: the log equals the embedded `synclog ingest` of the same two nights, as if one
 * producer had sent both.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { AvroSerde } from '../../src/kafka/avro-serde.js'
import { tenantPartition } from '../../src/kafka/tenant-partition.js'
import { topicNames } from '../../src/kafka/topics.js'
import { silentLogger } from '../support/silent-logger.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { CONFLUENT_KAFKA_MISSING, HAS_CONFLUENT_KAFKA, publishWithLibrdkafka } from '../support/librdkafka-producer.js'
import { serviceEndpoints } from '../support/services.js'
import { ndjson, nightEvents, startStreamServe, waitFor } from '../support/stream-events.js'

const { brokers, registryUrl } = serviceEndpoints()
const PARTITIONS = 4
const TENANT = 'district-a'
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** `synclog log` of everything, one JSON text per row, sorted. */
async function logOf(data: string): Promise<string[]> {
  const run = await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', '--data', data])
  expect(run.code, run.stderr).toBe(0)
  return jsonLines(run.stdout)
    .map((r) => JSON.stringify(r))
    .sort()
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
}

async function syncStatus(data: string, syncId: string): Promise<string | undefined> {
  const run = await synclog(['syncs', '--format', 'json', '--from', '2000-01-01', '--data', data])
  if (run.code !== 0) return undefined
  return (JSON.parse(run.stdout) as { syncId: string; status: string }[]).find((s) => s.syncId === syncId)?.status
}

describe.skipIf(!HAS_CONFLUENT_KAFKA)(
  `a tenant published with two different partitioners${HAS_CONFLUENT_KAFKA ? '' : ` (${CONFLUENT_KAFKA_MISSING})`}`,
  () => {
    it('gives the same log as with one', async () => {
      const dir = await tempDir('two-partitioners')
      cleanup.push(() => rm(dir, { recursive: true, force: true }))
      const prefix = `two-partitioners-${process.pid}-${Date.now()}.`
      const env = {
        SYNCLOG_KAFKA_BROKERS: brokers.join(','),
        SYNCLOG_REGISTRY_URL: registryUrl,
        SYNCLOG_TOPIC_PREFIX: prefix,
        SYNCLOG_TOPIC_PARTITIONS: String(PARTITIONS),
      }
      const { night1, night2 } = generateDemoNights({ seed: 21, schoolYear: currentSchoolYear(new Date()) })
      await writeOneRosterBundle(join(dir, 'night1'), night1)
      await writeOneRosterBundle(join(dir, 'night2'), night2)
      const first: ChangeEvent[] = await nightEvents(dir, 1, 'night-1', TENANT)
      const second: ChangeEvent[] = await nightEvents(dir, 2, 'night-2', TENANT)

      // The reference: one process folding both nights in order.
      const reference = join(dir, 'reference')
      const ingest = await synclog(['ingest', await ndjson(join(dir, 'both.ndjson'), [...first, ...second]), '--data', reference])
      expect(ingest.code, ingest.stderr).toBe(0)
      const expected = await logOf(reference)

      const data = join(dir, 'streamed')
      const { serve, metricsPort } = await startStreamServe(data, env, `two-partitioners-${process.pid}`)
      cleanup.push(() => serve.stop(60_000))

      // Night 1: synclog publish (kafkajs), into the tenant's own partition.
      const published = await synclog(['publish', await ndjson(join(dir, 'night1.ndjson'), first)], { env })
      expect(published.code, published.stderr).toBe(0)
      await waitFor(
        async () => (await syncStatus(data, 'night-1')) === 'Completed',
        90_000,
        () => `night 1 never completed:\n${serve.stderr()}`,
      )

      // Night 2: librdkafka's default partitioner, another partition for this tenant.
      const serde = new AvroSerde(registryUrl, silentLogger())
      await serde.register(topicNames({ topicPrefix: prefix }))
      const delivered = await publishWithLibrdkafka(brokers, serde, topicNames({ topicPrefix: prefix }).changeEvents, second)
      const owner = tenantPartition(TENANT, PARTITIONS)
      expect(new Set(delivered.map((d) => d.partition)).has(owner)).toBe(false)

      await waitFor(
        async () => !['Running', undefined].includes(await syncStatus(data, 'night-2')),
        120_000,
        () => `night 2 never finished:\n${serve.stderr()}`,
      )
      expect(await logOf(data)).toEqual(expected)
      expect(await metric(metricsPort, 'synclog_events_forwarded_total')).toBeGreaterThanOrEqual(second.length)
      expect(await metric(metricsPort, 'synclog_dead_letters_total')).toBe(0)
    })
  },
)
