/**
 * Formula injection, end to end: dangerous values arrive as a SIS's change events
 * (`synclog ingest`), land in the log's columns (names, numbers, course and section
 * titles, old and new values, sourcedIds, messages), and every CSV synclog writes is
 * read back by Python's csv module: `log --format csv`, `export --format csv`, `report`,
 * and the server's `/api/v1/log.csv` and `/api/v1/syncs/{id}/report.csv`.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOG_EXPORT_COLUMNS } from '../../src/export/log-columns.js'
import { neutralizeFormula } from '../../src/export/spreadsheet-safety.js'
import { DELTA, FULL, SyncScript, section, student } from '../support/sis.js'
import { apiGet, createToken, startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { checkSpreadsheet, dangerousValues } from '../support/dangerous-cells.js'

const corpus = dangerousValues()
/** A different value of the corpus for each one, so two dangerous values share a row. */
const partner = (i: number): string => corpus[(i * 7 + 3) % corpus.length]!
/** sourcedIds are never empty. */
const asId = (value: string, i: number): string => (value === '' ? `empty-${i}` : value)

let dir: string
let data: string
let serve: RunningServe | undefined
let token: string
const NIGHT1 = 'night-1'
const NIGHT2 = 'night-2'

/**
 * Night 1 creates a student, a section and an enrollment per value (names, student
 * number, course and section titles and codes), and enrolls students in sections that do
 * not exist under dangerous sourcedIds (Skipped: the reports' rows). Night 2 retitles
 * every section (Updated Section Data: old and new values).
 */
function nights(): string {
  const night1 = new SyncScript('district-a', NIGHT1, 'sis-nightly', '2024-10-01T02:00:00.000Z', FULL)
    .upsert('org', 'd1', { name: '=HYPERLINK("http://evil.example","district")', type: 'district' })
    .upsert('org', 'sch1', { name: "@SUM(1+1)*cmd|' /C calc'!A0", type: 'school', parentSourcedId: 'd1' })
    .upsert('academicSession', 't1', {
      title: 'Fall 2024',
      type: 'semester',
      startDate: '2024-08-15',
      endDate: '2025-01-15',
      schoolYear: '2025',
    })
  const night2 = new SyncScript('district-a', NIGHT2, 'sis-nightly', '2024-10-02T02:00:00.000Z', DELTA)
  corpus.forEach((value, i) => {
    night1
      .upsert('course', `c${i}`, { title: value, courseCode: partner(i), orgSourcedId: 'sch1' })
      .upsert('class', `k${i}`, section(`c${i}`, 'sch1', value, { title: partner(i) }))
      .upsert('user', `u${i}`, student(value, partner(i), 'sch1', value))
      .upsert('enrollment', `e${i}`, {
        classSourcedId: `k${i}`,
        schoolSourcedId: 'sch1',
        userSourcedId: `u${i}`,
        role: 'student',
        beginDate: '2024-08-15',
        endDate: '2025-01-15',
      })
      .upsert('enrollment', asId(value, i), {
        classSourcedId: asId(partner(i), i),
        schoolSourcedId: 'sch1',
        userSourcedId: `u${i}`,
        role: 'student',
      })
    night2.upsert('class', `k${i}`, section(`c${i}`, 'sch1', value, { title: value }))
  })
  return [...night1.end(), ...night2.end()].map((e) => JSON.stringify(e)).join('\n') + '\n'
}

async function expectSafe(file: string, expectedRows: number, written?: readonly (readonly (string | number)[])[]): Promise<void> {
  const check = await checkSpreadsheet('csv', file, written)
  expect(check.failures, file).toEqual([])
  expect(check.rows, file).toBe(expectedRows + 1)
}

/** Every cell of a CSV, as csv-parse reads it. */
async function cellsOf(file: string): Promise<Set<string>> {
  const rows: string[][] = parse(await readFile(file, 'utf8'), { bom: true, relax_column_count: false })
  return new Set(rows.flat())
}

async function download(path: string, file: string): Promise<string> {
  const answer = await apiGet(serve!.base, path, token)
  expect(answer.status, path).toBe(200)
  expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8')
  const target = join(dir, file)
  await writeFile(target, Buffer.from(await answer.arrayBuffer()))
  return target
}

