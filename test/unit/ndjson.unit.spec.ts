import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EMPTY_FIELDS, type ChangeEvent } from '../../src/events/change-event.js'
import { readChangeEventsNdjson, type NdjsonItem } from '../../src/ndjson/read-ndjson.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-ndjson-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const meta = { tenant: 'emerson', syncId: 's1', app: 'sis-nightly', occurredAt: '2025-01-31T02:00:00Z' }

async function readLines(lines: readonly string[], eol = '\n'): Promise<NdjsonItem[]> {
  const path = join(dir, 'events.ndjson')
  await writeFile(path, lines.join(eol))
  const items: NdjsonItem[] = []
  for await (const item of readChangeEventsNdjson(path)) items.push(item)
  return items
}

const line = (o: unknown): string => JSON.stringify(o)

describe('readChangeEventsNdjson', () => {
  it('reads one event per line, each with its line number', async () => {
    const events: ChangeEvent[] = [
      { type: 'SyncStarted', eventId: 's1:start', ...meta, modes: { user: 'full', enrollment: 'delta' }, preview: false },
      {
        type: 'RecordChanged',
        eventId: 's1:1',
        ...meta,
        entity: 'user',
        sourcedId: 'u1',
        op: 'upsert',
        dateLastModified: '2025-01-30T00:00:00Z',
        fields: { ...EMPTY_FIELDS.user, givenName: 'Ann', familyName: 'Lee', role: 'student', orgSourcedIds: ['sch1'] },
        metadata: { house: 'red' },
        source: { file: 'users.csv', line: 2 },
      },
      { type: 'RecordUnreadable', eventId: 's1:2', ...meta, entity: 'class', sourcedId: null, field: '', message: 'broken', source: null },
      { type: 'SyncFailed', eventId: 's1:failed', ...meta, reason: 'export aborted' },
      { type: 'SyncEnded', eventId: 's1:end', ...meta },
      { type: 'SyncApproved', eventId: 's1:ok', ...meta, by: 'dm@emerson', reason: 'checked the deletions' },
      { type: 'SyncRejected', eventId: 's1:no', ...meta, by: 'dm@emerson', reason: '' },
    ]
    const items = await readLines(events.map(line))
    expect(items).toEqual(events.map((event, i) => ({ kind: 'event', event, line: i + 1 })))
  })

  it('fills in empty lists, metadata, source and omitted fields', async () => {
    const [item] = await readLines([
      line({ type: 'RecordChanged', eventId: 'e1', ...meta, entity: 'class', sourcedId: 'k1', op: 'delete', fields: { title: 'Gone' } }),
    ])
    expect(item).toEqual({
      kind: 'event',
      line: 1,
      event: {
        type: 'RecordChanged',
        eventId: 'e1',
        ...meta,
        entity: 'class',
        sourcedId: 'k1',
        op: 'delete',
        dateLastModified: null,
        fields: { ...EMPTY_FIELDS.class, title: 'Gone' },
        metadata: {},
        source: null,
      },
    })
  })

  it('reads an event written in full with its keys in any order as the contract orders them, odd metadata names kept', async () => {
    const fields = { ...EMPTY_FIELDS.enrollment, classSourcedId: 'k1', userSourcedId: 'u1', role: 'student' }
    const written = `{"source":{"line":7,"file":"enrollments.csv"},"metadata":{"__proto__":"a","constructor":"b"},"fields":${JSON.stringify(
      Object.fromEntries(Object.entries(fields).reverse()),
    )},"dateLastModified":null,"op":"upsert","sourcedId":"e1","entity":"enrollment","occurredAt":"${meta.occurredAt}","app":"${
      meta.app
    }","syncId":"${meta.syncId}","tenant":"${meta.tenant}","eventId":"s1:7","type":"RecordChanged"}`
    const [item] = await readLines([written])
    if (item?.kind !== 'event' || item.event.type !== 'RecordChanged') throw new Error(`not read: ${JSON.stringify(item)}`)
    const { event } = item
    expect(Object.keys(event)).toEqual(
      Object.keys({ type: 0, eventId: 0, ...meta, entity: 0, sourcedId: 0, op: 0, dateLastModified: 0, fields: 0, metadata: 0, source: 0 }),
    )
    expect(Object.keys(event.fields)).toEqual(Object.keys(EMPTY_FIELDS.enrollment))
    expect(event.fields).toEqual(fields)
    expect(Object.entries(event.metadata)).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
    ])
    expect(Object.getPrototypeOf(event.metadata)).toBeNull()
    expect(event.source).toEqual({ file: 'enrollments.csv', line: 7 })
  })

  it('reports a line that is not JSON and reads the lines after it', async () => {
    const items = await readLines(['{"type":', line({ type: 'SyncEnded', eventId: 'e', ...meta })])
    expect(items[0]).toMatchObject({ kind: 'issue', line: 1, field: '', message: expect.stringMatching(/^not valid JSON/) })
    expect(items[1]).toMatchObject({ kind: 'event', line: 2 })
  })

  it('names the field of a value of the wrong type by its path', async () => {
    const [item] = await readLines([
      line({
        type: 'RecordChanged',
        eventId: 'e1',
        ...meta,
        entity: 'course',
        sourcedId: 'c1',
        op: 'upsert',
        fields: { grades: ['09', 10] },
      }),
    ])
    expect(item).toMatchObject({ kind: 'issue', line: 1, field: 'fields.grades.1' })
  })

  it('names a misspelt key rather than reading it as null', async () => {
    const [item] = await readLines([
      line({
        type: 'RecordChanged',
        eventId: 'e1',
        ...meta,
        entity: 'user',
        sourcedId: 'u1',
        op: 'upsert',
        fields: { givenname: 'Ann' },
      }),
    ])
    expect(item).toMatchObject({ kind: 'issue', field: 'fields.givenname', message: expect.stringContaining('Unrecognized key') })
  })

  it('reports an unknown event type, entity or op, and an occurredAt that is not an instant', async () => {
    const items = await readLines([
      line({ type: 'SyncPaused', eventId: 'e', ...meta }),
      line({ type: 'RecordChanged', eventId: 'e', ...meta, entity: 'school', sourcedId: 'x', op: 'upsert' }),
      line({ type: 'RecordChanged', eventId: 'e', ...meta, entity: 'org', sourcedId: 'x', op: 'merge' }),
      line({ type: 'SyncEnded', eventId: 'e', ...meta, occurredAt: 'last night' }),
      line({ type: 'SyncStarted', eventId: 'e', ...meta, modes: { student: 'full' } }),
      line({ type: 'SyncEnded', eventId: '', ...meta }),
      line([1, 2]),
    ])
    expect(items.map((i) => (i.kind === 'issue' ? i.field : 'event'))).toEqual([
      'type',
      'entity',
      'op',
      'occurredAt',
      'modes.student',
      'eventId',
      '',
    ])
  })

  it('skips blank lines but keeps counting them, and reads CRLF and a BOM', async () => {
    const items = await readLines(
      ['\uFEFF' + line({ type: 'SyncEnded', eventId: 'a', ...meta }), '', '   ', line({ type: 'SyncEnded', eventId: 'b', ...meta }), ''],
      '\r\n',
    )
    expect(items.map((i) => [i.kind, i.line])).toEqual([
      ['event', 1],
      ['event', 4],
    ])
  })

  it('throws INPUT_UNREADABLE naming a file that does not exist', async () => {
    const path = join(dir, 'missing.ndjson')
    await expect(readChangeEventsNdjson(path).next()).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringContaining(path),
    })
  })

  it('throws INPUT_UNREADABLE for a folder', async () => {
    await expect(readChangeEventsNdjson(dir).next()).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' })
  })
})
