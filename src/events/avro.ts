/**
 * Avro wire form of the two event contracts.
 *
 * The schemas live in `schemas/*.avsc` (shipped with the package, registered with a
 * schema registry as they are); this module parses each once and maps between the
 * TypeScript events and the plain values avsc reads and writes. The change-event types
 * are generated from the schema, so the mapping is only where the two shapes differ
 * (schema-shape.ts): the payload union versus the `type`/`entity`/`kind` tags, and
 * SyncStarted's modes, where null means absent. Decoding walks the reader schema, so a
 * value that does not fit the contract is refused with `EVENT_REJECTED` (the caller
 * routes it to a dead letter instead of folding it), naming the path of the bad value.
 *
 * Union shape: the types are built with avsc's default `wrapUnions: 'auto'`, which
 * wraps every union avsc cannot tell apart by JS type (the `payload` unions of
 * records: `{ 'synclog.v1.UserChanged': {...} }`) and leaves `["null", X]` unions
 * plain (`null` or the value). That is also what `@kafkajs/confluent-schema-registry`
 * builds by default, so values it decodes feed `*FromAvro` directly. The decoders
 * also accept the wrapped form of optional fields (`{ string: 'x' }`), as produced
 * by a type built with `wrapUnions: true`.
 */
// The schemas are files of this package, read once when the module loads; no I/O happens per event.
import { readFileSync } from 'node:fs'
import avro from 'avsc'
import type { Type as AvroType } from 'avsc'
import { SynclogError } from '../errors.js'
import { ownValue } from '../dict.js'
import { ENTITY_TYPES, type ChangeEvent, type EntityType } from './change-event.js'
import {
  AVRO_NAMESPACE,
  RECORD_CHANGED,
  SPARSE_RECORDS,
  changedRecordName,
  isSchemaObject,
  metaFields,
  namedTypes,
  optionalOf,
  payloadRecords,
  shortName,
  type AvroFieldJson,
  type AvroRecordSchemaJson,
  type SchemaNode,
  type SchemaObject,
} from './schema-shape.js'
import { SYNC_STATUSES, type SyncLogEvent } from './sync-log-event.js'
import { SchemaWriter, type WriteInto } from './avro-writer.js'

export { AVRO_NAMESPACE, type AvroRecordSchemaJson } from './schema-shape.js'

// ---------------------------------------------------------------- schemas and types

function loadSchema(file: string): AvroRecordSchemaJson {
  const url = new URL(`../../schemas/${file}`, import.meta.url)
  const json: unknown = JSON.parse(readFileSync(url, 'utf8'))
  if (
    !isObject(json) ||
    json.type !== 'record' ||
    typeof json.name !== 'string' ||
    json.namespace !== AVRO_NAMESPACE ||
    !Array.isArray(json.fields) ||
    !json.fields.every((f) => isObject(f) && typeof f.name === 'string')
  ) {
    throw new Error(`${url.pathname}: not a record schema in namespace ${AVRO_NAMESPACE}`)
  }
  return json as unknown as AvroRecordSchemaJson
}

/** Raw schema JSON, e.g. `JSON.stringify(changeEventSchema)` for a schema registry. */
export const changeEventSchema: AvroRecordSchemaJson = loadSchema('change-event.avsc')
export const syncLogEventSchema: AvroRecordSchemaJson = loadSchema('sync-log-event.avsc')
/** Values of the processor's state changelog (mapped in src/stream/changelog-avro.ts). */
export const processorStateSchema: AvroRecordSchemaJson = loadSchema('processor-state.avsc')

type ForSchemaInput = Parameters<typeof avro.Type.forSchema>[0]
/** Build an avsc type the same way this module does (e.g. for an older or newer writer schema). */
export function avroTypeFor(schema: object): AvroType {
  return avro.Type.forSchema(schema as ForSchemaInput, { wrapUnions: 'auto' })
}

export const changeEventType: AvroType = avroTypeFor(changeEventSchema)
export const syncLogEventType: AvroType = avroTypeFor(syncLogEventSchema)
export const processorStateType: AvroType = avroTypeFor(processorStateSchema)

