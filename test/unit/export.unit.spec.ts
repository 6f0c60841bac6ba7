import { existsSync } from 'node:fs'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isSynclogError } from '../../src/errors.js'
import { LOG_COLUMN_HEADERS, LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { writeCsv } from '../../src/export/csv-writer.js'
import { LOG_EXPORT_COLUMNS } from '../../src/export/log-columns.js'
import type { LogRecord } from '../../src/export/log-record.js'
import { neutralizeFormula } from '../../src/export/spreadsheet-safety.js'
import { writeSyncReports } from '../../src/export/sync-report.js'
import { formatTextTable } from '../../src/export/text-table.js'
import { writeLogXlsx } from '../../src/export/xlsx-log-writer.js'

/** Debian's python3-openpyxl lives in the system Python, which a pyenv shim may hide. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
import { SheetPacer } from '../../src/export/xlsx-pacing.js'

const CALC_PAYLOAD = "=cmd|' /C calc'!A0"

function logRecord(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    tenant: 'emerson',
    syncId: 'sync-1',
    seq: 1,
    date: '2024-10-18T02:00:00.000Z',
    action: 'Created Roster',
    studentNumber: 'S001',
    studentName: 'Smith, Student1',
    courseNumber: '0001',
    courseName: 'English',
    sectionNumber: '101',
    field: '',
    oldValue: '',
    newValue: '',
    servingDistrictId: 'D1',
    servingDistrict: 'Emerson Unified',
    servingSchoolId: 'sch1',
    servingSchool: 'Fremont High',
    homeDistrictId: 'D1',
    homeDistrict: 'Emerson Unified',
    homeSchoolId: 'sch1',
    homeSchool: 'Fremont High',
    app: 'sis-import',
    entity: 'enrollment',
    sourcedId: 'e-stu1',
    outcome: 'New',
    message: '',
    recordSchoolId: 'sch1',
    cause: '',
    ...overrides,
  }
}

/** Row i of a generated log: one instant per minute from 2024-10-18T02:00Z, with seconds so rounding would show. */
function numberedRecord(i: number): LogRecord {
  return logRecord({
    seq: i,
    date: new Date(Date.UTC(2024, 9, 18, 2, i, 17)).toISOString(),
    studentNumber: `S${String(i).padStart(5, '0')}`,
    studentName: i === 1 ? CALC_PAYLOAD : `Student ${i}, Test`,
  })
}

async function* slowly<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve()
    yield item
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1)
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return () => Buffer.concat(chunks).toString('utf8')
}

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-export-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('neutralizeFormula', () => {
  it.each(['=HYPERLINK("http://evil.example","click")', '+1', '-2+3', '@SUM(A1:A2)', '\t=1', '\rCR first', '  =1'])(
    'prefixes %j with an apostrophe',
    (value) => {
      expect(neutralizeFormula(value)).toBe(`'${value}`)
    },
  )

  it.each(['Smith, John', '2024-01-01', '', "O'Brien", 'a=b'])('leaves %j unchanged', (value) => {
    expect(neutralizeFormula(value)).toBe(value)
  })
})

