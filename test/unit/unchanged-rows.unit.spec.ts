/**
 * An unchanged row of a full export is recognised by comparing its raw fields with the
 * committed record (readsAsStored), without validating it again. The comparison may only
 * say yes when validation would build exactly the committed record with no problem: these
 * tests read a generated night's bundle, validate each row, and try the comparison on the
 * row as sent and on spellings of it that validate differently, or the same.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RecordChanged } from '../../src/events/change-event.js'
import { bundleDir, generateDataset } from '../../src/generate/generate.js'
import { SCALES } from '../../src/generate/scales.js'
import { readOneRosterBundle } from '../../src/oneroster/read-bundle.js'
import type { AnyRecord } from '../../src/processor/records.js'
import { readsAsStored, validateRecord } from '../../src/processor/validate-record.js'

let out: string
/** Every upsert of the first district's first night that validates with no problem, with its record. */
let rows: { event: RecordChanged; record: AnyRecord }[]

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'synclog-unchanged-'))
  const summary = await generateDataset({ scale: { ...SCALES.tiny, nights: 1 }, out, seed: 3, format: 'csv' })
  const tenant = summary.tenants[0]!
  rows = []
  const events = readOneRosterBundle({ path: bundleDir(out, tenant, 1), tenant, syncId: 'n1', occurredAt: summary.perNight[0]!.occurredAt })
  for await (const e of events) {
    if (e.type !== 'RecordChanged' || e.op !== 'upsert') continue
    const checked = validateRecord(e)
    if (checked.ok && checked.invalid.length === 0) rows.push({ event: e, record: checked.record })
  }
}, 120_000)

afterAll(async () => {
  await rm(out, { recursive: true, force: true })
})

const withField = (e: RecordChanged, name: string, value: unknown): RecordChanged =>
  ({ ...e, fields: { ...(e.fields as object), [name]: value } }) as unknown as RecordChanged

/** Other spellings of a raw value: some read as the same value, some do not, one is a problem. */
function respellings(value: unknown): unknown[] {
  if (Array.isArray(value)) return [[...value, ' '], value.slice(1), [...value].reverse(), []]
  if (typeof value === 'string') return [` ${value}`, `${value} `, value.toUpperCase(), '', ' ', `${value}x`, null, undefined]
  return ['', 'TRUE', 'True', 'false', 'true', 'yes', null]
}

/** Validation's verdict on an event, as one comparable value. */
function verdict(e: RecordChanged): unknown {
  const checked = validateRecord(e)
  return checked.ok ? { record: checked.record, invalid: checked.invalid } : { skip: checked.skip }
}

describe('an unchanged row is recognised without validating it again', () => {
  it('reads every row of every entity type, as the bundle sent it, as the record it validates to', () => {
    const entities = new Set(rows.map((r) => r.event.entity))
    expect(entities).toEqual(new Set(['org', 'academicSession', 'course', 'user', 'class', 'enrollment']))
    const notRecognised = rows.filter((r) => !readsAsStored(r.event, r.record)).map((r) => `${r.event.entity} ${r.event.sourcedId}`)
    expect(notRecognised).toEqual([])
  })

  it('says a respelt field reads as the stored record only when validation would build exactly that record', () => {
    let recognised = 0
    let refused = 0
    for (const { event, record } of rows) {
      for (const [name, value] of Object.entries(event.fields as object)) {
        for (const other of respellings(value)) {
          const respelt = withField(event, name, other)
          if (readsAsStored(respelt, record)) {
            recognised++
            expect(verdict(respelt), `${event.entity} ${event.sourcedId} ${name}=${JSON.stringify(other)}`).toEqual({
              record,
              invalid: [],
            })
          } else refused++
        }
      }
    }
    expect(recognised).toBeGreaterThan(0)
    expect(refused).toBeGreaterThan(0)
  })

  it('does not read a row as the stored record when its id, dateLastModified or metadata differ, or when it is a delete', () => {
    const { event, record } = rows.find((r) => r.event.entity === 'enrollment')!
    expect(readsAsStored(event, record)).toBe(true)
    expect(readsAsStored({ ...event, sourcedId: `${event.sourcedId}x` }, record)).toBe(false)
    expect(readsAsStored({ ...event, dateLastModified: '2031-01-01T00:00:00Z' }, record)).toBe(false)
    expect(readsAsStored({ ...event, metadata: { 'ext.note': 'new' } }, record)).toBe(false)
    expect(readsAsStored({ ...event, op: 'delete' }, record)).toBe(false)
  })
})
