import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { afterAll, describe, expect, it } from 'vitest'
import type { LogRecord } from '../../src/clickhouse/types.js'
import { loadConfig, timeZonesOf } from '../../src/config/config.js'
import { BLANK_LOG_COLUMNS, LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { TimeZones, localTime, wallClock } from '../../src/export/local-time.js'
import { writeLogXlsx } from '../../src/export/xlsx-log-writer.js'
import { ImportJournal } from '../../src/state/import-journal.js'

const dir = mkdtempSync(join(tmpdir(), 'synclog-local-time-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('an instant shown in local time', () => {
  const shows = (cases: readonly (readonly [string, string, string])[]): void => {
    for (const [iso, zone, shown] of cases) expect(localTime(iso, zone), `${iso} in ${zone}`).toBe(shown)
  }

  it('reads YYYY-MM-DD HH:mm, 24-hour, in the zone given', () => {
    shows([
      ['2024-09-03T11:00:00.000Z', 'America/Chicago', '2024-09-03 06:00'],
      ['2024-09-03T23:59:59.999Z', 'America/Chicago', '2024-09-03 18:59'],
      ['2024-09-03T04:30:00.000Z', 'America/Chicago', '2024-09-02 23:30'],
      ['2024-09-03T11:00:00.000Z', 'UTC', '2024-09-03 11:00'],
      ['2024-09-03T00:05:00.000Z', 'UTC', '2024-09-03 00:05'],
    ])
  })

  it('follows daylight saving time across the spring and fall changes of the zone', () => {
    shows([
      // Chicago springs forward at 2024-03-10 02:00 CST (08:00Z) to 03:00 CDT.
      ['2024-03-10T07:59:00.000Z', 'America/Chicago', '2024-03-10 01:59'],
      ['2024-03-10T08:00:00.000Z', 'America/Chicago', '2024-03-10 03:00'],
      // It falls back at 2024-11-03 02:00 CDT (07:00Z) to 01:00 CST: 01:30 happens twice.
      ['2024-11-03T06:30:00.000Z', 'America/Chicago', '2024-11-03 01:30'],
      ['2024-11-03T07:30:00.000Z', 'America/Chicago', '2024-11-03 01:30'],
      ['2024-11-03T08:00:00.000Z', 'America/Chicago', '2024-11-03 02:00'],
    ])
  })

  it('leaves a blank blank and text that is not an instant as it is', () => {
    expect(localTime('', 'America/Chicago')).toBe('')
    expect(localTime('not a time', 'America/Chicago')).toBe('not a time')
  })

  it('gives a spreadsheet the local wall-clock time as the date cell', () => {
    expect(wallClock('2024-11-03T07:30:12.345Z', 'America/Chicago')?.toISOString()).toBe('2024-11-03T01:30:12.345Z')
    expect(wallClock('2024-07-01T03:00:00.000Z', 'Asia/Kolkata')?.toISOString()).toBe('2024-07-01T08:30:00.000Z')
    expect(wallClock('nonsense', 'UTC')).toBeNull()
  })
})

describe("each tenant's time zone", () => {
  it('is the one configured for the tenant, else the default', () => {
    const zones = new TimeZones('UTC', [['district-a', 'America/Chicago']])
    expect(zones.zoneOf('district-a')).toBe('America/Chicago')
    expect(zones.zoneOf('district-b')).toBe('UTC')
    expect(zones.show('2024-09-03T11:00:00.000Z', 'district-a')).toBe('2024-09-03 06:00')
    expect(zones.note(['district-a', 'district-a'])).toBe('Times in America/Chicago.')
    expect(zones.note(['district-a', 'district-b'])).toBe("Times in each tenant's zone: district-a in America/Chicago; district-b in UTC.")
  })

  it('comes from the config file, names spelled as Intl spells them, the default from SYNCLOG_TIME_ZONE or TZ', () => {
    const file = join(dir, 'zones.json')
    writeFileSync(file, JSON.stringify({ timeZones: { 'district-a': 'america/chicago' } }))
    const zones = timeZonesOf(loadConfig({ data: dir, config: file }, { TZ: 'Europe/Berlin' }))
    expect(zones.zoneOf('district-a')).toBe('America/Chicago')
    expect(zones.zoneOf('other')).toBe('Europe/Berlin')
    expect(timeZonesOf(loadConfig({ data: dir, config: file }, { TZ: 'Europe/Berlin', SYNCLOG_TIME_ZONE: 'Asia/Tokyo' })).fallback).toBe(
      'Asia/Tokyo',
    )
  })

  it('refuses a name that is not a time zone, naming the key', () => {
    const file = join(dir, 'bad-zones.json')
    writeFileSync(file, JSON.stringify({ timeZones: { 'district-a': 'Central Time' } }))
    expect(() => loadConfig({ data: dir, config: file }, {})).toThrow(
      "invalid configuration: timeZones.district-a: 'Central Time' is not an IANA time zone name such as America/Chicago or UTC",
    )
  })
})

describe('an Excel export', () => {
  const row = (tenant: string, date: string): LogRecord =>
    ({
      ...BLANK_LOG_COLUMNS,
      tenant,
      syncId: 's',
      seq: 1,
      date,
      action: 'New',
      entity: 'user',
      sourcedId: 'u',
      outcome: 'New',
    }) as LogRecord
  const dateColumn = LOG_COLUMNS.indexOf('date') + 1
  const noteText = (note: string | ExcelJS.Comment | undefined): string =>
    typeof note === 'string' ? note : (note?.texts ?? []).map((t) => (typeof t === 'string' ? t : t.text)).join('')
  const sheetOf = async (path: string) => {
    const book = new ExcelJS.Workbook()
    await book.xlsx.readFile(path)
    return book.worksheets[0]!
  }

  it("holds each row's date as its tenant's local time, and names the zone in a note on the Date header", async () => {
    const path = join(dir, 'one-zone.xlsx')
    await writeLogXlsx(path, [row('district-a', '2024-11-03T07:30:00.000Z')], { timeZones: new TimeZones('America/Chicago') })
    const sheet = await sheetOf(path)
    expect(sheet.getRow(1).getCell(dateColumn).value).toBe('Date')
    expect(noteText(sheet.getRow(1).getCell(dateColumn).note)).toBe('Local time in America/Chicago.')
    expect((sheet.getRow(2).getCell(dateColumn).value as Date).toISOString()).toBe('2024-11-03T01:30:00.000Z')
  })

  it("names each configured tenant's zone when tenants differ", async () => {
    const path = join(dir, 'two-zones.xlsx')
    const zones = new TimeZones('UTC', [['district-a', 'America/Chicago']])
    await writeLogXlsx(path, [row('district-a', '2024-09-03T11:00:00.000Z'), row('district-b', '2024-09-03T11:00:00.000Z')], {
      timeZones: zones,
    })
    const sheet = await sheetOf(path)
    expect(noteText(sheet.getRow(1).getCell(dateColumn).note)).toBe(
      "Local time of each row's tenant. district-a: America/Chicago; any other tenant: UTC.",
    )
    expect((sheet.getRow(2).getCell(dateColumn).value as Date).toISOString()).toBe('2024-09-03T06:00:00.000Z')
    expect((sheet.getRow(3).getCell(dateColumn).value as Date).toISOString()).toBe('2024-09-03T11:00:00.000Z')
  })
})

describe('the import journal', () => {
  it("notes the sync's end once, so a resumed import ends when the interrupted one did", async () => {
    const journal = new ImportJournal(join(dir, 'journal'))
    const { intent } = await journal.begin({ tenant: 't', app: 'a', fingerprint: 'f' }, new Date('2024-09-03T11:00:00.000Z'))
    expect(await journal.end(new Date('2024-09-03T11:05:00.000Z'))).toBe('2024-09-03T11:05:00.000Z')
    const resumed = await new ImportJournal(join(dir, 'journal')).begin({ tenant: 't', app: 'a', fingerprint: 'f' }, new Date())
    expect(resumed).toEqual({ intent: { ...intent, endedAt: '2024-09-03T11:05:00.000Z' }, resumed: true })
    expect(await journal.end(new Date('2024-09-03T12:00:00.000Z'))).toBe('2024-09-03T11:05:00.000Z')
    await journal.finish()
  })

  it('never ends a sync before it started, whatever the clock says', async () => {
    const journal = new ImportJournal(join(dir, 'journal-2'))
    await journal.begin({ tenant: 't', app: 'a', fingerprint: 'g' }, new Date('2024-09-03T11:00:00.000Z'))
    expect(await journal.end(new Date('2024-09-03T10:00:00.000Z'))).toBe('2024-09-03T11:00:00.000Z')
    await journal.finish()
  })
})
