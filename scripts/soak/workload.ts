/**
 * The soak's workload and its two producers. Each tenant is a demo district (src/demo/,
 * its own seed) with two nights, each night one full sync read from its OneRoster files.
 * Some nights are published by `synclog publish` (kafkajs, its default partitioner: murmur2
 * of the key, as Java clients do), others by a librdkafka producer
 * (test/support/librdkafka-producer.ts: Debian's python3-confluent-kafka with librdkafka's
 * default partitioner, consistent_random: CRC32 of the key), and some tenants get one night
 * from each, so their two syncs arrive on different partitions.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { encodeChangeEvent } from '../../src/events/avro.js'
import { frame } from '../../src/kafka/wire-format.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { readOneRosterBundle } from '../../src/oneroster/read-bundle.js'
import { CONFLUENT_KAFKA_MISSING, HAS_CONFLUENT_KAFKA, produceWithLibrdkafka } from '../../test/support/librdkafka-producer.js'
import { CLI } from './fleet.js'

const run = promisify(execFile)

export type Producer = 'kafkajs' | 'librdkafka'

export interface Night {
  readonly tenant: string
  readonly night: 1 | 2
  readonly producer: Producer
  readonly events: readonly ChangeEvent[]
}

/** Whether the librdkafka producer can run; the message says how to install it. */
export function checkLibrdkafka(): void {
  if (!HAS_CONFLUENT_KAFKA) throw new Error(CONFLUENT_KAFKA_MISSING)
}

/**
 * `tenants` districts, two nights each. Tenant i publishes night 1 with kafkajs when i is
 * even, else with librdkafka; every third tenant switches producers for night 2.
 */
export async function buildWorkload(dir: string, tenants: number, seed: number, schoolYear: number): Promise<Night[]> {
  const nights: Night[] = []
  for (let i = 0; i < tenants; i++) {
    const tenant = `district-${String(i + 1).padStart(2, '0')}`
    const { night1, night2 } = generateDemoNights({ seed: seed * 1000 + i, schoolYear })
    const first: Producer = i % 2 === 0 ? 'kafkajs' : 'librdkafka'
    const second: Producer = i % 3 === 0 ? (first === 'kafkajs' ? 'librdkafka' : 'kafkajs') : first
    for (const [night, tables, producer] of [
      [1, night1, first],
      [2, night2, second],
    ] as const) {
      const path = join(dir, tenant, `night${night}`)
      await writeOneRosterBundle(path, tables)
      const events: ChangeEvent[] = []
      for await (const e of readOneRosterBundle({
        path,
        tenant,
        syncId: `${tenant}-night-${night}`,
        occurredAt: `2026-10-0${night}T02:00:00.000Z`,
      }))
        events.push(e)
      nights.push({ tenant, night, producer, events })
    }
  }
  return nights
}

/** Writes events one JSON per line (what `synclog publish` and `synclog ingest` read). */
export async function writeNdjson(path: string, events: readonly ChangeEvent[]): Promise<string> {
  await writeFile(path, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
  return path
}

/** Publishes with `synclog publish` (kafkajs). */
export async function publishWithKafkajs(file: string, env: Readonly<Record<string, string>>): Promise<void> {
  await run(process.execPath, [CLI, 'publish', file], { env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...env }, timeout: 300_000 })
}

/** Publishes with librdkafka (test/support/librdkafka-producer.ts): the events framed here with the registry's id of the topic's schema, keyed by tenant, librdkafka's default partitioner. */
export async function publishWithLibrdkafka(
  events: readonly ChangeEvent[],
  brokers: string,
  registryUrl: string,
  topic: string,
): Promise<void> {
  const r = await fetch(`${registryUrl}/subjects/${encodeURIComponent(`${topic}-value`)}/versions/latest`)
  if (!r.ok) throw new Error(`the registry has no schema for ${topic} yet (HTTP ${r.status})`)
  const { id } = (await r.json()) as { id: number }
  await produceWithLibrdkafka(
    [brokers],
    topic,
    events.map((e) => ({ key: e.tenant, value: frame(id, encodeChangeEvent(e)) })),
  )
}