describe('writeCsv', () => {
  const columns = [
    ['name', 'Student Name'],
    ['note', 'Note'],
    ['count', 'Count'],
  ] as const

  it('writes a BOM, the human headers and CRLF line ends, and quotes commas, quotes and newlines', async () => {
    const out = new PassThrough()
    const text = collect(out)
    const rows = [
      { name: 'Smith, John', note: 'said "hi"', count: 3 },
      { name: 'Lee', note: 'line one\nline two', count: -2 },
    ]
    const n = await writeCsv(out, rows, columns)

    expect(n).toBe(2)
    expect(text().startsWith('\uFEFFStudent Name,Note,Count\r\n')).toBe(true)
    expect(text()).toContain('"Smith, John","said ""hi""",3\r\n')
    const parsed: string[][] = parse(text(), { bom: true })
    expect(parsed).toEqual([
      ['Student Name', 'Note', 'Count'],
      ['Smith, John', 'said "hi"', '3'],
      ['Lee', 'line one\nline two', '-2'],
    ])
  })

  it('neutralizes formula cells but leaves numbers, even negative ones, as numbers', async () => {
    const out = new PassThrough()
    const text = collect(out)
    await writeCsv(out, slowly([{ name: CALC_PAYLOAD, note: '@SUM(A1)', count: -5 }]), columns)

    const records: Record<string, string>[] = parse(text(), { bom: true, columns: true })
    expect(records).toEqual([{ 'Student Name': `'${CALC_PAYLOAD}`, Note: "'@SUM(A1)", Count: '-5' }])
  })

  it('writes only the BOM and the header when there are no rows', async () => {
    const out = new PassThrough()
    const text = collect(out)
    expect(await writeCsv(out, [], columns)).toBe(0)
    expect(text()).toBe('\uFEFFStudent Name,Note,Count\r\n')
  })

  it('never writes while the destination asks it to drain, and resolves once everything is flushed', async () => {
    const received: Buffer[] = []
    const out = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, done) {
        received.push(chunk)
        setImmediate(done)
      },
    })
    let writesWhileFull = 0
    const write = out.write.bind(out) as (chunk: string, cb: (err?: Error | null) => void) => boolean
    Object.assign(out, {
      write: (chunk: string, cb: (err?: Error | null) => void) => {
        if (out.writableNeedDrain) writesWhileFull++
        return write(chunk, cb)
      },
    })
    const rows = range(3000).map((i) => ({ name: `Student ${i}`, note: 'x'.repeat(50), count: i }))

    expect(await writeCsv(out, rows, columns)).toBe(3000)
    expect(writesWhileFull).toBe(0)
    expect(out.writableLength).toBe(0)
    const records: unknown[] = parse(Buffer.concat(received).toString('utf8'), { bom: true, columns: true })
    expect(records).toHaveLength(3000)
  })

  it('writes a whole sync log with the log columns in order', async () => {
    const out = new PassThrough()
    const text = collect(out)
    await writeCsv(out, [logRecord()], LOG_EXPORT_COLUMNS)

    const [header, row]: string[][] = parse(text(), { bom: true })
    expect(header).toEqual(LOG_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c]))
    expect(row?.[0]).toBe('2024-10-18T02:00:00.000Z')
    expect(row?.[LOG_COLUMNS.indexOf('studentName')]).toBe('Smith, Student1')
  })
})

