/**
 * A SIS producer that is not Node: librdkafka through Debian's python3-confluent-kafka
 * (test/support/librdkafka_produce.py), with librdkafka's own partitioner. The change
 * events are Avro in the Confluent wire format, encoded here with synclog's serde and the
 * id the registry gave the change-event schema, so the bytes are what a Confluent
 * serializer writes; only the partitioner differs from `synclog publish`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { AvroSerde } from '../../src/kafka/avro-serde.js'
import { PYTHON } from './dangerous-cells.js'

const PRODUCER = resolve(import.meta.dirname, 'librdkafka_produce.py')

export const HAS_CONFLUENT_KAFKA = spawnSync(PYTHON, ['-c', 'import confluent_kafka'], { stdio: 'ignore' }).status === 0
export const CONFLUENT_KAFKA_MISSING =
  "Debian's python3-confluent-kafka is needed for the librdkafka producer tests: apt-get install python3-confluent-kafka"

/**
 * librdkafka's `partitioner` setting: `consistent_random` is its default (CRC32 of the key),
 * `murmur2_random` the Java client's (and kafkajs's DefaultPartitioner's).
 */
export type LibrdkafkaPartitioner = 'consistent_random' | 'murmur2_random' | 'murmur2' | 'consistent' | 'fnv1a_random'

export interface LibrdkafkaRecord {
  readonly key: string
  readonly value: Buffer
}

export interface Delivered {
  readonly key: string
  readonly partition: number
  readonly offset: number
}

/**
 * Produces `records` in order to `topic` with librdkafka (idempotent, acks=all) and resolves
 * with where each one landed, in input order. `partitioner` undefined: librdkafka's default.
 */
export function produceWithLibrdkafka(
  brokers: readonly string[],
  topic: string,
  records: readonly LibrdkafkaRecord[],
  partitioner?: LibrdkafkaPartitioner,
): Promise<Delivered[]> {
  return new Promise((done, fail) => {
    const child = spawn(PYTHON, [PRODUCER, brokers.join(','), topic, partitioner ?? ''], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 120_000,
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.on('error', fail)
    child.on('close', (code, signal) => {
      if (code !== 0) return fail(new Error(`librdkafka_produce.py to ${topic} failed (${signal ?? `exit ${code}`}): ${err}`))
      done(
        out
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Delivered),
      )
    })
    child.stdin.end(records.map((r) => `${JSON.stringify({ key: r.key, value: r.value.toString('base64') })}\n`).join(''))
  })
}

/**
 * Publishes change events as a librdkafka SIS producer would: key = tenant, value = the
 * event in the Confluent wire format with the registered schema id (`serde` must have
 * registered the topics' schemas), librdkafka's default partitioner unless told otherwise.
 */
export async function publishWithLibrdkafka(
  brokers: readonly string[],
  serde: Pick<AvroSerde, 'encodeChangeEvent'>,
  topic: string,
  events: readonly ChangeEvent[],
  partitioner?: LibrdkafkaPartitioner,
): Promise<Delivered[]> {
  const records: LibrdkafkaRecord[] = []
  for (const e of events) records.push({ key: e.tenant, value: await serde.encodeChangeEvent(e) })
  return produceWithLibrdkafka(brokers, topic, records, partitioner)
}
