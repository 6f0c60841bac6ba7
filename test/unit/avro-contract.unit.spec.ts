/**
 * The Avro schemas and the TypeScript event types describe the same thing. Every
 * variant goes through encode -> decode and must come back deep-equal: a TS field
 * the schema lacks would be lost (or fail to decode), a schema field the TS types
 * lack would have no value to write. The field lists are also compared directly.
 */
import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import {
  ENTITY_TYPES,
  EMPTY_FIELDS,
  LIST_FIELDS,
  type ChangeEvent,
  type EntityFieldsMap,
  type EntityType,
  type RecordChanged,
} from '../../src/events/change-event.js'
import {
  OUTCOMES,
  ROSTER_ACTIONS,
  SECTION_ACTIONS,
  SYNC_STATUSES,
  ZERO_COUNTS,
  type LogRow,
  type SyncLogEvent,
} from '../../src/events/sync-log-event.js'
import {
  AVRO_NAMESPACE,
  avroTypeFor,
  changeEventFromAvro,
  changeEventSchema,
  changeEventToAvro,
  changeEventType,
  decodeChangeEvent,
  decodeSyncLogEvent,
  encodeChangeEvent,
  encodeSyncLogEvent,
  syncLogEventFromAvro,
  syncLogEventSchema,
  syncLogEventToAvro,
  syncLogEventType,
} from '../../src/events/avro.js'
import { changedRecordName } from '../../src/events/schema-shape.js'
import { isSynclogError } from '../../src/errors.js'

// ---------------------------------------------------------------- fixtures

let seq = 0
const meta = () => ({
  eventId: `evt-${++seq}`,
  tenant: 'emerson',
  syncId: 'sync-2025-10-06',
  app: 'oneroster-csv',
  occurredAt: '2025-10-06T02:00:00.000Z',
})

/** Every field of every entity filled, lists with several items (some with spaces and unicode). */
const FULL_FIELDS: EntityFieldsMap = {
  org: { name: 'Emerson High School', type: 'school', identifier: '062271003401', parentSourcedId: 'dist-emerson' },
  academicSession: {
    title: 'Fall 2025',
    type: 'semester',
    startDate: '2025-08-18',
    endDate: '2026-01-09',
    parentSourcedId: 'as-2026',
    schoolYear: '2026',
  },
  course: {
    title: 'Algebra I',
    schoolYearSourcedId: 'as-2026',
    courseCode: 'ALG1',
    grades: ['09', '10'],
    orgSourcedId: 'sch-emerson-hs',
    subjects: ['Mathematics', 'STEM'],
  },
  user: {
    enabledUser: 'true',
    orgSourcedIds: ['sch-cedar-ms', 'sch-emerson-hs'],
    role: 'student',
    username: 's200123',
    givenName: 'Tomás',
    familyName: "O'Brien",
    middleName: 'Lee',
    identifier: '200123',
    email: 'tomas.obrien123@students.emersonusd.org',
    grades: ['08'],
  },
  class: {
    title: 'Algebra I (Period 3)',
    courseSourcedId: 'crs-ehs-alg1',
    classCode: 'ALG1-01',
    classType: 'scheduled',
    location: 'Room 114',
    schoolSourcedId: 'sch-emerson-hs',
    termSourcedIds: ['as-2026-s1', 'as-2026-s2'],
    periods: ['3', '4'],
    grades: ['09'],
    subjects: ['Mathematics'],
  },
  enrollment: {
    classSourcedId: 'cls-ehs-alg1-01',
    schoolSourcedId: 'sch-emerson-hs',
    userSourcedId: 'stu-0001',
    role: 'student',
    primary: 'false',
    beginDate: '2025-08-18',
    endDate: '2026-06-05',
  },
}

function recordChanged<E extends EntityType>(
  entity: E,
  op: 'upsert' | 'delete',
  fields: EntityFieldsMap[E],
  extra: Partial<Pick<RecordChanged, 'dateLastModified' | 'metadata' | 'source'>> = {},
): RecordChanged {
  return {
    type: 'RecordChanged',
    ...meta(),
    entity,
    sourcedId: `${entity}-1`,
    op,
    fields,
    dateLastModified: null,
    metadata: {},
    source: null,
    ...extra,
  } as RecordChanged
}

