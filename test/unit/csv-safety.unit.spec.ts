/**
 * Formula injection: whatever a value holds, no cell of a CSV or Excel export, nor any
 * line of one, can start a formula, and every value stays in its own cell. Checked over
 * a generated corpus with an independent reader (Python's csv module, openpyxl).
 */
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeCsv } from '../../src/export/csv-writer.js'
import { neutralizeFormula } from '../../src/export/spreadsheet-safety.js'
import { writeLogXlsx } from '../../src/export/xlsx-log-writer.js'
import type { LogRecord } from '../../src/export/log-record.js'
import { FORMULA_PAYLOADS, HARMLESS, HAS_OPENPYXL, checkSpreadsheet, dangerousValues } from '../support/dangerous-cells.js'

const NO_OPENPYXL = HAS_OPENPYXL ? '' : ' (skipped: python3-openpyxl is not installed; apt-get install python3-openpyxl)'

const corpus = dangerousValues()
const COLUMNS = [
  ['n', 'Row'],
  ['value', 'Value'],
  ['other', 'Other value'],
  ['tail', 'Tail'],
] as const
/** Each value once in `value` and once in `other` next to a different one, with a number first and a sentinel last. */
const corpusRows = corpus.map((value, n) => ({ n, value, other: corpus[(n * 7 + 3) % corpus.length]!, tail: 'end' }))

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-csv-safety-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function writeCorpusCsv(): Promise<string> {
  const file = join(dir, 'corpus.csv')
  await writeCsv(createWriteStream(file), corpusRows, COLUMNS, { end: true })
  return file
}

describe('the CSV writer', () => {
  it(`keeps each of ${corpus.length} dangerous values in its own cell, neutralized on every line, as Python's csv module reads it`, async () => {
    expect(corpus.length).toBeGreaterThan(500)
    const file = await writeCorpusCsv()
    const written = [COLUMNS.map(([, header]) => header), ...corpusRows.map((r) => [r.n, r.value, r.other, r.tail])]

    const check = await checkSpreadsheet('csv', file, written)

    expect(check.failures).toEqual([])
    expect(check.rows).toBe(corpus.length + 1)
    expect(check.cells).toBe((corpus.length + 1) * COLUMNS.length)
  })

  it('quotes every field holding a line break, quote, separator, control character or edge whitespace, so no record ends inside a value', async () => {
    const text = (await readFile(await writeCorpusCsv(), 'utf8')).replace(/^\uFEFF/, '')
    // Outside quotes, only CRLF may end a line, and it always ends a record.
    const records = text.replace(/"(?:[^"]|"")*"/g, '').split('\r\n')
    expect(records).toHaveLength(corpus.length + 2)
    expect(records.at(-1)).toBe('')
    for (const record of records.slice(1, -1)) {
      expect(record).not.toMatch(/[;\p{Cc}\u2028\u2029]/u)
      const fields = record.split(',')
      expect(fields).toHaveLength(COLUMNS.length)
      for (const field of fields) expect(field).toBe(field.trim())
    }
  })

  it('writes numbers as numbers, negative ones too, and leaves harmless text as it is', async () => {
    const file = join(dir, 'plain.csv')
    const rows = HARMLESS.map((value, i) => ({ n: -i, value, other: i, tail: 'end' }))
    await writeCsv(createWriteStream(file), rows, COLUMNS, { end: true })

    const check = await checkSpreadsheet('csv', file, [COLUMNS.map(([, h]) => h), ...rows.map((r) => [r.n, r.value, r.other, r.tail])])

    expect(check.failures).toEqual([])
    expect(await readFile(file, 'utf8')).toContain('\r\n-3,')
    for (const value of HARMLESS) expect(neutralizeFormula(value)).toBe(value)
  })
})

describe('formula neutralization', () => {
  it.each(FORMULA_PAYLOADS.map((p) => [p]))('puts an apostrophe before %j on every line it starts, whatever the line break', (payload) => {
    for (const brk of ['\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\v', '\f']) {
      expect(neutralizeFormula(`${payload}${brk}${payload}`)).toBe(`'${payload}${brk}'${payload}`)
      expect(neutralizeFormula(`text${brk} ${payload}`)).toBe(`text${brk}' ${payload}`)
    }
  })

  it('sees a formula behind characters a spreadsheet drops or does not show: NUL, BOM, zero-width space, bidi marks', () => {
    for (const prefix of ['\0', '\uFEFF', '\u200b', '\u202e', '\x01', '\u3000'])
      expect(neutralizeFormula(`${prefix}=1+1`)).toBe(`'${prefix}=1+1`)
  })

  it('marks a value that starts with a line break, the OWASP carriage-return rule', () => {
    expect(neutralizeFormula('\rtext')).toBe("'\rtext")
    expect(neutralizeFormula('\r\n=1')).toBe("'\r\n'=1")
  })
})

describe('the Excel writer', () => {
  it.skipIf(!HAS_OPENPYXL)(
    `shows no formula and no line starting one in any cell of ${corpus.length} dangerous values${NO_OPENPYXL}`,
    async () => {
      const file = join(dir, 'corpus.xlsx')
      const records = corpus.map((value, seq) => logRecord(seq, value, corpus[(seq * 7 + 3) % corpus.length]!))
      await writeLogXlsx(file, records)

      const check = await checkSpreadsheet('xlsx', file)

      expect(check.failures).toEqual([])
      expect(check.rows).toBe(corpus.length + 1)
    },
  )
})

/** A log row whose user-supplied text columns hold `value` and `other`. */
function logRecord(seq: number, value: string, other: string): LogRecord {
  return {
    tenant: 'emerson',
    syncId: 'sync-1',
    seq,
    date: '2024-10-18T02:00:00.000Z',
    action: 'Created Roster',
    studentNumber: value,
    studentName: value,
    courseNumber: other,
    courseName: other,
    sectionNumber: value,
    field: 'title',
    oldValue: other,
    newValue: value,
    servingDistrictId: 'D1',
    servingDistrict: value,
    servingSchoolId: 'sch1',
    servingSchool: other,
    homeDistrictId: 'D1',
    homeDistrict: other,
    homeSchoolId: 'sch1',
    homeSchool: value,
    app: 'sis-import',
    entity: 'enrollment',
    sourcedId: value,
    outcome: 'New',
    message: other,
    recordSchoolId: 'sch1',
    cause: '',
  }
}
