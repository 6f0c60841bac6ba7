/**
 * Root causes, as a district data manager meets them: a night whose class
 * CHEM-02 is gone while its enrollments are still sent, a school that is not
 * onboarded, and a new org the SIS sent without a name along with its users.
 * Through the real CLI (`report --group`, the Clever-style report) and the
 * HTTP API. Every expected group is counted from the generated CSV files, not
 * from synclog's SQL.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeOneRosterBundle, type OneRosterTables, type Row } from '../../src/demo/write-oneroster.js'
import { writeFolder } from '../fixtures/oneroster/bundles.js'
import { apiJson, createToken, launchBrowser, signIn, startServe, walkPages, type RunningServe } from '../support/browser.js'
import { synclog, tempDir } from '../support/cli.js'

const TENANT = 'district-a'
/** The schools onboarded for the tenant (config `onboardedSchools`): S9 is not. */
const ONBOARDED = ['sch1', 'sch2', 'annex']

type Table = Row[]
type Night = { -readonly [F in keyof OneRosterTables]: Row[] }

/** A district with schools sch1 (20 sections, CHEM-02 among them), sch2, and S9 (not onboarded). */
function firstNight(): Night {
  const night: Night = { orgs: [], academicSessions: [], courses: [], classes: [], users: [], enrollments: [] }
  night.orgs.push({ sourcedId: 'd1', name: 'Emerson Unified', type: 'district' })
  for (const school of ['sch1', 'sch2', 'S9'])
    night.orgs.push({ sourcedId: school, name: `School ${school}`, type: 'school', parentSourcedId: 'd1' })
  night.academicSessions.push(
    { sourcedId: 'y2025', title: '2024-25', type: 'schoolYear', startDate: '2024-07-01', endDate: '2025-07-01', schoolYear: '2025' },
    {
      sourcedId: 't1',
      title: 'Fall',
      type: 'term',
      startDate: '2024-08-20',
      endDate: '2025-01-10',
      parentSourcedId: 'y2025',
      schoolYear: '2025',
    },
  )
  const sections: Record<string, string[]> = {
    sch1: ['CHEM-02', ...Array.from({ length: 19 }, (_, i) => `CLS-${String(i + 1).padStart(2, '0')}`)],
    sch2: ['ART-1', 'ART-2', 'ART-3'],
    S9: ['S9-A', 'S9-B', 'S9-C', 'S9-D'],
  }
  const students: Record<string, number> = { sch1: 50, sch2: 10, S9: 12 }
  for (const [school, classes] of Object.entries(sections)) {
    night.courses.push({
      sourcedId: `c-${school}`,
      schoolYearSourcedId: 'y2025',
      title: `Course ${school}`,
      courseCode: school,
      orgSourcedId: school,
    })
    for (const k of classes) {
      night.classes.push({
        sourcedId: k,
        title: `Section ${k}`,
        courseSourcedId: `c-${school}`,
        classCode: k,
        classType: 'scheduled',
        schoolSourcedId: school,
        termSourcedIds: 't1',
      })
      night.users.push(teacher(`tch-${k}`, school))
      night.enrollments.push({
        sourcedId: `e-tch-${k}`,
        classSourcedId: k,
        schoolSourcedId: school,
        userSourcedId: `tch-${k}`,
        role: 'teacher',
        primary: 'true',
      })
    }
    for (let i = 0; i < students[school]!; i++) {
      const id = `stu-${school}-${i}`
      night.users.push(student(id, school))
      for (const k of new Set([classes[i % classes.length]!, classes[(i + 7) % classes.length]!]))
        night.enrollments.push(studentEnrollment(`e-${id}-${k}`, k, school, id))
    }
  }
  return night
}

const teacher = (id: string, org: string): Record<string, string> => ({
  sourcedId: id,
  enabledUser: 'true',
  orgSourcedIds: org,
  role: 'teacher',
  username: id,
  givenName: 'Teach',
  familyName: id,
  email: `${id}@emerson.example`,
})

const student = (id: string, org: string): Record<string, string> => ({
  sourcedId: id,
  enabledUser: 'true',
  orgSourcedIds: org,
  role: 'student',
  username: id,
  givenName: 'Stu',
  familyName: id,
  identifier: id.toUpperCase(),
  grades: '09',
})