const changeEvents: readonly (readonly [string, ChangeEvent])[] = [
  [
    'SyncStarted, every mode',
    {
      type: 'SyncStarted',
      ...meta(),
      modes: {
        org: 'full',
        academicSession: 'full',
        course: 'full',
        user: 'delta',
        class: 'full',
        enrollment: 'delta',
      },
      preview: false,
    },
  ],
  ['SyncStarted, some modes', { type: 'SyncStarted', ...meta(), modes: { user: 'delta', enrollment: 'full' }, preview: false }],
  ['SyncStarted, a preview', { type: 'SyncStarted', ...meta(), modes: {}, preview: true }],
  ['SyncEnded', { type: 'SyncEnded', ...meta() }],
  ['SyncFailed', { type: 'SyncFailed', ...meta(), reason: 'manifest.csv: file.users is bulk but users.csv is missing' }],
  ['SyncApproved', { type: 'SyncApproved', ...meta(), by: 'data.manager@emersonusd.org', reason: 'spring schedule change' }],
  ['SyncRejected', { type: 'SyncRejected', ...meta(), by: 'data.manager@emersonusd.org', reason: 'wrong term exported' }],
  [
    'RecordUnreadable, all fields',
    {
      type: 'RecordUnreadable',
      ...meta(),
      entity: 'enrollment',
      sourcedId: 'enr-1',
      field: 'row',
      message: 'expected 10 columns, found 11',
      source: { file: 'enrollments.csv', line: 1204 },
    },
  ],
  [
    'RecordUnreadable, nulls',
    {
      type: 'RecordUnreadable',
      ...meta(),
      entity: 'user',
      sourcedId: null,
      field: 'row',
      message: 'unterminated quoted field',
      source: null,
    },
  ],
  ...ENTITY_TYPES.flatMap((entity) => [
    [
      `${entity} upsert, every field, metadata and source`,
      recordChanged(entity, 'upsert', FULL_FIELDS[entity], {
        dateLastModified: '2025-10-05T23:59:59.123Z',
        metadata: { 'metadata.maxStudents': '25', 'metadata.jp.kanaGivenName': 'トマス', 'metadata.empty': '' },
        source: { file: 'x.csv', line: 2 },
      }),
    ] as const,
    [`${entity} delete, all fields null, lists empty`, recordChanged(entity, 'delete', EMPTY_FIELDS[entity])] as const,
  ]),
]

const logRow: LogRow = {
  kind: 'LogRow',
  tenant: 'emerson',
  syncId: 'sync-2',
  seq: 5_000_000_123 /* beyond int32: seq is a long */,
  date: '2025-10-06T02:00:00.000Z',
  action: 'Updated Roster End Date',
  studentNumber: '200123',
  studentName: "O'Brien, Tomás",
  courseNumber: 'ALG1',
  courseName: 'Algebra I',
  sectionNumber: 'ALG1-01',
  field: 'endDate',
  oldValue: '2026-06-05',
  newValue: '2026-05-01',
  servingDistrictId: 'dist-emerson',
  servingDistrict: 'Emerson Unified',
  servingSchoolId: 'sch-emerson-hs',
  servingSchool: 'Emerson High School',
  homeDistrictId: 'dist-garrison',
  homeDistrict: 'Garrison Valley',
  homeSchoolId: 'sch-garrison-hs',
  homeSchool: 'Garrison Valley High School',
  app: 'oneroster-csv',
  entity: 'enrollment',
  sourcedId: 'enr-stu-0001-cls-ehs-alg1-01',
  outcome: 'Updated',
  message: '',
  recordSchoolId: 'sch-emerson-hs',
  cause: '',
}

