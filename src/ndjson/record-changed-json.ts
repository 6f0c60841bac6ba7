/**
 * The common line of an NDJSON file, a RecordChanged written in full (every key
 * of the schema present, no other), read without zod: its few fields checked by
 * hand, and the event built in the schema's key order, as zod would give it.
 * Anything else (another event type, a key left out that takes its default, an
 * unknown key, a value of the wrong type) is left to the zod schema, which then
 * decides and names the problem. Checking each line with zod costs several times
 * more than JSON.parse.
 */
import { dictOf } from '../dict.js'
import { ENTITY_FIELD_NAMES, LIST_FIELDS, type EntityType, type RecordChanged } from '../events/change-event.js'
import { isOccurredAt } from './change-event-schema.js'

/** type, eventId, tenant, syncId, app, occurredAt, entity, sourcedId, op, dateLastModified, fields, metadata, source. */
const RECORD_CHANGED_KEYS = 13

const MAX_LINE = 2 ** 31 - 1

type JsonObject = Readonly<Record<string, unknown>>

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function ownKeyCount(o: JsonObject): number {
  let n = 0
  for (const key in o) if (Object.hasOwn(o, key)) n++
  return n
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

function isTextOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string'
}

function isTextList(value: unknown): value is readonly string[] {
  if (!Array.isArray(value)) return false
  for (const item of value) if (typeof item !== 'string') return false
  return true
}

function isEntity(value: unknown): value is EntityType {
  return typeof value === 'string' && Object.hasOwn(ENTITY_FIELD_NAMES, value)
}

/**
 * The entity's fields, when every one is present, of its type and in schema order:
 * then the parsed object is already what zod would build. Null otherwise.
 */
function fieldsOf(entity: EntityType, value: unknown): RecordChanged['fields'] | null {
  if (!isObject(value)) return null
  const names = ENTITY_FIELD_NAMES[entity]
  const lists = LIST_FIELDS[entity]
  let at = 0
  for (const key in value) {
    // Another order, a field left out or an unknown key: zod's to judge.
    if (key !== names[at]) return null
    at++
  }
  if (at !== names.length) return null
  for (const name of names) {
    const v = value[name]
    if (lists.includes(name) ? !isTextList(v) : !isTextOrNull(v)) return null
  }
  // Every field checked above, of its type: the entity's fields.
  return value as unknown as RecordChanged['fields']
}

/** Extension names are data: a null-prototype dict of every own key, as the schema's map reads it. */
function metadataOf(value: unknown): Readonly<Record<string, string>> | null {
  if (!isObject(value)) return null
  for (const key in value) if (Object.hasOwn(value, key) && typeof value[key] !== 'string') return null
  return dictOf(Object.entries(value) as [string, string][])
}

/** `{ file, line }` or null; undefined when it is neither. */
function sourceOf(value: unknown): RecordChanged['source'] | undefined {
  if (value === null) return null
  if (!isObject(value) || ownKeyCount(value) !== 2) return undefined
  const { file, line } = value
  if (typeof file !== 'string' || typeof line !== 'number' || !Number.isInteger(line) || line < 0 || line > MAX_LINE) return undefined
  return { file, line }
}

/** The event when `json` is a RecordChanged written in full and valid; null when the zod schema must judge it. */
export function recordChangedOf(json: unknown): RecordChanged | null {
  if (!isObject(json) || json.type !== 'RecordChanged' || ownKeyCount(json) !== RECORD_CHANGED_KEYS) return null
  const { eventId, tenant, syncId, app, occurredAt, entity, sourcedId, op, dateLastModified } = json
  if (!isId(eventId) || !isId(tenant) || !isId(syncId) || typeof app !== 'string') return null
  if (typeof occurredAt !== 'string' || !isOccurredAt(occurredAt)) return null
  if (!isEntity(entity) || typeof sourcedId !== 'string' || (op !== 'upsert' && op !== 'delete') || !isTextOrNull(dateLastModified))
    return null
  const fields = fieldsOf(entity, json.fields)
  const metadata = metadataOf(json.metadata)
  const source = sourceOf(json.source)
  if (fields === null || metadata === null || source === undefined) return null
  return {
    type: 'RecordChanged',
    eventId,
    tenant,
    syncId,
    app,
    occurredAt,
    entity,
    sourcedId,
    op,
    dateLastModified,
    fields,
    metadata,
    source,
  } as RecordChanged
}
