/**
 * A SIS's own producer of synclog change events, in Node, with the libraries synclog uses
 * (kafkajs and @kafkajs/confluent-schema-registry). It reads change events in their JSON
 * form (one per line, as `synclog ingest` reads them; see docs/stream-mode.md, "The event
 * contract for SIS producers"), maps each to the Avro schema schemas/change-event.avsc and
 * publishes it, keyed by tenant, in the Confluent wire format with the id the registry gave
 * the schema.
 *
 *     SYNCLOG_KAFKA_BROKERS=127.0.0.1:19092 \
 *     SYNCLOG_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7 \
 *     npx tsx examples/node-producer.ts events.ndjson
 *
 * synclog registers the schema under `<prefix>change-events-value` when a stream service or
 * `synclog publish` starts; run one of them once before. The test
 * test/kafka/node-producer-example.kafka.spec.ts runs this file against a real broker and
 * registry.
 */
import { readFileSync } from 'node:fs'
import kafkajs from 'kafkajs'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'

// kafkajs is CommonJS: Node's ESM loader sees only its default export.
const { Kafka, Partitioners } = kafkajs

type Entity = 'org' | 'academicSession' | 'course' | 'user' | 'class' | 'enrollment'

interface Meta {
  readonly eventId: string
  readonly tenant: string
  readonly syncId: string
  readonly app: string
  /** ISO-8601 instant, UTC. */
  readonly occurredAt: string
}

/** The JSON form of the change events this producer sends (the contract has a few more kinds). */
type SisEvent = Meta & (
  | { readonly type: 'SyncStarted'; readonly modes: Partial<Record<Entity, 'full' | 'delta'>> }
  | { readonly type: 'SyncEnded' }
  | { readonly type: 'SyncFailed'; readonly reason: string }
  | {
    readonly type: 'RecordChanged'
    readonly entity: Entity
    readonly sourcedId: string
    readonly op: 'upsert' | 'delete'
    readonly dateLastModified: string | null
    /** The entity's OneRoster fields; a field left out is null (or an empty list). */
    readonly fields: Readonly<Record<string, string | readonly string[] | null>>
    readonly metadata?: Readonly<Record<string, string>>
    readonly source?: { readonly file: string; readonly line: number } | null
  }
)

/** The payload branch (an Avro record of namespace synclog.v1) of each record change. */
const RECORD_CHANGED: Readonly<Record<Entity, string>> = {
  org: 'OrgChanged',
  academicSession: 'AcademicSessionChanged',
  course: 'CourseChanged',
  user: 'UserChanged',
  class: 'ClassChanged',
  enrollment: 'EnrollmentChanged',
}

/**
 * The Avro value of an event. `payload` is a union of records, so its value names its
 * branch: `{ "synclog.v1.SyncStarted": {...} }`; optional fields are plain values or null.
 */
function toAvro(e: SisEvent): object {
  const meta = { eventId: e.eventId, tenant: e.tenant, syncId: e.syncId, app: e.app, occurredAt: e.occurredAt }
  const branch = (name: string, body: object): object => ({ ...meta, payload: { [`synclog.v1.${name}`]: body } })
  switch (e.type) {
    case 'SyncStarted': return branch('SyncStarted', { modes: e.modes })
    case 'SyncEnded': return branch('SyncEnded', {})
    case 'SyncFailed': return branch('SyncFailed', { reason: e.reason })
    case 'RecordChanged': return branch(RECORD_CHANGED[e.entity], {
      sourcedId: e.sourcedId,
      op: e.op,
      dateLastModified: e.dateLastModified,
      fields: e.fields,
      metadata: e.metadata ?? {},
      source: e.source ?? null,
    })
  }
}

async function main(file: string): Promise<void> {
  const brokers = (process.env.SYNCLOG_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',')
  const registryUrl = process.env.SYNCLOG_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7'
  const topic = `${process.env.SYNCLOG_TOPIC_PREFIX ?? 'synclog.'}change-events`
  const events = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as SisEvent)

  const registry = new SchemaRegistry({ host: registryUrl })
  const schemaId = await registry.getLatestSchemaId(`${topic}-value`)
  // Key = tenant and the Java client's partitioner (murmur2): a tenant's events stay in order
  // in the partition synclog folds it in. Idempotent, one request in flight, acks from all
  // in-sync replicas: a retried send is neither duplicated nor reordered.
  const producer = new Kafka({ clientId: 'sis-producer', brokers }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  try {
    const messages = []
    for (const e of events) messages.push({ key: e.tenant, value: await registry.encode(schemaId, toAvro(e)) })
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) })
    }
  } finally {
    await producer.disconnect()
  }
  console.log(`published ${events.length} events to ${topic} with schema id ${schemaId}`)
}

const file = process.argv[2]
if (file === undefined) {
  console.error('usage: node-producer.ts <events.ndjson>')
  process.exit(2)
}
main(file).catch((e: unknown) => {
  console.error(`node-producer: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
})
