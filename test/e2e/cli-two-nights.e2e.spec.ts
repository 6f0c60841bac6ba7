/**
 * A district data manager's two nights, through the real CLI and embedded ClickHouse.
 * Expectations are computed from the generated CSV tables, not from synclog's own SQL.
 */
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { parse } from 'csv-parse/sync'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'

// The school year in progress, so the sections' rosters are active when imported.
const { night1, night2, changes } = generateDemoNights({ seed: 11, schoolYear: currentSchoolYear(new Date()) })
let data: string
let dir: string
let sync1: Record<string, unknown>
let sync2: Record<string, unknown>

const ids = (rows: readonly Record<string, string>[]): Set<string> => new Set(rows.map((r) => r.sourcedId!))
const studentEnrollments = (t: typeof night1) => t.enrollments.filter((e) => e.role === 'student')

beforeAll(async () => {
  dir = await tempDir('nights')
  data = join(dir, 'data')
  await writeOneRosterBundle(join(dir, 'night1'), night1)
  await writeOneRosterBundle(join(dir, 'night2'), night2)
  const first = await synclog(['import', join(dir, 'night1'), '--tenant', 'district-a', '--format', 'json', '--data', data])
  expect(first.stderr).toBe('')
  expect(first.code).toBe(0)
  sync1 = JSON.parse(first.stdout) as Record<string, unknown>
  const second = await synclog(['import', join(dir, 'night2'), '--tenant', 'district-a', '--format', 'json', '--data', data])
  expect(second.code).toBe(0)
  sync2 = JSON.parse(second.stdout) as Record<string, unknown>
}, 120_000)