/** The log as `log --format json` prints it: the reference the CSV outputs are checked against. */
let logRows: Record<string, string>[]

beforeAll(async () => {
  dir = await tempDir('csv-safety')
  data = join(dir, 'data')
  const events = join(dir, 'nights.ndjson')
  await writeFile(events, nights())
  const ingest = await synclog(['ingest', events, '--data', data])
  expect(ingest.code, ingest.stderr).toBe(0)
  logRows = jsonLines((await synclog(['log', '--from', '2000-01-01', '--format', 'json', '--data', data])).stdout)
  token = await createToken(data, 'csv-safety', '--tenant', 'district-a')
}, 60_000)

afterAll(async () => {
  await serve?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('every CSV output keeps dangerous values in their cells, neutralized on every line', () => {
  it('carries the whole corpus into the log: names, numbers, titles, codes, old and new values, sourcedIds', () => {
    expect(corpus.length).toBeGreaterThan(500)
    const values = new Set(logRows.flatMap((r) => [r.studentNumber, r.courseName, r.sectionNumber, r.oldValue, r.newValue, r.sourcedId]))
    for (const value of corpus) expect(values.has(value), JSON.stringify(value)).toBe(true)
  })

  it('log --format csv: the same rows and cells as --format json, each neutralized', async () => {
    const file = join(dir, 'log.csv')
    const run = await synclog(['log', '--from', '2000-01-01', '--format', 'csv', '--out', file, '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const written = [LOG_EXPORT_COLUMNS.map(([, header]) => header), ...logRows.map((r) => LOG_EXPORT_COLUMNS.map(([key]) => r[key] ?? ''))]
    await expectSafe(file, logRows.length, written)
  })

  it('export --format csv: every row of both nights, no cell or line starting a formula', async () => {
    const out = join(dir, 'exports')
    const run = await synclog(['export', '--name', 'nightly', '--out', out, '--format', 'csv', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const files = (await readdir(out)).filter((f) => f.endsWith('.csv'))
    expect(files).toHaveLength(1)
    await expectSafe(join(out, files[0]!), logRows.length)
    const cells = await cellsOf(join(out, files[0]!))
    for (const value of corpus) expect(cells.has(neutralizeFormula(value)), JSON.stringify(value)).toBe(true)
  })

  it('report: the Skipped enrollments under their dangerous sourcedIds, no cell or line starting a formula', async () => {
    const out = join(dir, 'reports')
    await mkdir(out)
    const run = await synclog(['report', NIGHT1, '--out', out, '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const reported = logRows.filter((r) => r.syncId === NIGHT1 && r.entity === 'enrollment' && r.outcome === 'Skipped')
    expect(reported.length).toBeGreaterThanOrEqual(corpus.length)
    await expectSafe(join(out, 'enrollments_sync_report.csv'), reported.length)
    const cells = await cellsOf(join(out, 'enrollments_sync_report.csv'))
    for (const [i, value] of corpus.entries()) expect(cells.has(neutralizeFormula(asId(value, i))), JSON.stringify(value)).toBe(true)
  })

  describe('over HTTP', () => {
    beforeAll(async () => {
      serve = await startServe(data)
    }, 60_000)

    it('GET /api/v1/log.csv: every row of the log, no cell or line starting a formula', async () => {
      const file = await download('/api/v1/log.csv?from=2000-01-01', 'api-log.csv')
      await expectSafe(file, logRows.length)
      const cells = await cellsOf(file)
      for (const value of corpus) expect(cells.has(neutralizeFormula(value)), JSON.stringify(value)).toBe(true)
    })

    it("GET /api/v1/syncs/{id}/report.csv: the sync's error rows, no cell or line starting a formula", async () => {
      const file = await download(`/api/v1/syncs/${NIGHT1}/report.csv`, 'api-report.csv')
      const errors = logRows.filter((r) => r.syncId === NIGHT1 && ['Skipped', 'Invalid', 'Excluded', 'Merged'].includes(r.outcome ?? ''))
      await expectSafe(file, errors.length)
      const cells = await cellsOf(file)
      for (const [i, value] of corpus.entries()) expect(cells.has(neutralizeFormula(asId(value, i))), JSON.stringify(value)).toBe(true)
    })
  })
})