const studentEnrollment = (id: string, k: string, school: string, user: string): Record<string, string> => ({
  sourcedId: id,
  classSourcedId: k,
  schoolSourcedId: school,
  userSourcedId: user,
  role: 'student',
  beginDate: '2024-08-20',
})

/** The next night: CHEM-02 left out of classes.csv (its enrollments still sent), and an annex org with no name, with users. */
function secondNight(first: Night): Night {
  const night: Night = structuredClone(first)
  night.classes = night.classes.filter((k) => k.sourcedId !== 'CHEM-02')
  night.orgs.push({ sourcedId: 'annex', name: '', type: 'school', parentSourcedId: 'd1' })
  for (let i = 0; i < 4; i++) {
    const id = `stu-annex-${i}`
    night.users.push(student(id, 'annex'))
    night.enrollments.push(studentEnrollment(`e-${id}`, 'CLS-01', 'sch1', id))
  }
  return night
}

// ---- the expected groups, counted from the CSV files as written ----

async function readNight(dir: string): Promise<Night> {
  const read = async (name: keyof Night): Promise<Table> => parse(await readFile(join(dir, `${name}.csv`)), { columns: true }) as Table
  return {
    orgs: await read('orgs'),
    academicSessions: await read('academicSessions'),
    courses: await read('courses'),
    classes: await read('classes'),
    users: await read('users'),
    enrollments: await read('enrollments'),
  }
}

const orgsOf = (u: Record<string, string>): string[] => u.orgSourcedIds!.split(',').map((s) => s.trim())

interface Expected {
  readonly cause: string
  readonly ids: { readonly entity: string; readonly sourcedId: string }[]
}

function expectedGroups(night: Night): Expected[] {
  const enrollments = (rows: Table) => rows.map((r) => ({ entity: 'enrollment', sourcedId: r.sourcedId! }))
  const chem = enrollments(night.enrollments.filter((e) => e.classSourcedId === 'CHEM-02'))
  const s9 = [
    ...night.courses.filter((c) => c.orgSourcedId === 'S9').map((r) => ({ entity: 'course', sourcedId: r.sourcedId! })),
    ...night.users.filter((u) => orgsOf(u).includes('S9')).map((r) => ({ entity: 'user', sourcedId: r.sourcedId! })),
    ...night.classes.filter((k) => k.schoolSourcedId === 'S9').map((r) => ({ entity: 'class', sourcedId: r.sourcedId! })),
    ...enrollments(night.enrollments.filter((e) => e.schoolSourcedId === 'S9')),
  ]
  const annexUsers = night.users.filter((u) => orgsOf(u).includes('annex'))
  const annexIds = new Set(annexUsers.map((u) => u.sourcedId))
  const annex = [
    ...annexUsers.map((r) => ({ entity: 'user', sourcedId: r.sourcedId! })),
    ...enrollments(night.enrollments.filter((e) => annexIds.has(e.userSourcedId))),
  ]
  return [
    { cause: "class 'CHEM-02' deleted", ids: chem },
    { cause: "school 'S9' not onboarded", ids: s9 },
    { cause: "org 'annex' skipped", ids: annex },
  ]
}

const tally = (ids: Expected['ids']): Map<string, number> => {
  const m = new Map<string, number>()
  for (const { entity } of ids) m.set(entity, (m.get(entity) ?? 0) + 1)
  return m
}

