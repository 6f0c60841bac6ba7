/**
 * Avro wire form of the two event contracts.
 *
 * The schemas live in `schemas/*.avsc` (shipped with the package, registered with a
 * schema registry as they are); this module parses each once and maps between the
 * TypeScript events and the plain values avsc reads and writes. The mappers are pure
 * and total: a decoded value that does not fit the contract is refused with
 * `EVENT_REJECTED`, so the caller can route it to a dead letter instead of folding it.
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
import {
  ENTITY_FIELD_NAMES, ENTITY_TYPES, LIST_FIELDS,
  type ChangeEvent, type EntityFieldsMap, type EntityType, type RecordChanged, type RecordOp,
  type SourcePosition, type SyncMode,
} from './change-event.js'
import {
  SYNC_STATUSES, type LogRow, type OutcomeCounts, type SyncCounts, type SyncLogEvent, type SyncStatusChanged,
} from './sync-log-event.js'

// ---------------------------------------------------------------- schemas and types

/** The JSON of a top-level Avro record schema, as stored in `schemas/*.avsc`. */
export interface AvroRecordSchemaJson {
  readonly type: 'record'
  readonly name: string
  readonly namespace: string
  readonly doc?: string
  readonly fields: readonly AvroFieldJson[]
}

export interface AvroFieldJson {
  readonly name: string
  readonly type: unknown
  readonly default?: unknown
  readonly doc?: string
}

/** Namespace of every named type in both schemas. */
export const AVRO_NAMESPACE = 'synclog.v1'

