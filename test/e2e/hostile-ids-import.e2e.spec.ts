/**
 * Ids are data, never keys of plain objects: a OneRoster district whose every
 * sourcedId (school, term, course, class, student, enrollment, student number,
 * section number) is one of hundreds of hostile ids (`__proto__`, `constructor`,
 * `toString`, every built-in property name, numeric strings, non-ASCII, quotes,
 * separators), with extension columns named `metadata.__proto__` and the like,
 * imported for two nights through the real CLI, then read back through every
 * command and the HTTP API. Expectations come from the generated tables.
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle, type OneRosterTables } from '../../src/demo/write-oneroster.js'
import { apiGet, apiJson, createToken, startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir, type CliRun } from '../support/cli.js'
import { ODD_IDS, hostileDistrict, hostileIds, outcomeCounts, teacherIdOf, type Summary } from '../support/hostile-ids.js'

const YEAR = currentSchoolYear(new Date())
/** School ids are referenced from OneRoster list fields, which split on commas and trim: ids with those are left to the NDJSON test. */
const IDS = hostileIds({ csvLists: false })
const TENANT = 'constructor'
const OTHER_TENANT = 'toString'

const night1 = hostileDistrict(IDS, YEAR)
const SCHOOLS = night1.schools
/** Students (and their enrollments) gone the second night: 5 %, under the hold threshold. */
const DELETED = new Set(SCHOOLS.filter((_, i) => i % 20 === 3))
const RENAMED = new Set(SCHOOLS.filter((_, i) => i % 5 === 1))
/** Students whose `metadata.__proto__` changes the second night. */
const RETAGGED = new Set(SCHOOLS.filter((id, i) => i % 7 === 2 && !DELETED.has(id)))

const night2Full = hostileDistrict(IDS, YEAR, {
  schoolName: (id) => (RENAMED.has(id) ? `Renamed ${id}` : `School ${id}`),
  metadata: (id, _i, name) => (name === '__proto__' && RETAGGED.has(id) ? `changed ${id}` : undefined),
})
const night2: OneRosterTables = {
  ...night2Full.tables,
  users: night2Full.tables.users.filter((u) => u.role !== 'student' || !DELETED.has(u.sourcedId!)),
  enrollments: night2Full.tables.enrollments.filter((e) => e.role !== 'student' || !DELETED.has(e.sourcedId!)),
}
/** A second tenant whose district is `__proto__`, so that id is a district and a school year too. */
const otherDistrict = hostileDistrict(IDS, YEAR, { districtId: '__proto__' })

let dir = ''
let data = ''
let sync1: Summary
let sync2: Summary
let syncOther: Summary

const cli = (args: readonly string[]): Promise<CliRun> => synclog([...args, '--data', data])

async function importBundle(bundle: string, tenant: string): Promise<Summary> {
  const run = await cli(['import', join(dir, bundle), '--tenant', tenant, '--format', 'json'])
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as Summary
}