describe('writeLogXlsx', () => {
  it('splits 2,500 rows into three sheets of at most 1,000 and reads back as Excel would show them', async () => {
    const path = join(dir, 'sync-log.xlsx')
    const records = range(2500).map(numberedRecord)

    expect(await writeLogXlsx(path, slowly(records), { maxRowsPerSheet: 1000 })).toBe(2500)

    const book = new ExcelJS.Workbook()
    await book.xlsx.readFile(path)
    expect(book.worksheets.map((s) => [s.name, s.rowCount])).toEqual([
      ['Sync Log', 1001],
      ['Sync Log (2)', 1001],
      ['Sync Log (3)', 501],
    ])
    for (const sheet of book.worksheets) {
      const header = sheet.getRow(1)
      expect(header.values).toEqual([undefined, ...LOG_EXPORT_COLUMNS.map(([, title]) => title)])
      expect(header.getCell(1).font?.bold).toBe(true)
      expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 })
      // One column per log column: A to Z.
      expect(sheet.autoFilter).toBe(`A1:${String.fromCharCode(64 + LOG_EXPORT_COLUMNS.length)}${sheet.rowCount}`)
    }
    expect(await readdir(dir)).toEqual(['sync-log.xlsx'])
  })

  it('stores the date as a real date cell at the row’s instant, formatted as UTC wall time', async () => {
    const path = join(dir, 'log.xlsx')
    const records = range(3).map(numberedRecord)
    await writeLogXlsx(path, records)

    const sheet = await firstSheet(path)
    const dateCol = LOG_COLUMNS.indexOf('date') + 1
    records.forEach((record, i) => {
      const cell = sheet.getRow(i + 2).getCell(dateCol)
      expect(cell.value).toBeInstanceOf(Date)
      expect((cell.value as Date).toISOString()).toBe(record.date)
      expect(cell.numFmt).toBe('yyyy-mm-dd hh:mm')
    })
  })

  it('stores a formula-looking student name as text starting with an apostrophe, never as a formula', async () => {
    const path = join(dir, 'log.xlsx')
    await writeLogXlsx(path, [numberedRecord(1)])

    const cell = (await firstSheet(path)).getRow(2).getCell(LOG_COLUMNS.indexOf('studentName') + 1)
    expect(cell.type).toBe(ExcelJS.ValueType.String)
    expect(cell.value).toBe(`'${CALC_PAYLOAD}`)
    expect(cell.formula).toBeUndefined()
  })

  it('writes a header-only sheet when the log is empty', async () => {
    const path = join(dir, 'empty.xlsx')
    expect(await writeLogXlsx(path, [], { sheetName: 'Roster: 2024/25' })).toBe(0)

    const book = new ExcelJS.Workbook()
    await book.xlsx.readFile(path)
    expect(book.worksheets.map((s) => [s.name, s.rowCount])).toEqual([['Roster 2024 25', 1]])
  })

  it('leaves neither the file nor its .tmp behind when the rows fail midway', async () => {
    const path = join(dir, 'broken.xlsx')
    async function* failing(): AsyncGenerator<LogRecord> {
      yield numberedRecord(1)
      throw new Error('source went away')
    }

    await expect(writeLogXlsx(path, failing())).rejects.toThrow('source went away')
    expect(await readdir(dir)).toEqual([])
  })

  it('rejects a sheet size above Excel’s row limit', async () => {
    const error: unknown = await writeLogXlsx(join(dir, 'x.xlsx'), [], { maxRowsPerSheet: 1_048_576 }).catch((e: unknown) => e)
    expect(isSynclogError(error, 'USAGE')).toBe(true)
  })

  it('still finds exceljs’ sheet stream to wait on, so backpressure is real and not just yielding', () => {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: new PassThrough(), useStyles: true })
    const pacer = new SheetPacer(workbook.addWorksheet('probe'), new Promise<never>(() => undefined), 1000)
    expect(pacer.drains).toBe(true)
  })

  const openpyxl = spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0
  it.skipIf(!openpyxl)(
    `opens in openpyxl with the same rows${openpyxl ? '' : ' (skipped: python3-openpyxl is not installed)'}`,
    async () => {
      const path = join(dir, 'log.xlsx')
      await writeLogXlsx(path, range(1200).map(numberedRecord), { maxRowsPerSheet: 1000 })
      const script = [
        'import json, sys, openpyxl',
        'wb = openpyxl.load_workbook(sys.argv[1])',
        'print(json.dumps([[ws.title, ws.max_row] for ws in wb.worksheets]))',
      ].join('\n')
      const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, path])
      expect(JSON.parse(stdout)).toEqual([
        ['Sync Log', 1001],
        ['Sync Log (2)', 201],
      ])
    },
  )
})

async function firstSheet(path: string): Promise<ExcelJS.Worksheet> {
  const book = new ExcelJS.Workbook()
  await book.xlsx.readFile(path)
  const sheet = book.worksheets[0]
  if (!sheet) throw new Error(`${path} has no worksheet`)
  return sheet
}

