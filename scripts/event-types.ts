/**
 * Writes src/events/generated/change-event.types.ts from schemas/change-event.avsc: the
 * TypeScript change-event types, the enum value lists and the empty field sets, following
 * the rules of src/events/schema-shape.ts. Run it after changing the schema:
 *
 *   npm run gen:types
 *
 * A unit test (test/unit/event-types.unit.spec.ts) fails while the checked-in file differs
 * from what this script writes.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import {
  changedRecordName,
  entityTypesOf,
  isSchemaObject,
  metaFields,
  namedTypes,
  optionalOf,
  payloadRecords,
  shortName,
  RECORD_CHANGED,
  SPARSE_RECORDS,
  type AvroFieldJson,
  type AvroRecordSchemaJson,
  type SchemaNode,
  type SchemaObject,
} from '../src/events/schema-shape.js'

export const SCHEMA_FILE = 'schemas/change-event.avsc'
export const TYPES_FILE = 'src/events/generated/change-event.types.ts'

/** `EntityType` → `ENTITY_TYPES`. */
function listName(enumName: string): string {
  return `${enumName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}S`
}

function docLines(doc: string | undefined, indent: string): string[] {
  return doc === undefined ? [] : [`${indent}/** ${doc} */`]
}

class Writer {
  private readonly declared = new Set<string>()
  readonly out: string[] = []

  /** The TypeScript type of a schema node; named records and enums are declared on first use. */
  typeOf(node: SchemaNode): string {
    if (typeof node === 'string') {
      switch (node) {
        case 'string':
          return 'string'
        case 'int':
        case 'long':
        case 'float':
        case 'double':
          return 'number'
        case 'boolean':
          return 'boolean'
        case 'null':
          return 'null'
        default:
          return shortName(node)
      }
    }
    if (Array.isArray(node)) {
      const inner = optionalOf(node)
      if (inner === undefined) throw new Error(`only ["null", X] unions are supported outside payload, got ${JSON.stringify(node)}`)
      return `${this.typeOf(inner)} | null`
    }
    const o = node as SchemaObject
    if (typeof o.type !== 'string') return this.typeOf(o.type)
    switch (o.type) {
      case 'array':
        return `readonly ${this.wrapped(this.typeOf(o.items ?? 'null'))}[]`
      case 'map':
        return `Readonly<Record<string, ${this.typeOf(o.values ?? 'null')}>>`
      case 'enum':
        return this.declareEnum(o)
      case 'record':
        return this.declareRecord(o)
      default:
        return this.typeOf(o.type)
    }
  }

  private wrapped(t: string): string {
    return t.includes('|') ? `(${t})` : t
  }

  private declareEnum(o: SchemaObject): string {
    const name = shortName(o.name ?? '')
    if (this.declared.has(name)) return name
    this.declared.add(name)
    const list = listName(name)
    this.out.push(
      ...docLines(o.doc, ''),
      `export const ${list} = [${(o.symbols ?? []).map((s) => `'${s}'`).join(', ')}] as const`,
      `export type ${name} = (typeof ${list})[number]`,
      '',
    )
    return name
  }

  private declareRecord(o: SchemaObject): string {
    const name = shortName(o.name ?? '')
    if (this.declared.has(name)) return name
    this.declared.add(name)
    const sparse = SPARSE_RECORDS.has(name)
    const body = (o.fields ?? []).flatMap((f) => this.member(f, sparse))
    this.out.push(...docLines(o.doc, ''), `export interface ${name} {`, ...body, '}', '')
    return name
  }

  /**
   * A field as an interface member (in a sparse record, a null field is absent). A scalar
   * field with a default was added after events were first built: code written before it
   * may leave it out, so it is optional (decoding always fills it in).
   */
  member(f: AvroFieldJson, sparse = false): string[] {
    const inner = sparse ? optionalOf(f.type) : undefined
    const added = f.default !== undefined && typeof f.default !== 'object'
    const decl = inner === undefined ? `${f.name}${added ? '?' : ''}: ${this.typeOf(f.type)}` : `${f.name}?: ${this.typeOf(inner)}`
    return [...docLines(f.doc, '  '), `  readonly ${decl}`]
  }
}