const syncLogEvents: readonly (readonly [string, SyncLogEvent])[] = [
  ['LogRow, every column', logRow],
  [
    'LogRow, cascaded (blank entity and outcome)',
    {
      ...logRow,
      seq: 1,
      action: 'Deleted Roster',
      entity: '',
      outcome: '',
      field: '',
      oldValue: '',
      newValue: '',
      message: 'section invalidated',
    },
  ],
  ...[...ROSTER_ACTIONS, ...SECTION_ACTIONS, ...OUTCOMES.filter((o) => o !== 'No Change')].map(
    (action) => [`LogRow, action ${action}`, { ...logRow, action }] as const,
  ),
  ...SYNC_STATUSES.map(
    (status, i) =>
      [
        `SyncStatusChanged, ${status}`,
        {
          kind: 'SyncStatusChanged',
          tenant: 'emerson',
          syncId: 'sync-2',
          app: 'oneroster-csv',
          status,
          version: i + 1,
          startedAt: '2025-10-06T02:00:00.000Z',
          endedAt: status === 'Running' ? '' : '2025-10-06T02:03:10.000Z',
          message: status === 'On Hold' ? 'would delete 12.5% of enrollment records (threshold 10%)' : '',
          modes: 'user=full,enrollment=full',
          reviewedBy: '',
          reviewedAt: '',
          reviewReason: '',
        },
      ] as const,
  ),
  [
    'SyncCounts, district level',
    {
      kind: 'SyncCounts',
      tenant: 'emerson',
      syncId: 'sync-2',
      app: 'oneroster-csv',
      entity: 'org',
      schoolId: '',
      schoolName: '',
      startedAt: '2025-10-06T02:00:00.000Z',
      counts: ZERO_COUNTS,
    },
  ],
  [
    'SyncCounts, per school',
    {
      kind: 'SyncCounts',
      tenant: 'emerson',
      syncId: 'sync-2',
      app: 'oneroster-csv',
      entity: 'enrollment',
      schoolId: 'sch-emerson-hs',
      schoolName: 'Emerson High School',
      startedAt: '2025-10-06T02:00:00.000Z',
      counts: {
        total: 612,
        new: 10,
        updated: 9,
        noChange: 560,
        deleted: 27,
        skipped: 3,
        invalid: 1,
        duplicates: 2,
        merged: 1,
        excluded: 1,
      },
    },
  ],
]

// ---------------------------------------------------------------- schema navigation (test-side narrowing)

type Json = Record<string, unknown>
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function payloadBranches(schema: { fields: readonly { name: string; type: unknown }[] }): Json[] {
  const payload = schema.fields.find((f) => f.name === 'payload')
  if (!payload || !Array.isArray(payload.type)) throw new Error('schema has no payload union')
  return payload.type.filter(isJson)
}

function branch(schema: { fields: readonly { name: string; type: unknown }[] }, name: string): Json {
  const found = payloadBranches(schema).find((b) => b.name === name)
  if (!found) throw new Error(`no payload branch ${name}`)
  return found
}

function fieldsOf(record: Json): Json[] {
  return Array.isArray(record.fields) ? record.fields.filter(isJson) : []
}

function entityFieldsRecord(entity: EntityType): Json {
  const fields = fieldsOf(branch(changeEventSchema, changedRecordName(entity))).find((f) => f.name === 'fields')
  if (!fields || !isJson(fields.type)) throw new Error(`no fields record for ${entity}`)
  return fields.type
}

/** Every field (at any depth) of a schema, with its parent record's name. */
function allFields(node: unknown, parent = ''): { record: string; field: Json }[] {
  if (Array.isArray(node)) return node.flatMap((n) => allFields(n, parent))
  if (!isJson(node)) return []
  const name = typeof node.name === 'string' ? node.name : parent
  const own = node.type === 'record' ? fieldsOf(node).flatMap((f) => [{ record: name, field: f }, ...allFields(f.type, name)]) : []
  return [...own, ...(node.type !== 'record' && 'items' in node ? allFields(node.items, name) : [])]
}

// ---------------------------------------------------------------- round trips

describe('change events survive Avro encode -> decode unchanged', () => {
  it.each(changeEvents)('%s', (_name, event) => {
    expect(decodeChangeEvent(encodeChangeEvent(event))).toStrictEqual(event)
    expect(changeEventFromAvro(changeEventToAvro(event))).toStrictEqual(event)
  })

  it('the fixtures cover every payload record of the schema and every event type', () => {
    const branchOf = (e: ChangeEvent): string => Object.keys((changeEventToAvro(e) as { payload: Json }).payload)[0] ?? ''
    const covered = new Set(changeEvents.map(([, e]) => branchOf(e)))
    const declared = payloadBranches(changeEventSchema).map((b) => `${AVRO_NAMESPACE}.${String(b.name)}`)
    expect([...covered].sort()).toEqual([...declared].sort())
    for (const entity of ENTITY_TYPES) {
      for (const op of ['upsert', 'delete'] as const) {
        expect(changeEvents.some(([, e]) => e.type === 'RecordChanged' && e.entity === entity && e.op === op)).toBe(true)
      }
    }
  })
})