describe('importing two nightly OneRoster exports', () => {
  it('prints the documented JSON shape for each import', () => {
    expect(Object.keys(sync1).sort()).toEqual(
      expect.arrayContaining(['syncId', 'tenant', 'app', 'status', 'startedAt', 'endedAt', 'counts']),
    )
    expect(sync1).toMatchObject({ tenant: 'district-a', app: 'oneroster-csv', status: 'Completed' })
    const users = (sync1.counts as Record<string, Record<string, number>>).user!
    expect(Object.keys(users).sort()).toEqual([
      'deleted',
      'duplicates',
      'excluded',
      'invalid',
      'merged',
      'new',
      'noChange',
      'skipped',
      'total',
      'updated',
    ])
    expect(users.total).toBe(night1.users.length)
    expect(users.new).toBe(night1.users.length)
  })

  it('marks the second night Completed with Errors because of its bad rows', () => {
    expect(sync2.status).toBe('Completed with Errors')
    const counts = sync2.counts as Record<string, Record<string, number>>
    expect(counts.enrollment!.total).toBe(
      night2.enrollments.length +
        studentEnrollments(night1).filter((e) => !ids(night2.enrollments).has(e.sourcedId!)).length +
        night1.enrollments.filter((e) => e.role !== 'student' && !ids(night2.enrollments).has(e.sourcedId!)).length,
    )
  })

  it('creates a roster for every student enrollment of the first night', async () => {
    const run = await synclog(['log', '--sync', String(sync1.syncId), '--action', 'Created Roster', '--format', 'json', '--data', data])
    const rows = jsonLines(run.stdout)
    expect(ids(rows)).toEqual(ids(studentEnrollments(night1)))
  })

  it('deletes the roster of every student enrollment that is gone the second night', async () => {
    const run = await synclog(['log', '--sync', String(sync2.syncId), '--action', 'Deleted Roster', '--format', 'json', '--data', data])
    const deleted = ids(jsonLines(run.stdout))
    const gone = studentEnrollments(night1)
      .filter((e) => !ids(night2.enrollments).has(e.sourcedId!))
      .map((e) => e.sourcedId!)
    expect(gone.length).toBeGreaterThan(0)
    for (const id of gone) expect(deleted.has(id), `Deleted Roster for ${id}`).toBe(true)
  })

  it('shows the renamed teacher on every section they primarily teach', async () => {
    const before = new Map(night1.users.map((u) => [u.sourcedId, `${u.familyName}, ${u.givenName}`]))
    const renamed = night2.users.filter(
      (u) => u.role === 'teacher' && before.has(u.sourcedId) && before.get(u.sourcedId) !== `${u.familyName}, ${u.givenName}`,
    )
    expect(renamed).toHaveLength(1)
    const teacher = renamed[0]!
    const sections = night2.enrollments
      .filter((e) => e.userSourcedId === teacher.sourcedId && e.role === 'teacher' && e.primary === 'true')
      .map((e) => e.classSourcedId)
    const run = await synclog([
      'log',
      '--sync',
      String(sync2.syncId),
      '--contains',
      `newValue=${teacher.familyName}, ${teacher.givenName}`,
      '--format',
      'json',
      '--data',
      data,
    ])
    const rows = jsonLines(run.stdout).filter((r) => r.action === 'Updated Section Data')
    expect(rows.map((r) => r.sourcedId).sort()).toEqual([...new Set(sections)].sort())
    expect(rows[0]!.oldValue).toBe(`Teacher Display Name: ${before.get(teacher.sourcedId)}`)
  })

  it('invalidates the removed section and deletes its active rosters', async () => {
    const run = await synclog([
      'log',
      '--sync',
      String(sync2.syncId),
      '--action',
      'Invalidated Section',
      '--format',
      'json',
      '--data',
      data,
    ])
    const rows = jsonLines(run.stdout)
    const removed = night1.classes.find((c) => c.sourcedId === changes.removedClass.classId)!
    expect(rows).toEqual([expect.objectContaining({ sourcedId: removed.sourcedId, sectionNumber: removed.classCode })])
  })

  it('prints log rows with exactly the documented JSON keys', async () => {
    const run = await synclog(['log', '--format', 'json', '--limit', '5', '--data', data])
    const rows = jsonLines(run.stdout)
    expect(rows).toHaveLength(5)
    for (const row of rows) expect(Object.keys(row)).toEqual([...LOG_COLUMNS])
  })

  it('filters case-insensitively on any column and by school on either side', async () => {
    const student = night2.users.find((u) => u.role === 'student' && /^[A-Za-z]{3,}/.test(u.familyName ?? ''))!
    const needle = student.familyName!.slice(0, 3).toUpperCase()
    const run = await synclog(['log', '--contains', `studentName=${needle}`, '--format', 'json', '--data', data])
    const rows = jsonLines(run.stdout)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r.studentName!.toLowerCase()).toContain(needle.toLowerCase())

    const school = night1.orgs.find((o) => o.type === 'school')!.sourcedId!
    const bySchool = jsonLines((await synclog(['log', '--school', school, '--format', 'json', '--data', data])).stdout)
    expect(bySchool.length).toBeGreaterThan(0)
    for (const r of bySchool) expect([r.homeSchoolId, r.servingSchoolId]).toContain(school)
  })

  it('sums the per-school statistics to the sync totals', async () => {
    const run = await synclog(['summary', String(sync2.syncId), '--by-school', '--format', 'json', '--data', data])
    const summary = JSON.parse(run.stdout) as {
      counts: Record<string, Record<string, number>>
      bySchool: Record<string, { counts: Record<string, Record<string, number>> }>
    }
    for (const [entity, counts] of Object.entries(summary.counts)) {
      const summed = Object.values(summary.bySchool).reduce((n, s) => n + (s.counts[entity]?.total ?? 0), 0)
      expect(summed, entity).toBe(counts.total)
    }
  })

  it('drills down from each school’s Deleted enrollment count to exactly the enrollments missing from the second file', async () => {
    const inNight2 = ids(night2.enrollments)
    const schools = night1.orgs.filter((o) => o.type === 'school').map((o) => o.sourcedId!)
    let checked = 0
    for (const school of schools) {
      const expected = new Set(
        night1.enrollments.filter((e) => !inNight2.has(e.sourcedId!) && e.schoolSourcedId === school).map((e) => e.sourcedId!),
      )
      const run = await synclog([
        'drilldown',
        String(sync2.syncId),
        '--entity',
        'enrollment',
        '--outcome',
        'Deleted',
        '--school',
        school,
        '--limit',
        '10000',
        '--format',
        'json',
        '--data',
        data,
      ])
      expect(run.code, run.stderr).toBe(0)
      const drill = JSON.parse(run.stdout) as { count: number; rows: Record<string, string>[]; nextCursor: string | null }
      expect(drill.count, school).toBe(expected.size)
      expect(new Set(drill.rows.map((r) => r.sourcedId)), school).toEqual(expected)
      for (const r of drill.rows)
        expect(r).toMatchObject({ syncId: sync2.syncId, entity: 'enrollment', outcome: 'Deleted', recordSchoolId: school })
      checked += expected.size
    }
    expect(checked).toBeGreaterThan(0)
  })

  it('says why a No Change count has no rows', async () => {
    const run = await synclog([
      'drilldown',
      String(sync2.syncId),
      '--entity',
      'academicSession',
      '--outcome',
      'No Change',
      '--format',
      'json',
      '--data',
      data,
    ])
    const drill = JSON.parse(run.stdout) as { count: number; rows: unknown[]; note: string }
    expect(drill.count).toBe(night2.academicSessions.length)
    expect(drill.rows).toEqual([])
    expect(drill.note).toMatch(/not logged/)
  })

  it('shows a student’s history across both nights: a Created Roster for each first-night section, newest first', async () => {
    const student = night1.users.find(
      (u) => u.role === 'student' && night1.enrollments.filter((e) => e.userSourcedId === u.sourcedId).length >= 2,
    )!
    const sections = new Set(
      night1.enrollments
        .filter((e) => e.userSourcedId === student.sourcedId && e.role === 'student')
        .map((e) => night1.classes.find((c) => c.sourcedId === e.classSourcedId)!.classCode!),
    )
    const run = await synclog(['history', '--student', student.identifier!, '--limit', '1000', '--format', 'json', '--data', data])
    const rows = jsonLines(run.stdout)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r.studentNumber).toBe(student.identifier)
    const created = rows.filter((r) => r.syncId === sync1.syncId && r.action === 'Created Roster')
    expect(new Set(created.map((r) => r.sectionNumber))).toEqual(sections)
    expect(rows.map((r) => r.date)).toEqual([...rows.map((r) => r.date!)].sort().reverse())
  })

  it('writes an Excel file of the filtered log with a header and one row per log row', async () => {
    const out = join(dir, 'deleted.xlsx')
    const run = await synclog(['log', '--action', 'Deleted Roster', '--format', 'xlsx', '--out', out, '--data', data])
    expect(run.code).toBe(0)
    const json = jsonLines((await synclog(['log', '--action', 'Deleted Roster', '--format', 'json', '--data', data])).stdout)
    const book = new ExcelJS.Workbook()
    await book.xlsx.readFile(out)
    const sheet = book.worksheets[0]!
    expect(sheet.getRow(1).getCell(2).value).toBe('Action')
    expect(sheet.actualRowCount - 1).toBe(json.length)
  })

  it('writes Clever-style reports naming the field and the message of each rejected record', async () => {
    const out = join(dir, 'reports')
    const run = await synclog(['report', String(sync2.syncId), '--out', out, '--data', data])
    expect(run.code).toBe(0)
    const users = parse(await readFile(join(out, 'users_sync_report.csv')), { bom: true, columns: true }) as Record<string, string>[]
    expect(
      users.some(
        (r) =>
          r.field === 'email' &&
          r.status === 'Failure' &&
          r.message!.startsWith('Email is required for users with teacher or administrator roles (users.csv:'),
      ),
    ).toBe(true)
    expect(existsSync(join(out, 'enrollments_sync_report.csv'))).toBe(true)
  })

  it('never writes a live formula into CSV output', async () => {
    const run = await synclog(['log', '--format', 'csv', '--data', data])
    const rows = parse(run.stdout, { bom: true }) as string[][]
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^\s*[=+\-@]/)
    expect(run.stdout).toContain('=HYPERLINK') // the formula name is there, as text inside 'Last, First'
  })

  it('lists both syncs, newest first', async () => {
    const run = await synclog(['syncs', '--format', 'json', '--data', data])
    const runs = JSON.parse(run.stdout) as { syncId: string; status: string }[]
    expect(runs.map((r) => r.syncId)).toEqual([sync2.syncId, sync1.syncId])
  })

  it('gives only No Change when the second night is imported again', async () => {
    const run = await synclog(['import', join(dir, 'night2'), '--tenant', 'district-a', '--format', 'json', '--data', data])
    const again = JSON.parse(run.stdout) as { syncId: string; counts: Record<string, Record<string, number>> }
    expect(again.syncId).not.toBe(sync2.syncId)
    for (const [entity, c] of Object.entries(again.counts)) {
      expect((c.new ?? 0) + (c.updated ?? 0) + (c.deleted ?? 0), entity).toBe(0)
    }
    const rows = jsonLines((await synclog(['log', '--sync', again.syncId, '--format', 'json', '--data', data])).stdout)
    expect(rows.filter((r) => !['Skipped', 'Invalid', 'Merged', 'Excluded'].includes(r.action!))).toEqual([])
  })
})