describe('writeSyncReports', () => {
  const rows: LogRecord[] = [
    logRecord({ seq: 1, entity: 'user', sourcedId: 'tch1', outcome: 'Skipped', field: 'email', message: 'Email is required for teachers' }),
    logRecord({ seq: 2, entity: 'user', sourcedId: 'stu9', outcome: 'Invalid', field: 'grades', message: '=unknown grade' }),
    logRecord({ seq: 3, entity: 'user', sourcedId: 'stu1', outcome: 'New' }),
    logRecord({ seq: 4, entity: 'org', sourcedId: 'sch9', outcome: 'Excluded', field: 'school', message: 'school is not onboarded' }),
    logRecord({ seq: 5, entity: 'class', sourcedId: 'k1', outcome: 'Merged', message: 'merged into k2' }),
    logRecord({ seq: 6, entity: 'enrollment', sourcedId: 'e-stu1', outcome: 'New' }),
    logRecord({ seq: 7, entity: 'course', sourcedId: 'c1', outcome: 'Skipped', syncId: 'another-sync' }),
    logRecord({ seq: 8, entity: '', outcome: '', action: 'Deleted Roster' }),
  ]

  it('writes one report per entity that has reportable rows, in entity order', async () => {
    const reports = join(dir, 'reports', 'sync-1')
    const files = await writeSyncReports(reports, 'sync-1', rows)

    expect(files).toEqual([
      { file: join(reports, 'schools_sync_report.csv'), rows: 1 },
      { file: join(reports, 'users_sync_report.csv'), rows: 2 },
      { file: join(reports, 'classes_sync_report.csv'), rows: 1 },
    ])
    expect((await readdir(reports)).sort()).toEqual(['classes_sync_report.csv', 'schools_sync_report.csv', 'users_sync_report.csv'])
  })

  it('maps outcomes to Clever statuses and neutralizes messages', async () => {
    await writeSyncReports(dir, 'sync-1', rows)

    const users = await readFile(join(dir, 'users_sync_report.csv'), 'utf8')
    expect(users.startsWith('\uFEFFid,sis_id,field,status,message,cause\r\n')).toBe(true)
    expect(parse(users, { bom: true, columns: true })).toEqual([
      { id: 'tch1', sis_id: 'tch1', field: 'email', status: 'Failure', message: 'Email is required for teachers', cause: '' },
      { id: 'stu9', sis_id: 'stu9', field: 'grades', status: 'Warning', message: "'=unknown grade", cause: '' },
    ])
    const schools: Record<string, string>[] = parse(await readFile(join(dir, 'schools_sync_report.csv')), { bom: true, columns: true })
    expect(schools.map((r) => r.status)).toEqual(['Excluded'])
    const classes: Record<string, string>[] = parse(await readFile(join(dir, 'classes_sync_report.csv')), { bom: true, columns: true })
    expect(classes.map((r) => r.status)).toEqual(['Merged'])
  })

  it('writes no file for an entity without reportable rows, nor for rows of another sync', async () => {
    await writeSyncReports(dir, 'sync-1', rows)
    const names = await readdir(dir)
    expect(names).not.toContain('enrollments_sync_report.csv')
    expect(names).not.toContain('courses_sync_report.csv')
    expect(names).not.toContain('academicSessions_sync_report.csv')
    expect(names.some((n) => n.endsWith('.tmp'))).toBe(false)
  })

  it('gives one row per failed object under its own id, its errors joined, the caused ones grouped after their cause', async () => {
    const cause = "class 'k9' deleted"
    await writeSyncReports(dir, 'sync-1', [
      logRecord({ seq: 1, entity: 'user', sourcedId: 'stu9', outcome: 'Invalid', field: 'grades', message: 'grade 13' }),
      logRecord({ seq: 2, entity: 'user', sourcedId: 'stu9', outcome: 'Invalid', field: 'email', message: 'not an email' }),
      logRecord({
        seq: 3,
        entity: 'user',
        sourcedId: 'stu8',
        outcome: 'Skipped',
        field: 'orgSourcedIds',
        message: "unknown org 'o1'",
        cause: "org 'o1' unknown",
      }),
      logRecord({ seq: 4, entity: 'user', sourcedId: 'tch1', outcome: 'Skipped', field: 'email', message: 'Email is required' }),
      logRecord({
        seq: 5,
        entity: 'user',
        sourcedId: 'tch1',
        outcome: 'Excluded',
        field: 'sourcedId',
        message: "duplicate of sourcedId 'tch1'",
      }),
      logRecord({ seq: 6, entity: 'enrollment', sourcedId: 'e1', outcome: 'Skipped', field: 'classSourcedId', message: 'deleted', cause }),
      logRecord({ seq: 7, entity: 'enrollment', sourcedId: 'e2', outcome: 'Skipped', field: 'userSourcedId', message: 'unknown' }),
      logRecord({ seq: 8, entity: 'enrollment', sourcedId: 'e3', outcome: 'Skipped', field: 'classSourcedId', message: 'deleted', cause }),
    ])
    const users: Record<string, string>[] = parse(await readFile(join(dir, 'users_sync_report.csv')), { bom: true, columns: true })
    expect(users).toEqual([
      { id: 'stu9', sis_id: 'stu9', field: 'grades, email', status: 'Warning', message: 'grade 13 | not an email', cause: '' },
      {
        id: 'tch1',
        sis_id: 'tch1',
        field: 'email, sourcedId',
        status: 'Failure',
        message: "Email is required | duplicate of sourcedId 'tch1'",
        cause: '',
      },
      { id: 'stu8', sis_id: 'stu8', field: 'orgSourcedIds', status: 'Failure', message: "unknown org 'o1'", cause: "org 'o1' unknown" },
    ])
    const enrollments: Record<string, string>[] = parse(await readFile(join(dir, 'enrollments_sync_report.csv')), {
      bom: true,
      columns: true,
    })
    expect(enrollments.map((r) => `${r.id} ${r.cause}`)).toEqual(['e2 ', `e1 ${cause}`, `e3 ${cause}`])
  })

  it('writes nothing at all for a clean sync', async () => {
    const reports = join(dir, 'clean')
    expect(await writeSyncReports(reports, 'sync-1', [logRecord()])).toEqual([])
    expect(await readdir(dir)).toEqual([])
  })
})