/** Each sync's `summary --by-school --format json`, read once (the HTTP answers are compared with it). */
const summaries = new Map<string, Summary>()
async function summaryOf(syncId: string): Promise<Summary> {
  if (!summaries.has(syncId)) {
    const run = await cli(['summary', syncId, '--by-school', '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    summaries.set(syncId, JSON.parse(run.stdout) as Summary)
  }
  return summaries.get(syncId)!
}

/** Each sync's whole `log --format json`, read once. */
const logs = new Map<string, Record<string, string>[]>()
async function logOf(syncId: string): Promise<Record<string, string>[]> {
  if (!logs.has(syncId)) {
    const run = await cli(['log', '--sync', syncId, '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    logs.set(syncId, jsonLines(run.stdout))
  }
  return logs.get(syncId)!
}

const counts = outcomeCounts

beforeAll(async () => {
  dir = await tempDir('hostile-ids')
  data = join(dir, 'data')
  await writeOneRosterBundle(join(dir, 'night1'), night1.tables)
  await writeOneRosterBundle(join(dir, 'night2'), night2)
  await writeOneRosterBundle(join(dir, 'other'), otherDistrict.tables)
  sync1 = await importBundle('night1', TENANT)
  sync2 = await importBundle('night2', TENANT)
  syncOther = await importBundle('other', OTHER_TENANT)
}, 120_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('importing a district whose every id is a JavaScript property name or an odd string', () => {
  it('uses hundreds of distinct hostile ids', () => {
    expect(SCHOOLS.length).toBeGreaterThan(300)
    for (const id of [
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'valueOf',
      '__defineGetter__',
      'length',
      'prototype',
      'then',
      'toJSON',
      '0',
      'NaN',
      '学生',
      'say "hi"',
    ]) {
      expect(SCHOOLS, id).toContain(id)
    }
    expect(otherDistrict.schools).toContain('toString')
  })

  it('completes both nights and counts every record of the first as New', () => {
    const s = SCHOOLS.length
    expect(sync1.status).toBe('Completed')
    expect(sync1.counts).toEqual({
      org: counts({ new: 1 + s }),
      academicSession: counts({ new: 1 + s }),
      course: counts({ new: s }),
      class: counts({ new: s }),
      user: counts({ new: 2 * s }),
      enrollment: counts({ new: 2 * s }),
    })
    expect(syncOther.status).toBe('Completed')
    expect(syncOther.counts.org).toEqual(counts({ new: 1 + otherDistrict.schools.length }))
  })

  it('counts the second night’s deletions and updates of hostile ids exactly', () => {
    const s = SCHOOLS.length
    expect(sync2.status).toBe('Completed')
    expect(sync2.counts.org).toEqual(counts({ updated: RENAMED.size, noChange: 1 + s - RENAMED.size }))
    expect(sync2.counts.user).toEqual(
      counts({ deleted: DELETED.size, updated: RETAGGED.size, noChange: 2 * s - DELETED.size - RETAGGED.size }),
    )
    expect(sync2.counts.enrollment).toEqual(counts({ deleted: DELETED.size, noChange: 2 * s - DELETED.size }))
    expect(sync2.counts.class).toEqual(counts({ noChange: s }))
  })

  it('refuses a tenant the docs do not allow with a usage error naming --tenant, not a stack trace', async () => {
    const run = await cli(['import', join(dir, 'night1'), '--tenant', '__proto__'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("--tenant '__proto__' must be")
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('the summary of such a sync', () => {
  it('gives the same counts by school as the generated tables, one entry per hostile school id', async () => {
    for (const [sync, schools] of [
      [sync1, SCHOOLS],
      [syncOther, otherDistrict.schools],
    ] as const) {
      const summary = await summaryOf(sync.syncId)
      expect(summary.counts).toEqual(sync.counts)
      const bySchool = new Map(Object.entries(summary.bySchool!))
      expect(new Set(bySchool.keys())).toEqual(new Set([...schools, '(district)']))
      for (const id of schools) {
        expect(bySchool.get(id)?.counts, id).toEqual({
          org: counts({ new: 1 }),
          course: counts({ new: 1 }),
          class: counts({ new: 1 }),
          user: counts({ new: 2 }),
          enrollment: counts({ new: 2 }),
        })
      }
      expect(bySchool.get('(district)')?.counts).toEqual({ org: counts({ new: 1 }), academicSession: counts({ new: 1 + schools.length }) })
    }
  })

  it('puts each deletion and rename under its own school the second night', async () => {
    const bySchool = new Map(Object.entries((await summaryOf(sync2.syncId)).bySchool!))
    for (const id of SCHOOLS) {
      const c = bySchool.get(id)!.counts
      expect(c.enrollment!.deleted, id).toBe(DELETED.has(id) ? 1 : 0)
      expect(c.user!.deleted, id).toBe(DELETED.has(id) ? 1 : 0)
      expect(c.user!.updated, id).toBe(RETAGGED.has(id) ? 1 : 0)
      expect(c.org!.updated, id).toBe(RENAMED.has(id) ? 1 : 0)
      expect(bySchool.get(id)!.schoolName, id).toBe(RENAMED.has(id) ? `Renamed ${id}` : `School ${id}`)
    }
  })

  it('prints the table form by school too', async () => {
    const run = await cli(['summary', sync2.syncId, '--by-school'])
    expect(run.code, run.stderr).toBe(0)
    for (const id of ['hasOwnProperty', 'valueOf', '学生']) expect(run.stdout).toContain(`(${id})`)
  })
})

describe('the log of such a sync', () => {
  it('shows every hostile id whole: record, student number, section number and school', async () => {
    const created = (await logOf(sync1.syncId)).filter((r) => r.action === 'Created Roster')
    expect(new Set(created.map((r) => r.sourcedId))).toEqual(new Set(SCHOOLS))
    for (const r of created) {
      expect(r.studentNumber).toBe(r.sourcedId)
      expect(r.sectionNumber).toBe(r.sourcedId)
      expect(r.servingSchoolId).toBe(r.sourcedId)
      expect(r.homeSchoolId).toBe(r.sourcedId)
      expect(r.servingDistrictId).toBe(night1.districtId)
    }
  })

  it('deletes the rosters of exactly the students gone the second night', async () => {
    const deleted = (await logOf(sync2.syncId)).filter((r) => r.action === 'Deleted Roster')
    expect(new Set(deleted.map((r) => r.sourcedId))).toEqual(DELETED)
  })

  it('logs a change of the metadata.__proto__ column as a field like any other', async () => {
    const rows = (await logOf(sync2.syncId)).filter((r) => r.entity === 'user' && r.outcome === 'Updated')
    expect(new Set(rows.map((r) => r.sourcedId))).toEqual(RETAGGED)
    for (const r of rows) {
      expect(r).toMatchObject({
        field: 'metadata.__proto__',
        oldValue: `metadata.__proto__: __proto__ of ${r.sourcedId}`,
        newValue: `metadata.__proto__: changed ${r.sourcedId}`,
      })
    }
  })

  it('finds a record’s history by a hostile id', async () => {
    const run = await cli(['history', '--record', '__proto__', '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    const rows = jsonLines(run.stdout)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r.sourcedId).toBe('__proto__')
  })

  it('drills into a hostile school’s Deleted enrollments', async () => {
    const id = [...DELETED][0]!
    const run = await cli(['drilldown', sync2.syncId, '--entity', 'enrollment', '--outcome', 'Deleted', '--school', id, '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    const drill = JSON.parse(run.stdout) as { count: number; rows: { sourcedId: string }[] }
    expect(drill.count).toBe(1)
    expect(drill.rows.map((r) => r.sourcedId)).toEqual([id])
  })
})

describe('exports of such syncs', () => {
  it('writes the log as CSV with every row and every id whole', async () => {
    const json = await logOf(sync1.syncId)
    const run = await cli(['log', '--sync', sync1.syncId, '--format', 'csv'])
    expect(run.code, run.stderr).toBe(0)
    const rows = parse(run.stdout, { bom: true, columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(json.length)
    const created = rows.filter((r) => r.Action === 'Created Roster').map((r) => r['Section Number']!)
    // CSV output neutralises a leading '=', '+', '-', '@' with an apostrophe; the id is otherwise whole.
    expect(new Set(created.map((v) => v.replace(/^'(?=[=+\-@])/, '')))).toEqual(new Set(SCHOOLS))
  })

  it('writes the scheduled export per school, one file per hostile school plus the district level', async () => {
    const out = join(dir, 'exports')
    const run = await cli([
      'export',
      '--name',
      'hostile',
      '--out',
      out,
      '--per-school',
      '--format',
      'csv',
      '--tenant',
      TENANT,
      '--since',
      '2000-01-01',
    ])
    expect(run.code, run.stderr).toBe(0)
    const files = await readdir(out)
    expect(files.length).toBe(SCHOOLS.length + 1)
    let rows = 0
    for (const f of files) rows += (parse(await readFile(join(out, f)), { bom: true, columns: true }) as unknown[]).length
    const logged = (await logOf(sync1.syncId)).length + (await logOf(sync2.syncId)).length
    expect(rows).toBeGreaterThanOrEqual(logged)
  })

  it('writes the log as Excel and the sync reports', async () => {
    const xlsx = await cli(['log', '--sync', sync2.syncId, '--format', 'xlsx', '--out', join(dir, 'log.xlsx')])
    expect(xlsx.code, xlsx.stderr).toBe(0)
    const report = await cli(['report', sync2.syncId, '--out', join(dir, 'reports')])
    expect(report.code, report.stderr).toBe(0)
  })
})

describe('the HTTP API over such syncs', () => {
  let serve: RunningServe
  const token = { operator: '', tenant: '', school: '' }
  const q = (params: Record<string, string>): string => new URLSearchParams(Object.entries(params)).toString()
  const syncPath = (s: Summary, rest: string): string => `/api/v1/syncs/${encodeURIComponent(s.syncId)}/${rest}`
  /** Throws unless the answer is 200. */
  const getJson = <T>(path: string, bearer: string): Promise<T> => apiJson<T>(serve.base, path, bearer)

  beforeAll(async () => {
    token.operator = await createToken(data, 'operator')
    token.tenant = await createToken(data, 'tenant', '--tenant', TENANT)
    token.school = await createToken(data, 'school', '--tenant', TENANT, '--school', '__proto__')
    for (const s of [sync1, sync2, syncOther]) await summaryOf(s.syncId) // the CLI's answers, before the server holds the data directory
    serve = await startServe(data)
  }, 90_000)

  afterAll(async () => {
    await serve?.stop()
  })

  it('answers every summary with the counts the CLI gives, by hostile school id', async () => {
    for (const s of [sync1, sync2, syncOther]) {
      const api = await getJson<Summary>(syncPath(s, 'summary?bySchool=true'), token.operator)
      const cliSummary = await summaryOf(s.syncId)
      expect(api.counts).toEqual(cliSummary.counts)
      expect(api.bySchool).toEqual(cliSummary.bySchool)
    }
  })

  it('drills into every school named after a property of Object, Function or Array, or an odd id, without a single error', async () => {
    const names = new Set([Object.prototype, Function.prototype, Array.prototype].flatMap((p) => Object.getOwnPropertyNames(p)))
    const picked = SCHOOLS.filter((id) => names.has(id) || DELETED.has(id) || ODD_IDS.includes(id))
    expect(picked.length).toBeGreaterThan(100)
    for (const id of picked) {
      const drill = await getJson<{ count: number; rows: { sourcedId: string }[] }>(
        syncPath(sync2, `drilldown?${q({ entity: 'enrollment', school: id })}`),
        token.operator,
      )
      expect(drill.count, id).toBe(2)
      if (DELETED.has(id))
        expect(
          drill.rows.map((r) => r.sourcedId),
          id,
        ).toEqual([id])
    }
  })

  it('lists every hostile school and pages the whole log of a sync', async () => {
    const schools = await getJson<{ schools: { tenant: string; schoolId: string }[] }>('/api/v1/schools', token.operator)
    expect(new Set(schools.schools.filter((s) => s.tenant === TENANT).map((s) => s.schoolId))).toEqual(new Set(SCHOOLS))
    const page = await getJson<{ rows: { sourcedId: string }[] }>(
      `/api/v1/log?${q({ sync: sync1.syncId, action: 'Created Roster', limit: '5000' })}`,
      token.operator,
    )
    expect(new Set(page.rows.map((r) => r.sourcedId))).toEqual(new Set(SCHOOLS))
  })

  it('downloads the report and the log as CSV', async () => {
    await apiGet(serve.base, syncPath(sync2, 'report.csv'), token.operator)
    await apiGet(serve.base, `/api/v1/log.csv?${q({ sync: sync1.syncId })}`, token.operator)
    for (const id of ['constructor', 'hasOwnProperty', 'sch:001', 'say "hi"']) {
      const history = await getJson<{ rows: { sourcedId: string }[] }>(`/api/v1/history?${q({ kind: 'record', id })}`, token.operator)
      expect(history.rows.length, id).toBeGreaterThan(0)
      for (const r of history.rows) expect(r.sourcedId).toBe(id)
    }
  })

  it('shows a token scoped to school __proto__ only that school', async () => {
    const api = await getJson<Summary>(syncPath(sync2, 'summary?bySchool=true'), token.school)
    expect(Object.keys(api.bySchool!)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(api.bySchool, '__proto__')?.value.counts.enrollment.total).toBe(2)
    const tenantSyncs = await getJson<{ syncs: { tenant: string }[] }>('/api/v1/syncs', token.tenant)
    expect(new Set(tenantSyncs.syncs.map((s) => s.tenant))).toEqual(new Set([TENANT]))
  })

  it('keeps teacher ids with a slash whole', async () => {
    const page = await getJson<{ rows: { sourcedId: string }[] }>(
      `/api/v1/log?${q({ sync: sync1.syncId, entity: 'user', limit: '5000' })}`,
      token.operator,
    )
    const ids = new Set(page.rows.map((r) => r.sourcedId))
    for (const id of SCHOOLS) expect(ids.has(teacherIdOf(id)), teacherIdOf(id)).toBe(true)
  })
})
