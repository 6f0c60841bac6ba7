/**
 * The one grammar of dates and instants (src/events/instant.ts), which the fold,
 * the store, the command line, the HTTP API and the bundle reader all use.
 */
import { describe, expect, it } from 'vitest'
import { isCalendarDate, parseDateOnly, parseDateOrInstant, parseInstant } from '../../src/events/instant.js'
import { eventProblem } from '../../src/processor/event-contract.js'
import { instantMillis } from '../../src/processor/time.js'
import type { ChangeEvent } from '../../src/events/change-event.js'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

describe('an instant', () => {
  it('is read in every ISO-8601 spelling the sync log can hold, with or without a zone', () => {
    const cases: [string, string][] = [
      ['2024-09-01T06:00:00Z', '2024-09-01T06:00:00.000Z'],
      ['2024-09-01T08:00:00+02:00', '2024-09-01T06:00:00.000Z'],
      ['2024-09-01T08:00:00+0200', '2024-09-01T06:00:00.000Z'],
      ['2024-09-01T08:00+02', '2024-09-01T06:00:00.000Z'],
      ['2024-09-01T01:30:00-04:30', '2024-09-01T06:00:00.000Z'],
      ['2024-09-01 06:00:00', '2024-09-01T06:00:00.000Z'],
      ['2024-09-01t06:00:00.25z', '2024-09-01T06:00:00.250Z'],
      ['2024-09-01T06:00:00,123456789Z', '2024-09-01T06:00:00.123Z'],
      [' 2024-09-01T06:00Z ', '2024-09-01T06:00:00.000Z'],
      ['1900-01-01T00:00:00Z', '1900-01-01T00:00:00.000Z'],
      ['2299-12-31T23:59:59.999Z', '2299-12-31T23:59:59.999Z'],
      ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ]
    for (const [text, expected] of cases) expect(iso(parseInstant(text)), text).toBe(expected)
  })

  it('is refused when it is not a real moment or falls outside 1900–2299 in UTC', () => {
    const refused = [
      'yesterday',
      '2024-09-01',
      '2024-09-01T06',
      '2024-02-30T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2024-09-01T24:00:00Z',
      '2024-09-01T10:60:00Z',
      '2024-09-01T10:00:60Z',
      '2024-09-01T10:00:00+24:00',
      '2024-09-01T10:00:00+02:60',
      '1899-12-31T23:59:59Z',
      '1900-01-01T01:00:00+02:00',
      '2300-01-01T00:00:00Z',
      '0050-01-01T00:00:00Z',
      '2024-9-1T06:00:00Z',
    ]
    for (const text of refused) expect(parseInstant(text), text).toBeNull()
  })

  it('reads the usual form (YYYY-MM-DDTHH:MM:SS[.sss]Z) exactly as it reads the same moment spelt another way', () => {
    // The usual form has a fast reader of its own; lower-case t and z take the general grammar.
    const other = (text: string): string => text.replace('T', 't').replace(/Z$/, 'z')
    let seed = 7
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const pad = (v: number, width: number): string => String(v).padStart(width, '0')
    const texts = ['1899-12-31T23:59:59Z', '2300-01-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2023-02-29T00:00:00Z']
    for (let i = 0; i < 2000; i++) {
      const core = `${pad(1890 + next(420), 4)}-${pad(next(14), 2)}-${pad(next(33), 2)}T${pad(next(26), 2)}:${pad(next(62), 2)}:${pad(next(62), 2)}`
      texts.push(i % 2 === 0 ? `${core}Z` : `${core}.${pad(next(1000), 3)}Z`)
    }
    for (const text of texts) {
      expect(parseInstant(text), text).toBe(parseInstant(other(text)))
      expect(parseDateOrInstant(text), text).toBe(parseInstant(other(text)))
    }
  })

  it('tells a real calendar date from text that only looks like one, as the calendar does', () => {
    let seed = 11
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const pad = (v: number, width: number): string => String(v).padStart(width, '0')
    const texts = [
      '2024-02-29',
      '2023-02-29',
      '1900-02-29',
      '2000-02-29',
      '0000-01-01',
      '2024-1-01',
      '2024-01-1x',
      '2024/01/01',
      ' 2024-01-01',
    ]
    for (let i = 0; i < 3000; i++) texts.push(`${pad(next(10_000), 4)}-${pad(next(14), 2)}-${pad(next(33), 2)}`)
    // The calendar: a date is real when it reads back as itself.
    const real = (text: string): boolean => {
      const at = new Date(`${text}T00:00:00Z`)
      return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === text
    }
    for (const text of texts) expect(isCalendarDate(text), text).toBe(real(text))
  })

  it('or a date: the date is its UTC midnight, in the same range', () => {
    expect(iso(parseDateOrInstant('2024-09-01'))).toBe('2024-09-01T00:00:00.000Z')
    expect(iso(parseDateOrInstant('2024-09-01T08:00:00+02:00'))).toBe('2024-09-01T06:00:00.000Z')
    expect(parseDateOnly('1850-01-01')).toBeNull()
    expect(parseDateOnly('2024-02-30')).toBeNull()
    expect(parseDateOrInstant('2024-1-1')).toBeNull()
  })
})

describe('the fold reads dates and instants with the same grammar', () => {
  const event = (occurredAt: string): ChangeEvent =>
    ({ type: 'SyncEnded', eventId: 'e1', tenant: 't', syncId: 's', app: 'sis', occurredAt }) as unknown as ChangeEvent

  it('keeps refusing the occurredAt it refused before, with the same reason', () => {
    for (const occurredAt of ['1850-01-01T00:00:00Z', '2024-13-01T00:00:00Z', 'last night', '2024-09-01', '2024-09-01T10:00:60Z']) {
      expect(eventProblem(event(occurredAt)), occurredAt).toBe(
        `occurredAt '${occurredAt}' is not an ISO-8601 instant between 1900 and 2299 (the range the sync log can store)`,
      )
    }
    expect(eventProblem(event('2024-09-01T08:00:00+02:00'))).toBeNull()
  })

  it("reads a record's dateLastModified in any spelling an occurredAt may have, and refuses what the log could not hold", () => {
    // The fold compares dateLastModified to skip stale updates; an unreadable one is Invalid and left empty.
    // It used to have a grammar of its own: a lowercase or hour-only zone was unreadable, a leap second or a year
    // outside 1900–2299 was read. Now it reads exactly what an occurredAt may be, or a date.
    expect(instantMillis('2024-09-01t10:00:00z')).toBe(Date.parse('2024-09-01T10:00:00Z'))
    expect(instantMillis('2024-09-01T12:00:00+02')).toBe(Date.parse('2024-09-01T10:00:00Z'))
    expect(instantMillis('2024-09-01')).toBe(Date.parse('2024-09-01T00:00:00Z'))
    expect(instantMillis(' 2024-09-01 ')).toBe(Date.parse('2024-09-01T00:00:00Z'))
    expect(instantMillis('2024-09-01T10:00:60Z')).toBeNull()
    expect(instantMillis('1850-01-01T00:00:00Z')).toBeNull()
    expect(instantMillis('2024-09-01Z')).toBeNull()
  })

  it('takes a birth or session date of any year as a calendar date', () => {
    expect(isCalendarDate('1850-01-01')).toBe(true)
    expect(isCalendarDate('2024-02-29')).toBe(true)
    expect(isCalendarDate('2023-02-29')).toBe(false)
    expect(isCalendarDate('2024-09-01T00:00:00Z')).toBe(false)
  })
})