describe('formatTextTable', () => {
  const columns = [
    ['name', 'Name'],
    ['count', 'Count'],
    ['school', 'School'],
  ] as const

  it('aligns text to the left and numbers to the right under a rule', () => {
    const table = formatTextTable(
      [
        { name: 'Smith, John', count: 5, school: 'Fremont High' },
        { name: 'Lee', count: 120, school: 'Oak' },
      ],
      columns,
    )
    expect(table.split('\n')).toEqual([
      'Name         Count  School',
      '-----------  -----  ------------',
      'Smith, John      5  Fremont High',
      'Lee            120  Oak',
    ])
  })

  it('cuts cells longer than maxWidth with an ellipsis', () => {
    const table = formatTextTable([{ name: 'Bartholomew-Featherstonehaugh', count: 1, school: 'X' }], columns, { maxWidth: 10 })
    expect(table.split('\n')[2]).toBe('Bartholom…      1  X')
  })

  it('cuts at 40 characters by default and keeps each cell on one line', () => {
    const table = formatTextTable([{ name: `${'a'.repeat(45)}`, count: 1, school: 'line\nbreak\u001b[31m' }], columns)
    const [, , row] = table.split('\n')
    expect(table.split('\n')).toHaveLength(3)
    expect(row).toBe(`${'a'.repeat(39)}…      1  line\\nbreak\\x1b[31m`)
  })

  it('shows missing cells as blanks', () => {
    expect(formatTextTable([{ name: 'Lee' }], columns).split('\n')[2]).toBe('Lee')
  })
})
