/**
 * Change events and sync-log events as Kafka record values: Avro in the Confluent wire
 * format, schemas in a Confluent-compatible registry (subjects `<topic>-value`, BACKWARD).
 *
 * Reading resolves every record from its writer schema (looked up by the id in the frame,
 * cached for good) to this build's schema, with one avsc resolver per writer id built once;
 * so records written by an older or newer compatible schema read as current events.
 * Unknown ids are remembered for a short while, so a topic full of records from a wiped
 * registry does not cost one HTTP call per record.
 *
 * A record that can never be read throws a DecodeError (its `reason` is meant for the
 * dead-letter headers); a registry that cannot be reached throws a retriable
 * SynclogError: retry, do not dead-letter. `decodeChangeEvents` and
 * `decodeProcessorStates` read a whole batch, asking the registry only for writer
 * schemas not seen yet, then decoding every value without awaiting.
 *
 * Writing encodes here, with the schemas `register` registered (the ids come from the
 * registry, the bytes from the same schema text): no registry call and no await per record.
 */
import type { Type as AvroType } from 'avsc'
import {
  avroTypeFor,
  changeEventFromAvro,
  changeEventSchema,
  changeEventType,
  encodeChangeEvent,
  encodeSyncLogEventInto,
  processorStateSchema,
  processorStateType,
  writeProcessorState,
  syncLogEventFromAvro,
  syncLogEventSchema,
  syncLogEventType,
  AVRO_NAMESPACE,
  type AvroResolver,
} from '../events/avro.js'
import type { ChangeEvent } from '../events/change-event.js'
import type { SyncLogEvent } from '../events/sync-log-event.js'
import { SynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { ConfluentRegistryClient, type RegistryClient } from './registry-client.js'
import type { TopicNames } from './topics.js'
import { DecodeError, FrameScratch, FrameSlab, frame, isDecodeError, unframe } from './wire-format.js'

export { DecodeError, isDecodeError, type DecodeFailure } from './wire-format.js'

export interface AvroSerdeOptions {
  /** Another registry client (tests: an in-memory one). Default: the Confluent REST API at the given URL. */
  readonly client?: RegistryClient
  /** How long an id the registry does not know is answered from memory. Default 30 s. */
  readonly unknownSchemaTtlMs?: number
  /** Clock for the negative cache (tests). */
  readonly now?: () => number
}

export interface RegisteredSchemaIds {
  readonly changeEvent: number
  readonly syncLogEvent: number
  /** Registered when `register` was given the processor-state topic. */
  readonly processorState?: number
}

export type DecodedEvent =
  | { readonly kind: 'change'; readonly event: ChangeEvent; readonly schemaId: number }
  | { readonly kind: 'syncLog'; readonly event: SyncLogEvent; readonly schemaId: number }

/** Subject of a topic's record values (Confluent TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`
}

interface Reader<T> {
  readonly kind: 'change' | 'syncLog' | 'processorState'
  readonly type: AvroType
  readonly what: string
  readonly map: (value: unknown) => T
}

const CHANGE: Reader<ChangeEvent> = { kind: 'change', type: changeEventType, what: 'change event', map: changeEventFromAvro }
const SYNC_LOG: Reader<SyncLogEvent> = { kind: 'syncLog', type: syncLogEventType, what: 'sync-log event', map: syncLogEventFromAvro }
/** Processor-state values stay plain Avro values here; src/stream/changelog-avro.ts maps them. */
const PROCESSOR_STATE: Reader<unknown> = { kind: 'processorState', type: processorStateType, what: 'processor-state entry', map: (v) => v }

const CHANGE_EVENT_NAME = `${AVRO_NAMESPACE}.${changeEventSchema.name}`
const SYNC_LOG_EVENT_NAME = `${AVRO_NAMESPACE}.${syncLogEventSchema.name}`
/** Past this many remembered unknown ids, expired ones are dropped. */
const UNKNOWN_IDS_SWEEP = 1000

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export class AvroSerde {
  private readonly client: RegistryClient
  private readonly log: Logger
  private readonly unknownTtlMs: number
  private readonly now: () => number
  private ids: RegisteredSchemaIds | undefined
  /** Writer types by id: looked up once, kept (a failed lookup is removed again, except an unusable schema). */
  private readonly writers = new Map<number, Promise<AvroType>>()
  /** Resolvers per reader kind and writer id, or why there can be none. */
  private readonly resolvers = new Map<string, AvroResolver | DecodeError>()
  /** Ids the registry does not know, until when to believe it. */
  private readonly unknownUntil = new Map<number, number>()
  /** Where sync-log events are framed. */
  private readonly slab = new FrameSlab()
  /** Where changelog entries (up to hundreds of KiB) are encoded. */
  private readonly scratch = new FrameScratch()

  constructor(registryUrl: string, logger: Logger, options: AvroSerdeOptions = {}) {
    this.client = options.client ?? new ConfluentRegistryClient(registryUrl)
    this.log = logger.child({ component: 'avro-serde' })
    this.unknownTtlMs = options.unknownSchemaTtlMs ?? 30_000
    this.now = options.now ?? Date.now
  }

  /** The ids `register` obtained; undefined before. */
  get schemaIds(): RegisteredSchemaIds | undefined {
    return this.ids
  }

  /**
   * Registers the change-event schema under `<changeEvents>-value` and the sync-log-event
   * schema under `<syncLog>-value` (and, when given, the processor-state schema under
   * `<processorState>-value`), all BACKWARD. Idempotent: the same schemas give the
   * same ids on every start. Needed before encoding; decoding works without it.
   */
  async register(
    topics: Pick<TopicNames, 'changeEvents' | 'syncLog'> & Partial<Pick<TopicNames, 'processorState'>>,
  ): Promise<RegisteredSchemaIds> {
    const changeEvent = await this.client.register(valueSubject(topics.changeEvents), changeEventSchema)
    const syncLogEvent = await this.client.register(valueSubject(topics.syncLog), syncLogEventSchema)
    const subjects = new Map([
      [valueSubject(topics.changeEvents), changeEvent],
      [valueSubject(topics.syncLog), syncLogEvent],
    ])
    let processorState: number | undefined
    if (topics.processorState !== undefined) {
      processorState = await this.client.register(valueSubject(topics.processorState), processorStateSchema)
      subjects.set(valueSubject(topics.processorState), processorState)
    }
    this.ids = { changeEvent, syncLogEvent, processorState }
    this.log.info({ registry: this.client.url, subjects: Object.fromEntries(subjects) }, 'Avro schemas registered')
    return this.ids
  }

  private registered(): RegisteredSchemaIds {
    if (this.ids === undefined) throw new SynclogError('USAGE', 'AvroSerde: call register(topics) before encoding')
    return this.ids
  }

  /** A change event in the Confluent wire format (magic byte, schema id, Avro body). */
  encodeChangeEvent(e: ChangeEvent): Buffer {
    return frame(this.registered().changeEvent, encodeChangeEvent(e))
  }

  /** A sync-log event in the Confluent wire format: a view of a shared slab (see FrameSlab). */
  encodeSyncLogEvent(e: SyncLogEvent): Buffer {
    return this.slab.frame(this.registered().syncLogEvent, (buf, pos) => encodeSyncLogEventInto(e, buf, pos))
  }

  /**
   * A processor-state changelog value (the plain Avro value of `schemas/processor-state.avsc`,
   * as src/stream/changelog-avro.ts builds it) in the Confluent wire format.
   */
  encodeProcessorState(value: unknown): Buffer {
    const id = this.registered().processorState
    if (id === undefined)
      throw new SynclogError('USAGE', 'AvroSerde: call register(topics) with the processor-state topic before encoding its entries')
    try {
      return this.scratch.frame(id, (buf, pos) => writeProcessorState(value, buf, pos))
    } catch (cause) {
      throw new SynclogError('EVENT_REJECTED', `processor-state entry does not fit its Avro schema: ${messageOf(cause)}`, { cause })
    }
  }

  /** Reads a processor-state changelog value back to its plain Avro value (a tombstone is refused with reason `empty`). */
  decodeProcessorState(value: Buffer | null | undefined): Promise<unknown> {
    return this.decodeAs(PROCESSOR_STATE, value)
  }

  /** Reads processor-state changelog values to their plain Avro values; a value that cannot be read comes back as its DecodeError. */
  decodeProcessorStates(values: readonly (Buffer | null | undefined)[]): Promise<(unknown | DecodeError)[]> {
    return this.decodeAllAs(PROCESSOR_STATE, values)
  }

  /** Reads a change-events record value (`null` for a tombstone is refused with reason `empty`). */
  decodeChangeEvent(value: Buffer | null | undefined): Promise<ChangeEvent> {
    return this.decodeAs(CHANGE, value)
  }

  /**
   * Reads change-events record values, in order: each comes back as its event or, when it
   * can never be read, as its DecodeError. Throws (retriable) when the registry does not
   * answer for a writer schema not seen yet.
   */
  decodeChangeEvents(values: readonly (Buffer | null | undefined)[]): Promise<(ChangeEvent | DecodeError)[]> {
    return this.decodeAllAs(CHANGE, values)
  }

  decodeSyncLogEvent(value: Buffer | null | undefined): Promise<SyncLogEvent> {
    return this.decodeAs(SYNC_LOG, value)
  }

  /** Reads sync-log record values, in order, as `decodeChangeEvents` reads change events. */
  decodeSyncLogEvents(values: readonly (Buffer | null | undefined)[]): Promise<(SyncLogEvent | DecodeError)[]> {
    return this.decodeAllAs(SYNC_LOG, values)
  }

  /** Reads a record of either contract, told apart by the writer schema's full name. */
  async decode(value: Buffer | null | undefined): Promise<DecodedEvent> {
    const { schemaId } = unframe(value)
    const writer = await this.writerType(schemaId)
    if (writer.name === CHANGE_EVENT_NAME) return { kind: 'change', event: await this.decodeAs(CHANGE, value), schemaId }
    if (writer.name === SYNC_LOG_EVENT_NAME) return { kind: 'syncLog', event: await this.decodeAs(SYNC_LOG, value), schemaId }
    throw new DecodeError(
      'not-an-event',
      `schema id ${schemaId} is ${writer.name ?? 'an unnamed schema'}, neither ${CHANGE_EVENT_NAME} nor ${SYNC_LOG_EVENT_NAME}`,
      { schemaId },
    )
  }

  private async decodeAs<T>(reader: Reader<T>, value: Buffer | null | undefined): Promise<T> {
    const { schemaId, body } = unframe(value)
    return this.decodeBody(reader, schemaId, body, await this.resolverFor(reader, schemaId))
  }

  private async decodeAllAs<T>(reader: Reader<T>, values: readonly (Buffer | null | undefined)[]): Promise<(T | DecodeError)[]> {
    // The resolver of each writer schema of the batch, or why there is none; awaited once per schema.
    const resolvers = new Map<number, AvroResolver | DecodeError>()
    const out: (T | DecodeError)[] = []
    for (const value of values) {
      try {
        const { schemaId, body } = unframe(value)
        let resolver = resolvers.get(schemaId)
        if (resolver === undefined) {
          resolver = await this.resolverFor(reader, schemaId).catch((e: unknown) => {
            if (isDecodeError(e)) return e
            throw e
          })
          resolvers.set(schemaId, resolver)
        }
        if (resolver instanceof DecodeError) throw resolver
        out.push(this.decodeBody(reader, schemaId, body, resolver))
      } catch (e) {
        if (!isDecodeError(e)) throw e
        out.push(e)
      }
    }
    return out
  }

  private decodeBody<T>(reader: Reader<T>, schemaId: number, body: Buffer, resolver: AvroResolver): T {
    let raw: unknown
    try {
      raw = reader.type.fromBuffer(body, resolver)
    } catch (cause) {
      throw new DecodeError(
        'undecodable',
        `${reader.what} with schema id ${schemaId}: the body (${body.length} bytes) is not Avro of its writer schema: ${messageOf(cause)}`,
        { schemaId, cause },
      )
    }
    try {
      return reader.map(raw)
    } catch (cause) {
      throw new DecodeError(
        'not-an-event',
        `${reader.what} with schema id ${schemaId} is valid Avro but not a known event: ${messageOf(cause)}`,
        { schemaId, cause },
      )
    }
  }

  private async resolverFor(reader: Reader<unknown>, schemaId: number): Promise<AvroResolver> {
    const key = `${reader.kind}:${schemaId}`
    const cached = this.resolvers.get(key)
    if (cached instanceof DecodeError) throw cached
    if (cached !== undefined) return cached
    const writer = await this.writerType(schemaId)
    try {
      const resolver = reader.type.createResolver(writer)
      this.resolvers.set(key, resolver)
      return resolver
    } catch (cause) {
      const error = new DecodeError(
        'schema-unusable',
        `schema id ${schemaId} (${writer.name ?? 'unnamed'}) cannot be read as a ${reader.what}: ${messageOf(cause)}`,
        { schemaId, cause },
      )
      this.resolvers.set(key, error)
      throw error
    }
  }

  private async writerType(schemaId: number): Promise<AvroType> {
    const known = this.writers.get(schemaId)
    if (known !== undefined) return known
    if (schemaId <= 0) {
      throw new DecodeError('schema-unknown', `schema id ${schemaId} cannot exist: registry ids are positive`, { schemaId })
    }
    const until = this.unknownUntil.get(schemaId)
    if (until !== undefined && until > this.now()) {
      throw new DecodeError(
        'schema-unknown',
        `schema id ${schemaId} is unknown to the registry at ${this.client.url} (remembered for ${Math.round(this.unknownTtlMs / 1000)} s)`,
        { schemaId },
      )
    }
    const lookup = this.lookUp(schemaId)
    this.writers.set(schemaId, lookup)
    try {
      return await lookup
    } catch (e) {
      const unusable = isDecodeError(e) && e.reason === 'schema-unusable'
      if (!unusable) this.writers.delete(schemaId)
      if (isDecodeError(e) && e.reason === 'schema-unknown') this.rememberUnknown(schemaId)
      throw e
    }
  }

  private rememberUnknown(schemaId: number): void {
    const now = this.now()
    if (this.unknownUntil.size >= UNKNOWN_IDS_SWEEP) {
      for (const [id, until] of this.unknownUntil) if (until <= now) this.unknownUntil.delete(id)
    }
    this.unknownUntil.set(schemaId, now + this.unknownTtlMs)
    this.log.warn({ schemaId, registry: this.client.url }, 'record written with a schema id the registry does not know')
  }

  private async lookUp(schemaId: number): Promise<AvroType> {
    const { schema, schemaType } = await this.client.schemaById(schemaId)
    const unusable = (detail: string, cause?: unknown): DecodeError =>
      new DecodeError('schema-unusable', `schema id ${schemaId}: ${detail}`, { schemaId, cause })
    if (schemaType.toUpperCase() !== 'AVRO') throw unusable(`a ${schemaType} schema, not Avro`)
    let json: unknown
    try {
      json = JSON.parse(schema)
    } catch (cause) {
      throw unusable(`the registry's schema text is not JSON: ${messageOf(cause)}`, cause)
    }
    if (typeof json !== 'object' || json === null) throw unusable('not an Avro record schema')
    try {
      return avroTypeFor(json)
    } catch (cause) {
      throw unusable(`not a schema avsc can read: ${messageOf(cause)}`, cause)
    }
  }
}
