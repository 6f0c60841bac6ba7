/**
 * The zod schema of a change event written as JSON, built once from the Avro schema
 * (schemas/change-event.avsc) along the rules of src/events/schema-shape.ts, so the JSON
 * edge accepts exactly what the contract declares. Objects are strict, so a misspelt key
 * is reported rather than silently read as null. A field the schema gives a default may be
 * left out and takes it (scalars and `dateLastModified` null, lists [], `metadata` {},
 * `source` null); `fields` may be left out when every field has a default.
 */
import { z } from 'zod'
import { dictOf } from '../dict.js'
import { changeEventSchema as avroSchema } from '../events/avro.js'
import { ENTITY_TYPES, type ChangeEvent } from '../events/change-event.js'
import {
  RECORD_CHANGED,
  SPARSE_RECORDS,
  changedRecordName,
  metaFields,
  namedTypes,
  optionalOf,
  payloadRecords,
  shortName,
  type AvroFieldJson,
  type SchemaNode,
  type SchemaObject,
} from '../events/schema-shape.js'

const OCCURRED_AT = z.iso.datetime({ offset: true })
/** The pattern that check applies: testing it alone costs a quarter of a safeParse. */
const OCCURRED_AT_PATTERN = z.regexes.datetime({ offset: true })

/** An event's `occurredAt` as the JSON edge accepts it. */
export function isOccurredAt(text: string): boolean {
  return OCCURRED_AT_PATTERN.test(text)
}

/** What the JSON edge checks beyond the Avro types, by `Record.field`: ids are not blank, instants are instants. */
const EDGE_CHECKS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ['ChangeEvent.eventId', z.string().min(1)],
  ['ChangeEvent.tenant', z.string().min(1)],
  ['ChangeEvent.syncId', z.string().min(1)],
  ['ChangeEvent.occurredAt', OCCURRED_AT],
  [
    'SourcePosition.line',
    z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 31 - 1),
  ],
])

/**
 * `map` (metadata): extension names are data, so every own key is kept, `__proto__`
 * and `constructor` included (z.record drops `__proto__`), in a null-prototype dict.
 */
const stringMap = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of string values' })
    return z.NEVER
  }
  const entries = Object.entries(value)
  const bad = entries.find(([, v]) => typeof v !== 'string')
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', path: [bad[0]], message: `expected a string, got ${bad[1] === null ? 'null' : typeof bad[1]}` })
    return z.NEVER
  }
  return dictOf(entries as [string, string][]) as Readonly<Record<string, string>>
})

const named = namedTypes(avroSchema)

function zodOf(node: SchemaNode): z.ZodType {
  if (typeof node === 'string') {
    switch (node) {
      case 'string':
        return z.string()
      case 'int':
        return z
          .number()
          .int()
          .min(-(2 ** 31))
          .max(2 ** 31 - 1)
      case 'long':
        return z.number().int()
      case 'null':
        return z.null()
      case 'boolean':
        return z.boolean()
      default: {
        const type = named.get(shortName(node))
        if (type === undefined) throw new Error(`change-event schema: unknown type ${node}`)
        return zodOf(type)
      }
    }
  }
  const inner = Array.isArray(node) ? optionalOf(node) : undefined
  if (inner !== undefined) return zodOf(inner).nullable()
  const o = node as SchemaObject
  switch (o.type) {
    case 'record':
      return z.strictObject(shapeOf(o))
    case 'enum':
      return z.enum(o.symbols as [string, ...string[]])
    case 'array':
      return z.array(zodOf(o.items ?? 'null'))
    case 'map':
      return stringMap
    default:
      throw new Error(`change-event schema: no JSON form for ${JSON.stringify(node)}`)
  }
}

function recordOf(node: SchemaNode): SchemaObject | undefined {
  const o = typeof node === 'string' ? named.get(shortName(node)) : Array.isArray(node) ? undefined : (node as SchemaObject)
  return o?.type === 'record' ? o : undefined
}

/** A field's zod type: the edge check or the Avro type, with the schema's default for a left-out value. */
function fieldOf(recordName: string, f: AvroFieldJson, sparse: boolean): z.ZodType {
  const inner = sparse ? optionalOf(f.type) : undefined
  if (inner !== undefined) return zodOf(inner).optional()
  const type = EDGE_CHECKS.get(`${recordName}.${f.name}`) ?? zodOf(f.type)
  if ('default' in f) return type.default(f.default)
  const record = recordOf(f.type)
  const defaulted =
    record !== undefined && !SPARSE_RECORDS.has(shortName(record.name ?? '')) && (record.fields ?? []).every((x) => 'default' in x)
  return defaulted ? type.prefault({}) : type
}

function shapeOf(o: SchemaObject): Record<string, z.ZodType> {
  const name = shortName(o.name ?? '')
  const sparse = SPARSE_RECORDS.has(name)
  return Object.fromEntries((o.fields ?? []).map((f) => [f.name, fieldOf(name, f, sparse)]))
}

function eventSchema(): z.ZodType<ChangeEvent> {
  const meta = Object.fromEntries(metaFields(avroSchema).map((f) => [f.name, fieldOf(avroSchema.name, f, false)]))
  const changed = ENTITY_TYPES.map(changedRecordName)
  const byName = new Map(payloadRecords(avroSchema).map((r) => [shortName(r.name ?? ''), r]))
  const others = [...byName].filter(([name]) => !changed.includes(name))
  // Keys in the order of the TypeScript events: type, the meta fields, entity, the payload's fields.
  const variant = (type: string, record: SchemaObject, entity?: string) =>
    z.strictObject({ type: z.literal(type), ...meta, ...(entity === undefined ? {} : { entity: z.literal(entity) }), ...shapeOf(record) })
  const recordChanged = ENTITY_TYPES.map((entity) => {
    const record = byName.get(changedRecordName(entity))
    if (record === undefined) throw new Error(`change-event schema: no ${changedRecordName(entity)} record`)
    return variant(RECORD_CHANGED, record, entity)
  })
  const [first, ...rest] = recordChanged
  if (first === undefined) throw new Error('change-event schema: no entity types')
  // Built from the schema the ChangeEvent types are generated from; test/unit/ndjson.unit.spec.ts reads every variant.
  const variants: z.core.$ZodTypeDiscriminable[] = others.map(([name, record]) => variant(name, record))
  return z.discriminatedUnion('type', [z.discriminatedUnion('entity', [first, ...rest]), ...variants]) as unknown as z.ZodType<ChangeEvent>
}

/** A change event written as JSON (the TypeScript shape of ChangeEvent). */
export const changeEventJsonSchema: z.ZodType<ChangeEvent> = eventSchema()