describe('sync-log events survive Avro encode -> decode unchanged', () => {
  it.each(syncLogEvents)('%s', (_name, event) => {
    expect(decodeSyncLogEvent(encodeSyncLogEvent(event))).toStrictEqual(event)
    expect(syncLogEventFromAvro(syncLogEventToAvro(event))).toStrictEqual(event)
  })

  it("an action and an outcome this version does not know (a newer writer's) decode as written", () => {
    const newer: LogRow = { ...logRow, action: 'Moved Roster', outcome: 'Quarantined' }
    expect(decodeSyncLogEvent(encodeSyncLogEvent(newer))).toStrictEqual(newer)
  })

  it('the fixtures cover every payload record of the schema', () => {
    const kinds = new Set(syncLogEvents.map(([, e]) => e.kind))
    expect([...kinds].sort()).toEqual(
      payloadBranches(syncLogEventSchema)
        .map((b) => String(b.name))
        .sort(),
    )
  })
})

// ---------------------------------------------------------------- field lists

describe('schema field lists equal the TypeScript field lists', () => {
  it.each(ENTITY_TYPES)('%s: fields record = keys of EMPTY_FIELDS, in the same order, lists where TS has lists', (entity) => {
    const schemaFields = fieldsOf(entityFieldsRecord(entity))
    expect(schemaFields.map((f) => f.name)).toEqual(Object.keys(EMPTY_FIELDS[entity]))
    const schemaLists = schemaFields.filter((f) => isJson(f.type) && f.type.type === 'array').map((f) => f.name)
    const tsLists = Object.entries(EMPTY_FIELDS[entity])
      .filter(([, v]) => Array.isArray(v))
      .map(([k]) => k)
    expect(schemaLists).toEqual(tsLists)
    expect(schemaLists).toEqual(LIST_FIELDS[entity])
    for (const f of schemaFields) {
      expect(f.type, `${entity}.${String(f.name)}`).toEqual(
        tsLists.includes(String(f.name)) ? { type: 'array', items: 'string' } : ['null', 'string'],
      )
    }
  })

  it('LogRow columns = the LogRow type; OutcomeCounts = ZERO_COUNTS', () => {
    const { kind: _kind, ...columns } = logRow
    expect(fieldsOf(branch(syncLogEventSchema, 'LogRow')).map((f) => f.name)).toEqual(Object.keys(columns))
    const counts = fieldsOf(branch(syncLogEventSchema, 'SyncCounts')).find((f) => f.name === 'counts')
    expect(isJson(counts?.type) ? fieldsOf(counts.type).map((f) => f.name) : []).toEqual(Object.keys(ZERO_COUNTS))
  })

  it('every union is optional-style: null first, default null (so added fields stay BACKWARD compatible)', () => {
    for (const schema of [changeEventSchema, syncLogEventSchema]) {
      for (const { record, field } of allFields(schema)) {
        if (!Array.isArray(field.type) || field.name === 'payload') continue
        expect(field.type[0], `${record}.${String(field.name)}`).toBe('null')
        expect(field.default, `${record}.${String(field.name)}`).toBeNull()
      }
    }
  })

  it('both schemas live in namespace synclog.v1 and the payload unions are wrapped (records told apart by name)', () => {
    expect(changeEventSchema.namespace).toBe('synclog.v1')
    expect(syncLogEventSchema.namespace).toBe('synclog.v1')
    const event = changeEvents[0]?.[1]
    if (!event) throw new Error('no fixture')
    expect(Object.keys((changeEventType.fromBuffer(encodeChangeEvent(event)) as { payload: Json }).payload)).toEqual([
      'synclog.v1.SyncStarted',
    ])
    expect(Object.keys((syncLogEventType.fromBuffer(encodeSyncLogEvent(logRow)) as { payload: Json }).payload)).toEqual([
      'synclog.v1.LogRow',
    ])
  })
})

// ---------------------------------------------------------------- evolution