/** The query parameters of a page link's hash (`#/log?sync=..&cause=..`). */
const hashOf = (href: string | null): Record<string, string> =>
  Object.fromEntries(new URLSearchParams((href ?? '').replace(/^#[^?]*\??/, '')))

interface CauseGroupsJson {
  syncId: string
  groups: { cause: string; rows: number; records: number; byEntity: Record<string, number>; byAction: Record<string, number> }[]
  uncaused: { rows: number; records: number }
  uncausedRows: Record<string, string>[]
}

let dir: string
let data: string
let night2: Night
let expected: Expected[]
let sync2: string
/** What `report --group --format json` printed, for the API to match. */
let cliGroups: CauseGroupsJson | undefined

beforeAll(async () => {
  dir = await tempDir('root-causes')
  data = join(dir, 'data')
  const first = firstNight()
  await writeOneRosterBundle(join(dir, 'night1'), first)
  await writeOneRosterBundle(join(dir, 'night2'), secondNight(first))
  await writeFolder(data, { 'synclog.config.json': JSON.stringify({ onboardedSchools: { [TENANT]: ONBOARDED } }) })
  for (const night of ['night1', 'night2']) {
    const run = await synclog(['import', join(dir, night), '--tenant', TENANT, '--format', 'json', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    sync2 = (JSON.parse(run.stdout) as { syncId: string }).syncId
  }
  night2 = await readNight(join(dir, 'night2'))
  expected = expectedGroups(night2)
}, 120_000)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('synclog report --group', () => {
  it('prints one line per cause with its records per entity type, largest first', async () => {
    const run = await synclog(['report', sync2, '--group', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const words = new Map([
      ['course', ['course', 'courses']],
      ['user', ['user', 'users']],
      ['class', ['class', 'classes']],
      ['enrollment', ['enrollment', 'enrollments']],
    ])
    const lines = [...expected]
      .sort((a, b) => b.ids.length - a.ids.length)
      .map((g) => {
        const parts = [...tally(g.ids)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        return `${g.cause}: ${parts.map(([e, n]) => `${n} ${words.get(e)![n === 1 ? 0 : 1]}`).join(', ')}`
      })
    expect(run.stdout.split('\n').slice(0, 3)).toEqual(lines)
    expect(lines).toContain(
      `class 'CHEM-02' deleted: ${night2.enrollments.filter((e) => e.classSourcedId === 'CHEM-02').length} enrollments`,
    )
  })

  it('gives the groups as JSON: records per entity counted from the files, and the errors that have no cause', async () => {
    const run = await synclog(['report', sync2, '--group', '--format', 'json', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout) as CauseGroupsJson
    cliGroups = out
    expect(out.groups.map((g) => g.cause).sort()).toEqual(expected.map((g) => g.cause).sort())
    for (const g of expected) {
      const got = out.groups.find((x) => x.cause === g.cause)!
      expect(got.records, g.cause).toBe(g.ids.length)
      expect(new Map(Object.entries(got.byEntity)), g.cause).toEqual(tally(g.ids))
    }
    // CHEM-02's student rosters were deleted with it, and its enrollments still sent were skipped.
    const chem = out.groups.find((g) => g.cause === "class 'CHEM-02' deleted")!
    const chemStudents = night2.enrollments.filter((e) => e.classSourcedId === 'CHEM-02' && e.role === 'student').length
    expect(chem.byAction).toEqual({ Skipped: chemStudents + 1, 'Deleted Roster': chemStudents })
    // The records at the roots are errors of their own: the school not onboarded and the org with no name.
    const roots = night2.orgs
      .filter((o) => o.name === '' || (o.type === 'school' && !ONBOARDED.includes(o.sourcedId!)))
      .map((o) => o.sourcedId)
    expect(out.uncaused).toEqual({ rows: roots.length, records: roots.length })
    expect(out.uncausedRows.map((r) => r.sourcedId).sort()).toEqual(roots.sort())
    expect(out.uncausedRows.every((r) => r.cause === '')).toBe(true)
  })

  it('asks for --out or --group when given neither', async () => {
    const run = await synclog(['report', sync2, '--data', data])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/--out <dir>.*--group/)
  })
})

describe('the Clever-style report', () => {
  it('has one row per failed object under its own id, the caused ones listed after those with none, under their cause', async () => {
    const out = join(dir, 'reports')
    const run = await synclog(['report', sync2, '--out', out, '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const rows = parse(await readFile(join(out, 'enrollments_sync_report.csv')), { bom: true, columns: true }) as Table
    const failed = expected.flatMap((g) => g.ids.filter((x) => x.entity === 'enrollment').map((x) => ({ id: x.sourcedId, cause: g.cause })))
    expect(rows.map((r) => r.id).sort()).toEqual(failed.map((f) => f.id).sort())
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length)
    for (const r of rows) {
      expect(r.sis_id).toBe(r.id)
      expect(r.status).toBe('Failure')
      expect(r.cause).toBe(failed.find((f) => f.id === r.id)!.cause)
    }
    // Each cause's objects sit together.
    const order = rows.map((r) => r.cause)
    expect(order.filter((c, i) => i === 0 || c !== order[i - 1]).length).toBe(new Set(order).size)
    const orgs = parse(await readFile(join(out, 'schools_sync_report.csv')), { bom: true, columns: true }) as Table
    expect(orgs.map((r) => `${r.id} ${r.status} ${r.cause}`).sort()).toEqual(['S9 Failure ', 'annex Failure '])
  })
})

describe('over HTTP', () => {
  let serve: RunningServe
  let operator: string
  let schoolToken: string
  let sch1Token: string

  beforeAll(async () => {
    operator = await createToken(data, 'ops')
    schoolToken = await createToken(data, 'sch2-office', '--tenant', TENANT, '--school', 'sch2')
    sch1Token = await createToken(data, 'sch1-office', '--tenant', TENANT, '--school', 'sch1')
    serve = await startServe(data)
  }, 60_000)

  afterAll(async () => {
    await serve?.stop()
  })

  it('GET /api/v1/syncs/{id}/causes gives the groups the CLI gives', async () => {
    const api = await apiJson<CauseGroupsJson>(serve.base, `/api/v1/syncs/${sync2}/causes`, operator)
    expect(cliGroups, 'report --group --format json ran first').toBeDefined()
    expect(api.groups).toEqual(cliGroups!.groups)
    // With the server holding the data directory, the command runs in the server and says the same.
    const run = await synclog(['report', sync2, '--group', '--format', 'json', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    expect((JSON.parse(run.stdout) as CauseGroupsJson).groups).toEqual(api.groups)
    expect(api.groups.map((g) => [g.cause, g.records])).toEqual(
      [...expected].sort((a, b) => b.ids.length - a.ids.length).map((g) => [g.cause, g.ids.length]),
    )
  })

  it('the log filtered by one cause gives exactly the rows of that group', async () => {
    for (const g of expected) {
      const rows = await walkPages(
        serve.base,
        `/api/v1/log?sync=${encodeURIComponent(sync2)}&cause=${encodeURIComponent(g.cause)}&includeProposed=true&includeRejected=true`,
        operator,
      )
      expect(new Set(rows.map((r) => `${r.entity}:${r.sourcedId}`)), g.cause).toEqual(
        new Set(g.ids.map((x) => `${x.entity}:${x.sourcedId}`)),
      )
    }
  })

  it("a school's token sees only the causes of rows at its school", async () => {
    const sch2 = await apiJson<CauseGroupsJson>(serve.base, `/api/v1/syncs/${sync2}/causes`, schoolToken)
    expect(sch2.groups).toEqual([])
    const sch1 = await apiJson<CauseGroupsJson>(serve.base, `/api/v1/syncs/${sync2}/causes`, sch1Token)
    expect(sch1.groups.map((g) => g.cause)).toContain("class 'CHEM-02' deleted")
    expect(sch1.groups.map((g) => g.cause)).not.toContain("school 'S9' not onboarded")
  })

  it("shows each cause in the sync's details as one line that opens to its rows", async () => {
    const browser = await launchBrowser()
    try {
      const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } })
      context.setDefaultTimeout(30_000)
      const page = await context.newPage()
      await signIn(page, serve.base, operator, 'ops')
      await page.goto(`${serve.base}/#/syncs?open=${encodeURIComponent(sync2)}`)
      const causes = page.getByRole('region', { name: `Root causes of sync ${sync2}` })
      const chem = expected.find((g) => g.cause === "class 'CHEM-02' deleted")!
      const line = causes.getByText(`class 'CHEM-02' deleted: ${chem.ids.length} enrollments`, { exact: true })
      await line.click()
      const rows = causes.getByRole('table', { name: /^Rows caused by class 'CHEM-02' deleted/ }).locator('tbody tr')
      await rows.first().waitFor()
      const chemStudents = night2.enrollments.filter((e) => e.classSourcedId === 'CHEM-02' && e.role === 'student').length
      // Each enrollment's Skipped row, and each student's Deleted Roster row.
      expect(await rows.count()).toBe(chem.ids.length + chemStudents)
      const link = causes.getByRole('link', { name: `All ${chem.ids.length + chemStudents} rows in the sync log` })
      expect(hashOf(await link.getAttribute('href'))).toMatchObject({ sync: sync2, cause: "class 'CHEM-02' deleted" })
    } finally {
      await browser.close()
    }
  }, 120_000)

  it('answers 404 for a sync that does not exist', async () => {
    const res = await fetch(`${serve.base}/api/v1/syncs/no-such-sync/causes`, { headers: { authorization: `Bearer ${operator}` } })
    expect(res.status).toBe(404)
  })
})
