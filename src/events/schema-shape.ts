/**
 * How the TypeScript events relate to the Avro schemas in `schemas/*.avsc`, written as rules
 * rather than lists, so that the schema stays the one place a field is declared. The type
 * generator (scripts/event-types.ts), the Avro mapper (avro.ts) and the NDJSON validator
 * (src/ndjson/change-event-schema.ts) all follow them:
 *
 * - a change event is the top-level fields of `ChangeEvent` (eventId ... occurredAt) beside
 *   the fields of its payload record, with `type` naming the record;
 * - except the `<Entity>Changed` records (one per `EntityType` symbol), which are all
 *   `type: 'RecordChanged'` with `entity` naming the entity type;
 * - `["null", X]` is `X | null`, except in the SPARSE_RECORDS, where null means "absent";
 * - a sync-log event is `{ payload: <record> }` with `kind` naming the record.
 *
 * No I/O and no generated code here: the generator must run even when its output is stale.
 */

/** Namespace of every named type in the schemas. */
export const AVRO_NAMESPACE = 'synclog.v1'

/** The JSON of an Avro schema node, narrowed only as far as this module needs. */
export type SchemaNode = string | readonly SchemaNode[] | SchemaObject

export interface SchemaObject {
  readonly type: SchemaNode
  readonly name?: string
  readonly doc?: string
  readonly fields?: readonly AvroFieldJson[]
  readonly symbols?: readonly string[]
  readonly items?: SchemaNode
  readonly values?: SchemaNode
}

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
  readonly type: SchemaNode
  readonly default?: unknown
  readonly doc?: string
}

/** Records whose `["null", X]` fields are left out of the TypeScript value when null (SyncStarted.modes). */
export const SPARSE_RECORDS: ReadonlySet<string> = new Set(['SyncModes'])

/** The `type` of every change event carried by an `<Entity>Changed` record. */
export const RECORD_CHANGED = 'RecordChanged'

/** The payload record that carries a RecordChanged of `entity`: `user` → `UserChanged`. */
export function changedRecordName(entity: string): string {
  return `${entity.charAt(0).toUpperCase()}${entity.slice(1)}Changed`
}

export function isSchemaObject(node: unknown): node is SchemaObject {
  return typeof node === 'object' && node !== null && !Array.isArray(node)
}

/** A name without the namespace: `synclog.v1.UserChanged` → `UserChanged`. */
export function shortName(name: string): string {
  return name.startsWith(`${AVRO_NAMESPACE}.`) ? name.slice(AVRO_NAMESPACE.length + 1) : name
}

/** Every named type (record, enum) declared anywhere in the schema, by short name. */
export function namedTypes(schema: SchemaNode): ReadonlyMap<string, SchemaObject> {
  const found = new Map<string, SchemaObject>()
  const visit = (node: SchemaNode | undefined): void => {
    if (node === undefined || typeof node === 'string') return
    if (Array.isArray(node)) {
      for (const n of node as readonly SchemaNode[]) visit(n)
      return
    }
    const o = node as SchemaObject
    if (typeof o.name === 'string') found.set(shortName(o.name), o)
    visit(typeof o.type === 'string' ? undefined : o.type)
    for (const f of o.fields ?? []) visit(f.type)
    visit(o.items)
    visit(o.values)
  }
  visit(schema)
  return found
}

/** The record branches of the schema's `payload` union, in schema order. */
export function payloadRecords(schema: AvroRecordSchemaJson): readonly SchemaObject[] {
  const payload = schema.fields.find((f) => f.name === 'payload')
  if (payload === undefined || !Array.isArray(payload.type)) throw new Error(`schema ${schema.name}: no payload union`)
  return (payload.type as readonly SchemaNode[]).filter(isSchemaObject)
}

/** The top-level fields beside `payload` (the metadata every change event carries). */
export function metaFields(schema: AvroRecordSchemaJson): readonly AvroFieldJson[] {
  return schema.fields.filter((f) => f.name !== 'payload')
}

/** The X of an optional `["null", X]` union; undefined for any other node. */
export function optionalOf(node: SchemaNode): SchemaNode | undefined {
  if (!Array.isArray(node) || node.length !== 2 || node[0] !== 'null') return undefined
  return (node as readonly SchemaNode[])[1]
}

/** The symbols of the `EntityType` enum: the entity types, parents first. */
export function entityTypesOf(schema: AvroRecordSchemaJson): readonly string[] {
  const symbols = namedTypes(schema).get('EntityType')?.symbols
  if (symbols === undefined) throw new Error(`schema ${schema.name}: no EntityType enum`)
  return symbols
}