/** Writes a processor-state value (the plain Avro value src/stream/changelog-avro.ts builds), as avsc's `processorStateType.encode`. */
export const writeProcessorState: WriteInto<unknown> = new SchemaWriter(processorStateSchema).root(processorStateSchema)

/** A resolver from `reader.createResolver(writer)`: build it once per writer schema. */
export type AvroResolver = ReturnType<AvroType['createResolver']>

// ---------------------------------------------------------------- reading a value along its schema

type Obj = Readonly<Record<string, unknown>>

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v)
}

function reject(path: string, expected: string, got: unknown): SynclogError {
  const shown = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got
  return new SynclogError('EVENT_REJECTED', `Avro value at ${path}: expected ${expected}, got ${shown}`)
}

function obj(v: unknown, path: string): Obj {
  if (!isObject(v)) throw reject(path, 'a record', v)
  return v
}

/** A wrapped union value `{ 'synclog.v1.Name': body }` → `['Name', body]`. */
function branchOf(v: unknown, path: string): readonly [string, unknown] {
  const o = obj(v, path)
  const keys = Object.keys(o)
  const key = keys[0]
  if (keys.length !== 1 || key === undefined) throw reject(path, 'a wrapped union value with one branch', v)
  return [shortName(key), ownValue(o, key)]
}

/**
 * Strings the schema leaves open but the TypeScript type narrows, by `Record.field`. `action`
 * and `outcome` are not here on purpose: a newer synclog's values are kept as they are.
 */
const NARROWED: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['LogRow.entity', ['', ...ENTITY_TYPES]],
  ['SyncStatusChanged.status', SYNC_STATUSES],
])

/** Reads one value; `parent` and `key` make its path, joined only for a nested value or an error. */
type Read = (v: unknown, parent: string, key: string) => unknown

/** Reads a record's fields into `target`, after whatever it already holds. */
type Fill = (target: Record<string, unknown>, v: unknown, parent: string, key: string) => void

function pathOf(parent: string, key: string): string {
  return key === '' ? parent : `${parent}.${key}`
}

/** Sets a field named by the schema file (never a name read from input) on a value being built. */
function put(o: Record<string, unknown>, name: string, value: unknown): void {
  // A plain assignment: building records with Object.fromEntries made every message several times slower.
  // eslint-disable-next-line synclog/no-id-keyed-objects -- `name` is a field name of schemas/*.avsc, not input
  o[name] = value
}

function check(ok: boolean, v: unknown, parent: string, key: string, expected: string): unknown {
  if (!ok) throw reject(pathOf(parent, key), expected, v)
  return v
}

/** A payload union's value: which record it is, and the record's value. */
interface Payload {
  readonly name: string
  readonly body: unknown
  readonly record: SchemaObject
}

/** Names a generated field access would read from Object.prototype (`__proto__` among them). */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype))

/**
 * Reads a value avsc decoded (or any value of that shape) along the reader schema: checks
 * every value, unwraps wrapped optional unions, leaves null members of sparse records out.
 * The schema is compiled into one reader function per node once, so a message costs no
 * schema walk.
 */
class SchemaReader {
  private readonly named: ReadonlyMap<string, SchemaObject>
  private readonly records = new Map<string, Fill>()

  constructor(schema: AvroRecordSchemaJson) {
    this.named = namedTypes(schema)
  }

  /** A payload value (a wrapped union of event records): the record's name, its value and its schema. */
  payload(v: unknown, path: string): Payload {
    const [name, body] = branchOf(v, path)
    const record = this.named.get(name)
    if (record === undefined || record.type !== 'record') throw reject(path, 'a known event record', name)
    return { name, body, record }
  }

  /**
   * Reads the fields of a payload record into `target` (the event being built, which
   * already holds its tags and metadata): straight into the event, with no record read
   * first and spread into it.
   */
  fillPayload(target: Record<string, unknown>, payload: Payload, path: string): void {
    this.filler(payload.record)(target, payload.body, `${path}<${payload.name}>`, '')
  }