/** The generated module's text for the change-event schema. */
export function renderChangeEventTypes(schema: AvroRecordSchemaJson): string {
  const w = new Writer()
  const entities = entityTypesOf(schema)
  const entityOf = new Map(entities.map((e) => [changedRecordName(e), e]))
  // The meta fields and the entity types first, so that the file reads from the outside in.
  const entityType = namedTypes(schema).get('EntityType')
  if (entityType !== undefined) w.typeOf(entityType)
  w.out.push(
    '/** The fields every change event carries (the top-level fields of the schema). */',
    'interface EventMeta {',
    ...metaFields(schema).flatMap((f) => w.member(f)),
    '}',
    '',
  )

  const union: string[] = []
  const changed: string[] = []
  const fieldsOf: [string, string][] = []
  for (const record of payloadRecords(schema)) {
    const name = shortName(record.name ?? '')
    const entity = entityOf.get(name)
    const members: string[] = []
    for (const f of record.fields ?? []) {
      members.push(...w.member(f))
      if (entity !== undefined && f.name === 'fields') fieldsOf.push([entity, w.typeOf(f.type)])
    }
    const tag =
      entity === undefined ? [`  readonly type: '${name}'`] : [`  readonly type: '${RECORD_CHANGED}'`, `  readonly entity: '${entity}'`]
    w.out.push(...docLines(record.doc, ''), `export interface ${name} extends EventMeta {`, ...tag, ...members, '}', '')
    if (entity === undefined) union.push(name)
    else {
      if (changed.length === 0) union.push(RECORD_CHANGED)
      changed.push(name)
    }
  }
  if (changed.length !== entities.length)
    throw new Error(`every entity type needs an <Entity>Changed payload record; found ${changed.join(', ')}`)

  const emptyValue = (f: AvroFieldJson): string => JSON.stringify(f.default ?? null).replaceAll('"', "'")
  const emptyFields = fieldsOf.map(([entity]) => {
    const record = payloadRecords(schema).find((r) => r.name === changedRecordName(entity))
    const fields = record?.fields?.find((f) => f.name === 'fields')?.type
    const list = isSchemaObject(fields) ? (fields.fields ?? []) : []
    return `  ${entity}: { ${list.map((f) => `${f.name}: ${emptyValue(f)}`).join(', ')} },`
  })

  return [
    `// Generated from ${SCHEMA_FILE} by scripts/event-types.ts (npm run gen:types); do not edit.`,
    '',
    ...w.out,
    '/** A RecordChanged of any entity type (`entity` tells which, and the type of `fields`). */',
    `export type ${RECORD_CHANGED} = ${changed.join(' | ')}`,
    '',
    'export interface EntityFieldsMap {',
    ...fieldsOf.map(([entity, type]) => `  readonly ${entity}: ${type}`),
    '}',
    '',
    'export type ChangeEvent =',
    ...union.map((u) => `  | ${u}`),
    '',
    '/** Empty field sets (every field null, every list empty), handy for deletes and for building events. */',
    'export const EMPTY_FIELDS: EntityFieldsMap = {',
    ...emptyFields,
    '}',
    '',
  ].join('\n')
}

export function readChangeEventSchema(root: string): AvroRecordSchemaJson {
  return JSON.parse(readFileSync(`${root}/${SCHEMA_FILE}`, 'utf8')) as AvroRecordSchemaJson
}

/** The generated module for the schema as it is in `root`, formatted as the project's formatter does. */
export async function generatedChangeEventTypes(root: string): Promise<string> {
  const target = `${root}/${TYPES_FILE}`
  return format(renderChangeEventTypes(readChangeEventSchema(root)), { ...(await resolveConfig(target)), filepath: target })
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  writeFileSync(`${root}/${TYPES_FILE}`, await generatedChangeEventTypes(root))
  console.log(`wrote ${TYPES_FILE}`)
}