function loadSchema(file: string): AvroRecordSchemaJson {
  const url = new URL(`../../schemas/${file}`, import.meta.url)
  const json: unknown = JSON.parse(readFileSync(url, 'utf8'))
  if (!isObject(json) || json.type !== 'record' || typeof json.name !== 'string' || json.namespace !== AVRO_NAMESPACE
    || !Array.isArray(json.fields) || !json.fields.every((f) => isObject(f) && typeof f.name === 'string')) {
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

/** A resolver from `reader.createResolver(writer)`: build it once per writer schema. */
export type AvroResolver = ReturnType<AvroType['createResolver']>

// ---------------------------------------------------------------- narrowing helpers (the Avro edge)

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

function str(o: Obj, key: string, path: string): string {
  const v = ownValue(o, key)
  if (typeof v !== 'string') throw reject(`${path}.${key}`, 'a string', v)
  return v
}

/** The value of a `["null", X]` union: plain (`wrapUnions: 'auto'`) or wrapped (`{ X: v }`). */
function optional(v: unknown, branch: string): unknown {
  if (isObject(v)) {
    const keys = Object.keys(v)
    if (keys.length === 1 && (keys[0] === branch || keys[0] === `${AVRO_NAMESPACE}.${branch}`)) return ownValue(v, keys[0])
  }
  return v
}

function optStr(o: Obj, key: string, path: string): string | null {
  const v = optional(ownValue(o, key), 'string')
  if (v === null || typeof v === 'string') return v
  throw reject(`${path}.${key}`, 'null or a string', v)
}

function int(o: Obj, key: string, path: string): number {
  const v = ownValue(o, key)
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw reject(`${path}.${key}`, 'an integer', v)
  return v
}

function strList(o: Obj, key: string, path: string): readonly string[] {
  const v = ownValue(o, key)
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw reject(`${path}.${key}`, 'an array of strings', v)
  return [...v]
}

function strMap(o: Obj, key: string, path: string): Readonly<Record<string, string>> {
  const m = obj(ownValue(o, key), `${path}.${key}`)
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw reject(`${path}.${key}.${k}`, 'a string', v)
  }
  // Map keys are data (metadata names): fromEntries defines own properties, so '__proto__' stays an entry.
  return Object.fromEntries(Object.entries(m as Readonly<Record<string, string>>))
}

function oneOf<T extends string>(allowed: readonly T[], v: unknown, path: string): T {
  const found = allowed.find((a) => a === v)
  if (found === undefined) throw reject(path, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v)
  return found
}

/** A wrapped union value `{ 'synclog.v1.Name': body }` → `['Name', body]`. */
function branchOf(v: unknown, path: string): readonly [string, Obj] {
  const o = obj(v, path)
  const keys = Object.keys(o)
  const key = keys[0]
  if (keys.length !== 1 || key === undefined) throw reject(path, 'a wrapped union value with one branch', v)
  const name = key.startsWith(`${AVRO_NAMESPACE}.`) ? key.slice(AVRO_NAMESPACE.length + 1) : key
  return [name, obj(ownValue(o, key), `${path}<${name}>`)]
}

function wrap(name: string, body: object): Record<string, object> {
  return { [`${AVRO_NAMESPACE}.${name}`]: body }
}

function assertNever(x: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(x)}`)
}

// ---------------------------------------------------------------- change events

const RECORD_NAMES: { readonly [E in EntityType]: string } = {
  org: 'OrgChanged',
  academicSession: 'AcademicSessionChanged',
  course: 'CourseChanged',
  user: 'UserChanged',
  class: 'ClassChanged',
  enrollment: 'EnrollmentChanged',
}
const ENTITY_BY_RECORD: ReadonlyMap<string, EntityType> = new Map(ENTITY_TYPES.map((e) => [RECORD_NAMES[e], e]))

/** Name of the Avro record (payload branch) that carries a RecordChanged of this entity. */
export function recordChangedAvroName(entity: EntityType): string {
  return RECORD_NAMES[entity]
}

const RECORD_OPS: readonly RecordOp[] = ['upsert', 'delete']
const SYNC_MODES: readonly SyncMode[] = ['full', 'delta']

function sourceToAvro(s: SourcePosition | null): object | null {
  return s === null ? null : { file: s.file, line: s.line }
}

function sourceFromAvro(o: Obj, path: string): SourcePosition | null {
  const v = optional(o.source, 'SourcePosition')
  if (v === null) return null
  const s = obj(v, `${path}.source`)
  return { file: str(s, 'file', `${path}.source`), line: int(s, 'line', `${path}.source`) }
}

/** Property of an entity-fields object by name (the names come from ENTITY_FIELD_NAMES). */
function fieldOf(fields: object, name: string): unknown {
  return ownValue(fields as Obj, name)
}

/** Copies the entity's fields by name (lists copied); avsc validates the values when encoding. */
function fieldsToAvro(entity: EntityType, fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name of ENTITY_FIELD_NAMES[entity]) {
    const v = fieldOf(fields, name)
    out[name] = Array.isArray(v) ? v.slice() : v
  }
  return out
}

function fieldsFromAvro<E extends EntityType>(entity: E, v: unknown, path: string): EntityFieldsMap[E] {
  const o = obj(v, path)
  const lists = LIST_FIELDS[entity]
  const out: Record<string, string | null | readonly string[]> = {}
  for (const name of ENTITY_FIELD_NAMES[entity]) {
    out[name] = lists.includes(name) ? strList(o, name, path) : optStr(o, name, path)
  }
  // Every field of EntityFieldsMap[E] was set above from ENTITY_FIELD_NAMES[E] (the keys of
  // EMPTY_FIELDS[E]) with the kind LIST_FIELDS gives it; the contract test pins both lists.
  return out as unknown as EntityFieldsMap[E]
}

function modesToAvro(modes: Readonly<Partial<Record<EntityType, SyncMode>>>): Record<EntityType, SyncMode | null> {
  const out = {} as Record<EntityType, SyncMode | null>
  for (const t of ENTITY_TYPES) out[t] = modes[t] ?? null
  return out
}

function modesFromAvro(v: unknown, path: string): Partial<Record<EntityType, SyncMode>> {
  const o = obj(v, path)
  const out: Partial<Record<EntityType, SyncMode>> = {}
  for (const t of ENTITY_TYPES) {
    const m = optional(o[t], 'SyncMode')
    if (m !== null) out[t] = oneOf(SYNC_MODES, m, `${path}.${t}`)
  }
  return out
}

/** The plain value avsc encodes with `changeEventType`. */
export function changeEventToAvro(e: ChangeEvent): unknown {
  return {
    eventId: e.eventId,
    tenant: e.tenant,
    syncId: e.syncId,
    app: e.app,
    occurredAt: e.occurredAt,
    payload: changePayloadToAvro(e),
  }
}

function changePayloadToAvro(e: ChangeEvent): object {
  switch (e.type) {
    case 'SyncStarted': return wrap('SyncStarted', { modes: modesToAvro(e.modes) })
    case 'SyncEnded': return wrap('SyncEnded', {})
    case 'SyncFailed': return wrap('SyncFailed', { reason: e.reason })
    case 'SyncApproved': return wrap('SyncApproved', { by: e.by })
    case 'SyncRejected': return wrap('SyncRejected', { by: e.by })
    case 'RecordUnreadable':
      return wrap('RecordUnreadable', {
        entity: e.entity, sourcedId: e.sourcedId, field: e.field, message: e.message, source: sourceToAvro(e.source),
      })
    case 'RecordChanged':
      return wrap(RECORD_NAMES[e.entity], {
        sourcedId: e.sourcedId,
        op: e.op,
        dateLastModified: e.dateLastModified,
        fields: fieldsToAvro(e.entity, e.fields),
        metadata: { ...e.metadata },
        source: sourceToAvro(e.source),
      })
    default: return assertNever(e)
  }
}

/** A value decoded with `changeEventType` (or any reader of the same shape) → ChangeEvent. */
export function changeEventFromAvro(v: unknown): ChangeEvent {
  const path = 'ChangeEvent'
  const o = obj(v, path)
  const meta = {
    eventId: str(o, 'eventId', path),
    tenant: str(o, 'tenant', path),
    syncId: str(o, 'syncId', path),
    app: str(o, 'app', path),
    occurredAt: str(o, 'occurredAt', path),
  }
  const [name, p] = branchOf(o.payload, `${path}.payload`)
  const at = `${path}.payload<${name}>`
  switch (name) {
    case 'SyncStarted': return { type: 'SyncStarted', ...meta, modes: modesFromAvro(p.modes, `${at}.modes`) }
    case 'SyncEnded': return { type: 'SyncEnded', ...meta }
    case 'SyncFailed': return { type: 'SyncFailed', ...meta, reason: str(p, 'reason', at) }
    case 'SyncApproved': return { type: 'SyncApproved', ...meta, by: str(p, 'by', at) }
    case 'SyncRejected': return { type: 'SyncRejected', ...meta, by: str(p, 'by', at) }
    case 'RecordUnreadable':
      return {
        type: 'RecordUnreadable',
        ...meta,
        entity: oneOf(ENTITY_TYPES, p.entity, `${at}.entity`),
        sourcedId: optStr(p, 'sourcedId', at),
        field: str(p, 'field', at),
        message: str(p, 'message', at),
        source: sourceFromAvro(p, at),
      }
    default: {
      const entity = ENTITY_BY_RECORD.get(name)
      if (entity === undefined) throw reject(`${path}.payload`, 'a known event record', name)
      return recordChangedFromAvro(entity, meta, p, at)
    }
  }
}

function recordChangedFromAvro(
  entity: EntityType, meta: Pick<RecordChanged, 'eventId' | 'tenant' | 'syncId' | 'app' | 'occurredAt'>, p: Obj, at: string,
): RecordChanged {
  // `entity` and `fields` are built from the same entity value, which is what the
  // per-entity union RecordChanged requires; TypeScript cannot correlate the two.
  return {
    type: 'RecordChanged',
    ...meta,
    entity,
    sourcedId: str(p, 'sourcedId', at),
    op: oneOf(RECORD_OPS, p.op, `${at}.op`),
    dateLastModified: optStr(p, 'dateLastModified', at),
    fields: fieldsFromAvro(entity, p.fields, `${at}.fields`),
    metadata: strMap(p, 'metadata', at),
    source: sourceFromAvro(p, at),
  } as RecordChanged
}

// ---------------------------------------------------------------- sync-log events

const ROW_ENTITIES: readonly (EntityType | '')[] = ['', ...ENTITY_TYPES]

/** The plain value avsc encodes with `syncLogEventType`. */
export function syncLogEventToAvro(e: SyncLogEvent): unknown {
  switch (e.kind) {
    case 'LogRow': {
      const { kind: _kind, ...row } = e
      return { payload: wrap('LogRow', row) }
    }
    case 'SyncStatusChanged': {
      const { kind: _kind, ...status } = e
      return { payload: wrap('SyncStatusChanged', status) }
    }
    case 'SyncCounts': {
      const { kind: _kind, counts, ...rest } = e
      return { payload: wrap('SyncCounts', { ...rest, counts: { ...counts } }) }
    }
    default: return assertNever(e)
  }
}

/** A value decoded with `syncLogEventType` → SyncLogEvent. */
export function syncLogEventFromAvro(v: unknown): SyncLogEvent {
  const path = 'SyncLogEvent'
  const [name, p] = branchOf(obj(v, path).payload, `${path}.payload`)
  const at = `${path}.payload<${name}>`
  switch (name) {
    case 'LogRow': return logRowFromAvro(p, at)
    case 'SyncStatusChanged': return statusFromAvro(p, at)
    case 'SyncCounts': return countsFromAvro(p, at)
    default: throw reject(`${path}.payload`, 'LogRow, SyncStatusChanged or SyncCounts', name)
  }
}

function logRowFromAvro(p: Obj, at: string): LogRow {
  const s = (key: string): string => str(p, key, at)
  return {
    kind: 'LogRow',
    tenant: s('tenant'),
    syncId: s('syncId'),
    seq: int(p, 'seq', at),
    date: s('date'),
    // `action` and `outcome` are strings in the schema, and so here: a newer synclog's values are stored as they are.
    action: s('action'),
    studentNumber: s('studentNumber'),
    studentName: s('studentName'),
    courseNumber: s('courseNumber'),
    courseName: s('courseName'),
    sectionNumber: s('sectionNumber'),
    field: s('field'),
    oldValue: s('oldValue'),
    newValue: s('newValue'),
    servingDistrictId: s('servingDistrictId'),
    servingDistrict: s('servingDistrict'),
    servingSchoolId: s('servingSchoolId'),
    servingSchool: s('servingSchool'),
    homeDistrictId: s('homeDistrictId'),
    homeDistrict: s('homeDistrict'),
    homeSchoolId: s('homeSchoolId'),
    homeSchool: s('homeSchool'),
    app: s('app'),
    entity: oneOf(ROW_ENTITIES, p.entity, `${at}.entity`),
    sourcedId: s('sourcedId'),
    outcome: s('outcome'),
    message: s('message'),
    recordSchoolId: s('recordSchoolId'),
  }
}

function statusFromAvro(p: Obj, at: string): SyncStatusChanged {
  return {
    kind: 'SyncStatusChanged',
    tenant: str(p, 'tenant', at),
    syncId: str(p, 'syncId', at),
    app: str(p, 'app', at),
    status: oneOf(SYNC_STATUSES, p.status, `${at}.status`),
    version: int(p, 'version', at),
    startedAt: str(p, 'startedAt', at),
    endedAt: str(p, 'endedAt', at),
    message: str(p, 'message', at),
    modes: str(p, 'modes', at),
  }
}

function countsFromAvro(p: Obj, at: string): SyncCounts {
  const c = obj(p.counts, `${at}.counts`)
  const n = (key: string): number => int(c, key, `${at}.counts`)
  const counts: OutcomeCounts = {
    total: n('total'), new: n('new'), updated: n('updated'), noChange: n('noChange'), deleted: n('deleted'),
    skipped: n('skipped'), invalid: n('invalid'), duplicates: n('duplicates'), merged: n('merged'), excluded: n('excluded'),
  }
  return {
    kind: 'SyncCounts',
    tenant: str(p, 'tenant', at),
    syncId: str(p, 'syncId', at),
    app: str(p, 'app', at),
    entity: oneOf(ENTITY_TYPES, p.entity, `${at}.entity`),
    schoolId: str(p, 'schoolId', at),
    schoolName: str(p, 'schoolName', at),
    startedAt: str(p, 'startedAt', at),
    counts,
  }
}

// ---------------------------------------------------------------- binary encoding

function encodeWith(type: AvroType, value: unknown, what: string): Buffer {
  try {
    return type.toBuffer(value)
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
  return encodeWith(changeEventType, changeEventToAvro(e), `change event ${e.eventId}`)
}

/** Read a change event; pass `changeEventType.createResolver(writerType)` for bytes written with another schema version. */
export function decodeChangeEvent(buf: Buffer, resolver?: AvroResolver): ChangeEvent {
  return changeEventFromAvro(decodeWith(changeEventType, buf, resolver, 'change event'))
}

export function encodeSyncLogEvent(e: SyncLogEvent): Buffer {
  return encodeWith(syncLogEventType, syncLogEventToAvro(e), `sync-log event (${e.kind})`)
}

export function decodeSyncLogEvent(buf: Buffer, resolver?: AvroResolver): SyncLogEvent {
  return syncLogEventFromAvro(decodeWith(syncLogEventType, buf, resolver, 'sync-log event'))
}