describe('schema evolution: one optional field added to UserChanged.fields', () => {
  const newer = structuredClone(changeEventSchema) as unknown as Json
  const userFields = (() => {
    const b = payloadBranches(newer as unknown as { fields: { name: string; type: unknown }[] }).find((x) => x.name === 'UserChanged')
    const f = b ? fieldsOf(b).find((x) => x.name === 'fields') : undefined
    if (!f || !isJson(f.type) || !Array.isArray(f.type.fields)) throw new Error('no UserFields')
    return f.type.fields as unknown[]
  })()
  userFields.push({ name: 'preferredGivenName', type: ['null', 'string'], default: null })
  const newerType = avroTypeFor(newer)
  const user = changeEvents.find(([, e]) => e.type === 'RecordChanged' && e.entity === 'user' && e.op === 'upsert')?.[1]
  if (!user) throw new Error('no user fixture')

  it('a reader of the current schema reads bytes written with the newer one (the extra field is dropped)', () => {
    const value = changeEventToAvro(user) as { payload: Record<string, { fields: Json }> }
    const body = value.payload['synclog.v1.UserChanged']
    if (!body) throw new Error('not a UserChanged value')
    body.fields.preferredGivenName = 'Tom'
    const bytes = newerType.toBuffer(value)
    expect(decodeChangeEvent(bytes, changeEventType.createResolver(newerType))).toStrictEqual(user)
  })

  it('a reader of the newer schema reads bytes written with the current one (the new field defaults to null)', () => {
    const read = newerType.fromBuffer(encodeChangeEvent(user), newerType.createResolver(changeEventType)) as {
      payload: Record<string, { fields: Json }>
    }
    expect(read.payload['synclog.v1.UserChanged']?.fields.preferredGivenName).toBeNull()
    expect(changeEventFromAvro(read)).toStrictEqual(user)
  })

  it('without a resolver the newer bytes do not read back as the event (why decoders must resolve)', () => {
    const value = changeEventToAvro(user) as { payload: Record<string, { fields: Json }> }
    const body = value.payload['synclog.v1.UserChanged']
    if (body) body.fields.preferredGivenName = 'Tom'
    let decoded: unknown
    try {
      decoded = decodeChangeEvent(newerType.toBuffer(value))
    } catch (e) {
      decoded = e
    }
    expect(decoded).not.toStrictEqual(user)
  })
})

// ---------------------------------------------------------------- the edge refuses what does not fit

describe('values that do not fit the contract are refused with EVENT_REJECTED', () => {
  const rejected = (f: () => unknown): void => {
    let error: unknown
    try {
      f()
    } catch (e) {
      error = e
    }
    expect(isSynclogError(error, 'EVENT_REJECTED'), String(error)).toBe(true)
  }

  it('bytes that are not a change event', () => rejected(() => decodeChangeEvent(Buffer.from([0xff, 0x01, 0x02]))))
  it('an unknown payload record', () => rejected(() => changeEventFromAvro({ ...meta(), payload: { 'synclog.v1.Nope': {} } })))
  it('a field of the wrong type', () =>
    rejected(() => changeEventFromAvro({ ...meta(), payload: { 'synclog.v1.SyncFailed': { reason: 5 } } })))
  it('an entity outside the vocabulary', () => {
    const row = (syncLogEventToAvro(logRow) as { payload: Record<string, Json> }).payload['synclog.v1.LogRow']
    rejected(() => syncLogEventFromAvro({ payload: { 'synclog.v1.LogRow': { ...row, entity: 'spaceship' } } }))
  })
  it('an event that cannot be encoded (line not an int)', () =>
    rejected(() =>
      encodeChangeEvent({
        type: 'RecordUnreadable',
        ...meta(),
        entity: 'user',
        sourcedId: null,
        field: 'row',
        message: 'x',
        source: { file: 'users.csv', line: 1.5 },
      }),
    ))
})

describe('values read with wrapUnions: true (every union wrapped) map too', () => {
  const alwaysWrapped = avro.Type.forSchema(changeEventSchema as unknown as Parameters<typeof avro.Type.forSchema>[0], { wrapUnions: true })
  it.each(changeEvents)('%s', (_name, event) => {
    expect(changeEventFromAvro(alwaysWrapped.fromBuffer(encodeChangeEvent(event)))).toStrictEqual(event)
  })
})
