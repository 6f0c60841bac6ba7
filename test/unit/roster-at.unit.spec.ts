/** The instant a roster is read at: a date is the whole of that day in the tenant's zone, daylight-saving days included. */
import { describe, expect, it } from 'vitest'
import { isSynclogError } from '../../src/errors.js'
import { buildRosterQuery, rosterInstant } from '../../src/clickhouse/roster-at.js'

const iso = (ms: number): string => new Date(ms).toISOString()

describe('the instant of a roster', () => {
  it('reads a date through its last millisecond, in UTC by default', () => {
    expect(iso(rosterInstant('2024-09-05'))).toBe('2024-09-05T23:59:59.999Z')
  })

  it("reads a date through the end of that day in the tenant's zone", () => {
    expect(iso(rosterInstant('2025-06-01', 'Europe/Berlin'))).toBe('2025-06-01T21:59:59.999Z')
    expect(iso(rosterInstant('2025-06-01', 'Asia/Kolkata'))).toBe('2025-06-01T18:29:59.999Z')
  })

  it('takes the offset of the next midnight on the days clocks change', () => {
    // Chicago springs forward on 2025-03-09 and falls back on 2025-11-02.
    expect(iso(rosterInstant('2025-03-08', 'America/Chicago'))).toBe('2025-03-09T05:59:59.999Z')
    expect(iso(rosterInstant('2025-03-09', 'America/Chicago'))).toBe('2025-03-10T04:59:59.999Z')
    expect(iso(rosterInstant('2025-11-01', 'America/Chicago'))).toBe('2025-11-02T04:59:59.999Z')
    expect(iso(rosterInstant('2025-11-02', 'America/Chicago'))).toBe('2025-11-03T05:59:59.999Z')
  })

  it('reads an instant as given, whatever the zone', () => {
    expect(iso(rosterInstant('2024-09-05T08:00:00+02:00', 'America/Chicago'))).toBe('2024-09-05T06:00:00.000Z')
  })

  it('refuses what is neither, naming the option and the forms it takes', () => {
    let error: unknown
    try {
      rosterInstant('next tuesday')
    } catch (e) {
      error = e
    }
    expect(isSynclogError(error) && error.code).toBe('USAGE')
    expect((error as Error).message).toMatch(/^at must be a date \(YYYY-MM-DD\) or an ISO-8601 instant/)
  })

  it('refuses a blank section or student number', () => {
    expect(() => buildRosterQuery({}, { key: { section: ' ' }, at: '2024-09-05' })).toThrow('a roster needs a section number')
    expect(() => buildRosterQuery({}, { key: { student: '' }, at: '2024-09-05' })).toThrow('a roster needs a student number')
  })

  it('passes every value as a query parameter', () => {
    const q = buildRosterQuery(
      { tenant: "d'a", school: { id: 'sch"1', side: 'home' } },
      { key: { section: "101'; DROP TABLE sync_log --" }, at: '2024-09-05', tenant: 'x' },
    )
    expect(q.query).not.toContain('DROP')
    expect(q.query).not.toContain("d'a")
    expect(q.params).toMatchObject({ r_key: "101'; DROP TABLE sync_log --", scope_tenant: "d'a", scope_school: 'sch"1', r_tenant: 'x' })
  })
})
