/**
 * A newer version of the change-event schema, for schema-evolution tests: UserFields
 * gains one optional field (`["null","string"]`, default null), a BACKWARD-compatible change.
 */
import { changeEventSchema, type AvroRecordSchemaJson } from '../../src/events/avro.js'

type Json = Record<string, unknown>

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function newerChangeEventSchema(field = 'pronouns'): AvroRecordSchemaJson {
  const schema = structuredClone(changeEventSchema) as unknown as Json
  const fields = schema.fields as Json[]
  const payload = fields.find((f) => f.name === 'payload')
  const branches = payload?.type
  if (!Array.isArray(branches)) throw new Error('change-event schema: payload is not a union')
  const user = branches.find((b): b is Json => isRecord(b) && b.name === 'UserChanged')
  const userFields = (user?.fields as Json[] | undefined)?.find((f) => f.name === 'fields')?.type
  if (!isRecord(userFields) || !Array.isArray(userFields.fields)) throw new Error('change-event schema: no UserChanged.fields record')
  userFields.fields.push({ name: field, type: ['null', 'string'], default: null, doc: 'Added in a later schema version (test).' })
  return schema as unknown as AvroRecordSchemaJson
}

/** Puts `value` into the `fields` of a UserChanged payload of an Avro change-event value (for writing with the newer schema). */
export function withUserField(avroValue: unknown, field: string, value: string | null): unknown {
  if (!isRecord(avroValue) || !isRecord(avroValue.payload)) throw new Error('not a change-event Avro value')
  const [name, body] = Object.entries(avroValue.payload)[0] ?? []
  if (name === undefined || !isRecord(body) || !isRecord(body.fields)) throw new Error('payload has no fields')
  return { ...avroValue, payload: { [name]: { ...body, fields: { ...body.fields, [field]: value } } } }
}