  /** Reads the named fields of a top-level record into `target`. */
  fields(fields: readonly AvroFieldJson[]): Fill {
    return this.compileRecord({ type: 'record', name: '', fields: [...fields] })
  }

  private filler(record: SchemaObject): Fill {
    const name = shortName(record.name ?? '')
    let fill = this.records.get(name)
    if (fill === undefined) {
      fill = this.compileRecord(record)
      this.records.set(name, fill)
    }
    return fill
  }

  /** A nested record's value, read into an object of its own. */
  private readRecord(record: SchemaObject, v: unknown, parent: string, key: string): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    this.filler(record)(out, v, parent, key)
    return out
  }

  private compile(node: SchemaNode): Read {
    if (typeof node === 'string') {
      switch (node) {
        case 'null':
          return (v, p, k) => check(v === null, v, p, k, 'null')
        case 'string':
          return (v, p, k) => check(typeof v === 'string', v, p, k, 'a string')
        case 'int':
        case 'long':
          return (v, p, k) => check(typeof v === 'number' && Number.isSafeInteger(v), v, p, k, 'an integer')
        case 'boolean':
          return (v, p, k) => check(typeof v === 'boolean', v, p, k, 'true or false')
        default: {
          const named = this.named.get(shortName(node))
          if (named === undefined) throw new Error(`schema: unknown type ${node}`)
          return named.type === 'record' ? (v, p, k) => this.readRecord(named, v, p, k) : this.compile(named)
        }
      }
    }
    if (Array.isArray(node)) return this.compileOptional(node as readonly SchemaNode[])
    const o = node as SchemaObject
    switch (o.type) {
      case 'record':
        return (v, p, k) => this.readRecord(o, v, p, k)
      case 'enum':
        return this.compileSymbol(o.symbols ?? [])
      case 'array': {
        const item = this.compile(o.items ?? 'null')
        return (v, p, k) => {
          if (!Array.isArray(v)) throw reject(pathOf(p, k), 'an array', v)
          const path = pathOf(p, k)
          return v.map((x: unknown, i) => item(x, path, String(i)))
        }
      }
      case 'map': {
        const value = this.compile(o.values ?? 'null')
        return (v, p, k) => {
          const path = pathOf(p, k)
          // Map keys are data (metadata names): fromEntries defines own properties, so '__proto__' stays an entry.
          return Object.fromEntries(Object.entries(obj(v, path)).map(([key, x]) => [key, value(x, path, key)]))
        }
      }
      default:
        return this.compile(o.type)
    }
  }

  /**
   * A record's fields, read into the target by a function generated for the record: each
   * field is a property read and write with a constant name, which V8 compiles to a direct
   * slot access (a loop over the field names made every access a dictionary lookup, most
   * of the cost of decoding an event). The names come from the schema files, never from input.
   */
  private compileRecord(o: SchemaObject): Fill {
    const name = shortName(o.name ?? '')
    const sparse = SPARSE_RECORDS.has(name)
    const reads: Read[] = []
    const fallbacks: unknown[] = []
    const lines: string[] = []
    for (const [i, f] of (o.fields ?? []).entries()) {
      if (PROTOTYPE_NAMES.has(f.name)) throw new Error(`schema: field ${name}.${f.name} is named like an Object.prototype member`)
      const read = this.compile(f.type)
      const allowed = NARROWED.get(`${name}.${f.name}`)
      reads.push(allowed === undefined ? read : this.narrowed(read, allowed))
      fallbacks.push(f.default)
      const key = JSON.stringify(f.name)
      lines.push(`x = v[${key}];`)
      // As when avsc encodes: a field left out takes its default.
      if ('default' in f) lines.push(`if (x === undefined) x = fallbacks[${i}];`)
      lines.push(`x = reads[${i}](x, path, ${key});`)
      lines.push(sparse ? `if (x !== null) out[${key}] = x;` : `out[${key}] = x;`)
    }
    const source = [
      'return function fill(out, v, p, k) {',
      "const path = k === '' ? p : p + '.' + k;",
      "if (!isObject(v)) throw reject(path, 'a record', v);",
      'let x;',
      ...lines,
      '}',
    ].join('\n')
    const make = new Function('reads', 'fallbacks', 'isObject', 'reject', source) as (
      reads: readonly Read[],
      fallbacks: readonly unknown[],
      isObjectOf: typeof isObject,
      rejectOf: typeof reject,
    ) => Fill
    return make(reads, fallbacks, isObject, reject)
  }

  /** `["null", X]`: null, X's value, or X's value wrapped (`{ X: value }`, `wrapUnions: true`). */
  private compileOptional(node: readonly SchemaNode[]): Read {
    const inner = optionalOf(node)
    if (inner === undefined) throw new Error(`schema: only ["null", X] unions outside payload, got ${JSON.stringify(node)}`)
    const read = this.compile(inner)
    const branch = shortName(typeof inner === 'string' ? inner : isSchemaObject(inner) && inner.name !== undefined ? inner.name : '')
    return (v, p, k) => {
      if (v === null) return null
      if (isObject(v)) {
        const keys = Object.keys(v)
        if (keys.length === 1 && keys[0] !== undefined && shortName(keys[0]) === branch) return read(ownValue(v, keys[0]), p, k)
      }
      return read(v, p, k)
    }
  }

  private compileSymbol(allowed: readonly string[]): Read {
    const set: ReadonlySet<unknown> = new Set(allowed)
    const expected = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`
    return (v, p, k) => check(set.has(v), v, p, k, expected)
  }

  private narrowed(read: Read, allowed: readonly string[]): Read {
    const symbol = this.compileSymbol(allowed)
    return (v, p, k) => symbol(read(v, p, k), p, k)
  }
}

function wrap(name: string, body: object): Record<string, object> {
  return { [`${AVRO_NAMESPACE}.${name}`]: body }
}

// ---------------------------------------------------------------- change events

const changeReader = new SchemaReader(changeEventSchema)
const META = metaFields(changeEventSchema)
const META_NAMES: ReadonlySet<string> = new Set(META.map((f) => f.name))
const fillMeta = changeReader.fields(META)
const ENTITY_BY_RECORD: ReadonlyMap<string, EntityType> = new Map(ENTITY_TYPES.map((e) => [changedRecordName(e), e]))
const RECORD_OF_ENTITY = Object.fromEntries(ENTITY_TYPES.map((e) => [e, changedRecordName(e)])) as { readonly [E in EntityType]: string }

/** Field names of each payload record, by the `type` (or, for RecordChanged, the entity) they carry. */
const PAYLOAD_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(
  payloadRecords(changeEventSchema).map((r) => [shortName(r.name ?? ''), (r.fields ?? []).map((f) => f.name)]),
)

/** The plain value avsc encodes with `changeEventType` (fields the schema gives a default may be left out). */
export function changeEventToAvro(e: ChangeEvent): unknown {
  const source = e as unknown as Obj
  const meta: Record<string, unknown> = {}
  for (const name of META_NAMES) put(meta, name, ownValue(source, name))
  const record = e.type === RECORD_CHANGED ? RECORD_OF_ENTITY[e.entity] : e.type
  const body: Record<string, unknown> = {}
  for (const name of PAYLOAD_FIELDS.get(record) ?? []) {
    const value = ownValue(source, name)
    // One level copied (fields, modes, metadata, source), so that changing the Avro value leaves the event as it was.
    put(body, name, isObject(value) ? { ...value } : value)
  }
  meta.payload = wrap(record, body)
  return meta
}

/** A value decoded with `changeEventType` (or any reader of the same shape) → ChangeEvent. */
export function changeEventFromAvro(v: unknown): ChangeEvent {
  const path = 'ChangeEvent'
  // One object, in the order type, metadata, entity, payload fields; the type is set once the payload is known.
  const event: Record<string, unknown> = { type: RECORD_CHANGED }
  fillMeta(event, v, path, '')
  const payload = changeReader.payload(obj(v, path).payload, `${path}.payload`)
  const entity = ENTITY_BY_RECORD.get(payload.name)
  if (entity === undefined) event.type = payload.name
  else event.entity = entity
  changeReader.fillPayload(event, payload, `${path}.payload`)
  // The reader checked every value against the schema the ChangeEvent types are generated from.
  return event as unknown as ChangeEvent
}

// ---------------------------------------------------------------- sync-log events

const syncLogReader = new SchemaReader(syncLogEventSchema)

/** The plain value avsc encodes with `syncLogEventType`. */
export function syncLogEventToAvro(e: SyncLogEvent): unknown {
  // The event is its own payload record: avsc writes a record's schema fields and reads no
  // other property, so `kind` needs no copy without it.
  return { payload: wrap(e.kind, e) }
}

/** A value decoded with `syncLogEventType` → SyncLogEvent. */
export function syncLogEventFromAvro(v: unknown): SyncLogEvent {
  const path = 'SyncLogEvent'
  const payload = syncLogReader.payload(obj(v, path).payload, `${path}.payload`)
  const event: Record<string, unknown> = { kind: payload.name }
  syncLogReader.fillPayload(event, payload, `${path}.payload`)
  // The reader checked every value against the schema (and the narrowed strings above).
  return event as unknown as SyncLogEvent
}

// ---------------------------------------------------------------- binary encoding

/** Runs an encoding; a value that does not fit its schema is refused as EVENT_REJECTED naming `what`. */
function encodeWith<T>(what: string, encode: () => T): T {
  try {
    return encode()
  } catch (cause) {
    throw new SynclogError('EVENT_REJECTED', `${what} does not fit its Avro schema: ${String(cause)}`, { cause })
  }
}

function decodeWith(type: AvroType, buf: Buffer, resolver: AvroResolver | undefined, what: string): unknown {
  try {
    const value: unknown = type.fromBuffer(buf, resolver)
    return value
  } catch (cause) {
    throw new SynclogError('EVENT_REJECTED', `${what} is not readable Avro: ${String(cause)}`, { cause })
  }
}

/** Avro binary (no registry framing) of a change event. */
export function encodeChangeEvent(e: ChangeEvent): Buffer {
  return encodeWith(`change event ${e.eventId}`, () => changeEventType.toBuffer(changeEventToAvro(e)))
}

/** Read a change event; pass `changeEventType.createResolver(writerType)` for bytes written with another schema version. */
export function decodeChangeEvent(buf: Buffer, resolver?: AvroResolver): ChangeEvent {
  return changeEventFromAvro(decodeWith(changeEventType, buf, resolver, 'change event'))
}

/** Sync-log events are written by a writer compiled from the schema (avro-writer.ts): the same bytes as avsc's, faster. */
const writeSyncLogEvent = new SchemaWriter(syncLogEventSchema).unionOfRecords<SyncLogEvent>(
  syncLogEventSchema.fields.find((f) => f.name === 'payload')?.type as readonly SchemaNode[],
  (e) => e.kind,
)

/** Where `encodeSyncLogEvent` writes before copying out; grows to the largest event seen. */
let scratch = Buffer.allocUnsafeSlow(4096)

export function encodeSyncLogEvent(e: SyncLogEvent): Buffer {
  return encodeWith(`sync-log event (${e.kind})`, () => {
    for (;;) {
      const end = writeSyncLogEvent(e, scratch, 0)
      if (end >= 0) return Buffer.from(scratch.subarray(0, end))
      scratch = Buffer.allocUnsafeSlow(2 * (scratch.length - end))
    }
  })
}

/** Writes a sync-log event's Avro binary into `buf` at `pos` (see `EncodeInto` in src/kafka/wire-format.ts). */
export function encodeSyncLogEventInto(e: SyncLogEvent, buf: Buffer, pos: number): number {
  return encodeWith(`sync-log event (${e.kind})`, () => writeSyncLogEvent(e, buf, pos))
}

export function decodeSyncLogEvent(buf: Buffer, resolver?: AvroResolver): SyncLogEvent {
  return syncLogEventFromAvro(decodeWith(syncLogEventType, buf, resolver, 'sync-log event'))
}
