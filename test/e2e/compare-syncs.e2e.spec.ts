/**
 * Comparing two syncs, through the real CLI and a running `synclog serve`: three nights of a
 * small district's full OneRoster export, each changing a few records on purpose. What
 * the comparison of nights 2 and 3 must say (counts per data type, and which records'
 * outcomes differ) is worked out here from the CSV tables themselves, by the rules of
 * docs/sync-semantics.md, never from synclog's SQL.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { zeroCounts } from '../../src/clickhouse/rows.js'
import type { OutcomeCountsJson } from '../../src/clickhouse/types.js'
import { ONEROSTER_11_COLUMNS, ROSTER_FILES, writeOneRosterBundle, type RosterFile, type Row } from '../../src/demo/write-oneroster.js'
import {
  CHROMIUM_MISSING,
  CHROMIUM_PATH,
  axeViolations,
  createToken,
  describeViolations,
  launchBrowser,
  signIn,
  startServe,
  type RunningServe,
} from '../support/browser.js'
import { synclog, tempDir } from '../support/cli.js'

// ---------------------------------------------------------------- the district, night by night

type FileName = RosterFile
type Night = Record<FileName, Row[]>
const FILES = ROSTER_FILES
const ENTITY: Record<FileName, string> = {
  orgs: 'org',
  academicSessions: 'academicSession',
  courses: 'course',
  classes: 'class',
  users: 'user',
  enrollments: 'enrollment',
}

const STUDENTS = 30
const pad = (n: number): string => String(n).padStart(2, '0')
const schoolOf = (n: number): 'sch1' | 'sch2' => (n <= 15 ? 'sch1' : 'sch2')
const student = (n: number): Row => ({
  sourcedId: `s${pad(n)}`,
  enabledUser: 'true',
  orgSourcedIds: schoolOf(n),
  role: 'student',
  username: `student${pad(n)}`,
  givenName: `Given${pad(n)}`,
  familyName: `Family${pad(n)}`,
  identifier: `S20${pad(n)}`,
  grades: schoolOf(n) === 'sch1' ? '09' : '07',
})
const studentEnrollment = (n: number): Row => ({
  sourcedId: `e${pad(n)}`,
  classSourcedId: schoolOf(n) === 'sch1' ? 'k1' : 'k2',
  schoolSourcedId: schoolOf(n),
  userSourcedId: `s${pad(n)}`,
  role: 'student',
  primary: 'false',
  beginDate: '2024-08-20',
})
const teacher = (id: string, school: string, given: string, family: string, email: string): Row => ({
  sourcedId: id,
  enabledUser: 'true',
  orgSourcedIds: school,
  role: 'teacher',
  username: id,
  givenName: given,
  familyName: family,
  identifier: id.toUpperCase(),
  email,
})

const NIGHT1: Night = {
  orgs: [
    { sourcedId: 'd1', name: 'Emerson Unified', type: 'district' },
    { sourcedId: 'sch1', name: 'Fremont High', type: 'school', parentSourcedId: 'd1' },
    { sourcedId: 'sch2', name: 'Lincoln Middle', type: 'school', parentSourcedId: 'd1' },
  ],
  academicSessions: [
    { sourcedId: 'y2025', title: '2024-25', type: 'schoolYear', startDate: '2024-07-01', endDate: '2025-06-30', schoolYear: '2025' },
    {
      sourcedId: 't1',
      title: 'Year 2024-25',
      type: 'term',
      startDate: '2024-08-20',
      endDate: '2025-06-10',
      parentSourcedId: 'y2025',
      schoolYear: '2025',
    },
  ],
  courses: [
    { sourcedId: 'c1', schoolYearSourcedId: 'y2025', title: 'Algebra I', courseCode: 'MATH-101', grades: '09', orgSourcedId: 'sch1' },
    { sourcedId: 'c2', schoolYearSourcedId: 'y2025', title: 'Science 7', courseCode: 'SCI-7', grades: '07', orgSourcedId: 'sch2' },
  ],
  classes: [
    {
      sourcedId: 'k1',
      title: 'Algebra I - P1',
      grades: '09',
      courseSourcedId: 'c1',
      classCode: 'ALG1-01',
      classType: 'scheduled',
      location: 'Room 101',
      schoolSourcedId: 'sch1',
      termSourcedIds: 't1',
      periods: '1',
    },
    {
      sourcedId: 'k2',
      title: 'Science 7 - P2',
      grades: '07',
      courseSourcedId: 'c2',
      classCode: 'SCI7-02',
      classType: 'scheduled',
      location: 'Room 7',
      schoolSourcedId: 'sch2',
      termSourcedIds: 't1',
      periods: '2',
    },
  ],
  users: [
    teacher('tch1', 'sch1', 'Maria', 'Rivera', 'mrivera@emerson.example'),
    teacher('tch2', 'sch2', 'Ken', 'Ito', 'kito@emerson.example'),
    ...Array.from({ length: STUDENTS }, (_, i) => student(i + 1)),
  ],
  enrollments: [
    {
      sourcedId: 'et1',
      classSourcedId: 'k1',
      schoolSourcedId: 'sch1',
      userSourcedId: 'tch1',
      role: 'teacher',
      primary: 'true',
      beginDate: '2024-08-20',
    },
    {
      sourcedId: 'et2',
      classSourcedId: 'k2',
      schoolSourcedId: 'sch2',
      userSourcedId: 'tch2',
      role: 'teacher',
      primary: 'true',
      beginDate: '2024-08-20',
    },
    ...Array.from({ length: STUDENTS }, (_, i) => studentEnrollment(i + 1)),
  ],
}

const copy = (night: Night): Night => Object.fromEntries(FILES.map((f) => [f, night[f].map((r) => ({ ...r }))])) as Night
const find = (rows: Row[], id: string): Row => rows.find((r) => r.sourcedId === id)!

/** Night 2: a student renamed, one added with an enrollment, an enrollment dropped, and a teacher row without an email. */
const NIGHT2 = copy(NIGHT1)
find(NIGHT2.users, 's01').givenName = 'Jonathan'
NIGHT2.users.push(student(31))
NIGHT2.enrollments.push(studentEnrollment(31))
NIGHT2.enrollments = NIGHT2.enrollments.filter((e) => e.sourcedId !== 'e30')
NIGHT2.users.push(teacher('tbad', 'sch1', 'Pat', 'Nomail', ''))

/** Night 3: another student renamed, an end date set, a room changed, the student without enrollments gone; the bad teacher row again. */
const NIGHT3 = copy(NIGHT2)
find(NIGHT3.users, 's02').familyName = 'Okafor-Reyes'
find(NIGHT3.enrollments, 'e03').endDate = '2025-01-31'
find(NIGHT3.classes, 'k2').location = 'Lab 2'
NIGHT3.users = NIGHT3.users.filter((u) => u.sourcedId !== 's30')

// ---------------------------------------------------------------- the oracle

type Counts = OutcomeCountsJson
/** A count starts at zero (the ten fields of a summary). */
const zero = zeroCounts

/** Staff without an email are Skipped (and, being Skipped, never stored). */
const skipped = (f: FileName, r: Row): boolean => f === 'users' && r.role === 'teacher' && (r.email ?? '') === ''
const same = (a: Row, b: Row, f: FileName): boolean =>
  ONEROSTER_11_COLUMNS[f].every((h) => h === 'dateLastModified' || (a[h] ?? '') === (b[h] ?? ''))

/** Each record's outcome in a full sync of `night` over `before` (null: the first night), keyed `entity/sourcedId`. */
function outcomes(before: Night | null, night: Night): Map<string, string> {
  const out = new Map<string, string>()
  for (const f of FILES) {
    const stored = new Map((before?.[f] ?? []).filter((r) => !skipped(f, r)).map((r) => [r.sourcedId!, r]))
    for (const r of night[f]) {
      const old = stored.get(r.sourcedId!)
      const outcome = skipped(f, r) ? 'Skipped' : old === undefined ? 'New' : same(old, r, f) ? 'No Change' : 'Updated'
      out.set(`${ENTITY[f]}/${r.sourcedId}`, outcome)
    }
    const carried = new Set(night[f].map((r) => r.sourcedId))
    for (const id of stored.keys()) if (!carried.has(id)) out.set(`${ENTITY[f]}/${id}`, 'Deleted')
  }
  return out
}

const COUNTER: Record<string, keyof Counts> = {
  New: 'new',
  Updated: 'updated',
  'No Change': 'noChange',
  Deleted: 'deleted',
  Skipped: 'skipped',
}

function countsOf(o: Map<string, string>): Map<string, Counts> {
  const counts = new Map<string, Counts>()
  for (const [key, outcome] of o) {
    const entity = key.split('/')[0]!
    const c = counts.get(entity) ?? zero()
    c.total++
    c[COUNTER[outcome]!]++
    counts.set(entity, c)
  }
  return counts
}

/** The records whose outcomes differ, No Change (never logged) being the same as absent. */
function differing(a: Map<string, string>, b: Map<string, string>): { key: string; outcomeA: string | null; outcomeB: string | null }[] {
  const logged = (o: string | undefined): string | null => (o === undefined || o === 'No Change' ? null : o)
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((key) => ({ key, outcomeA: logged(a.get(key)), outcomeB: logged(b.get(key)) }))
    .filter((d) => d.outcomeA !== d.outcomeB)
    .sort((x, y) => x.key.localeCompare(y.key))
}

const outcomes2 = outcomes(NIGHT1, NIGHT2)
const outcomes3 = outcomes(NIGHT2, NIGHT3)
const EXPECTED_DIFF = differing(outcomes2, outcomes3)

/** The school a record counts under (sync-semantics.md, Counts), from whichever night has its row. */
function schoolOfRecord(key: string): string {
  const [entity, id] = key.split('/') as [string, string]
  const file = FILES.find((f) => ENTITY[f] === entity)!
  const row = [NIGHT3, NIGHT2, NIGHT1].map((n) => n[file].find((r) => r.sourcedId === id)).find((r) => r !== undefined)!
  switch (file) {
    case 'orgs':
      return row.type === 'school' ? id : ''
    case 'academicSessions':
      return ''
    case 'courses':
      return row.orgSourcedId!
    case 'users':
      return row.orgSourcedIds!.split(',')[0]!
    default:
      return row.schoolSourcedId!
  }
}
const atSchool = (o: Map<string, string>, school: string): Map<string, string> =>
  new Map([...o].filter(([key]) => schoolOfRecord(key) === school))

// ---------------------------------------------------------------- the runs

const NO_BROWSER = !existsSync(CHROMIUM_PATH) && process.env['CI'] !== 'true'
if (NO_BROWSER) console.warn(`the browser test of comparing syncs is skipped: ${CHROMIUM_MISSING}`)

interface Comparison {
  a: { syncId: string; tenant: string; status: string }
  b: { syncId: string; tenant: string; status: string }
  counts: { entity: string; a: Counts; b: Counts; difference: Counts }[]
  differing: number
  records: {
    entity: string
    sourcedId: string
    studentNumber: string
    studentName: string
    sectionNumber: string
    outcomeA: string | null
    outcomeB: string | null
    messageA: string
    messageB: string
  }[]
}

const TENANT = 'district-a'
let dir = ''
let data = ''
const syncs: string[] = []
let otherTenantSync = ''

async function importNight(name: string, tenant: string): Promise<string> {
  const run = await synclog(['import', join(dir, name), '--tenant', tenant, '--format', 'json', '--data', data], { timeoutMs: 120_000 })
  if (run.code !== 0) throw new Error(`import ${name} exited with ${run.code}: ${run.stderr}`)
  return String((JSON.parse(run.stdout) as { syncId: string }).syncId)
}

async function compare(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return synclog(['compare', ...args, '--data', data], { timeoutMs: 60_000 })
}

const keyed = (c: Comparison) =>
  c.records
    .map((r) => ({ key: `${r.entity}/${r.sourcedId}`, outcomeA: r.outcomeA, outcomeB: r.outcomeB }))
    .sort((x, y) => x.key.localeCompare(y.key))

beforeAll(async () => {
  dir = await tempDir('compare')
  data = join(dir, 'data')
  for (const [name, night] of [
    ['night1', NIGHT1],
    ['night2', NIGHT2],
    ['night3', NIGHT3],
  ] as const)
    await writeOneRosterBundle(join(dir, name), night)
  for (const name of ['night1', 'night2', 'night3']) syncs.push(await importNight(name, TENANT))
  otherTenantSync = await importNight('night1', 'district-b')
}, 300_000)

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('the oracle', () => {
  it('finds the eight records the nights changed on purpose', () => {
    expect(EXPECTED_DIFF).toEqual([
      { key: 'class/k2', outcomeA: null, outcomeB: 'Updated' },
      { key: 'enrollment/e03', outcomeA: null, outcomeB: 'Updated' },
      { key: 'enrollment/e30', outcomeA: 'Deleted', outcomeB: null },
      { key: 'enrollment/e31', outcomeA: 'New', outcomeB: null },
      { key: 'user/s01', outcomeA: 'Updated', outcomeB: null },
      { key: 'user/s02', outcomeA: null, outcomeB: 'Updated' },
      { key: 'user/s30', outcomeA: null, outcomeB: 'Deleted' },
      { key: 'user/s31', outcomeA: 'New', outcomeB: null },
    ])
  })
})

describe('synclog compare', () => {
  let cmp: Comparison

  beforeAll(async () => {
    const run = await compare(syncs[1]!, syncs[2]!, '--format', 'json')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    cmp = JSON.parse(run.stdout) as Comparison
  }, 60_000)

  it('names both syncs of the tenant', () => {
    expect(cmp.a).toMatchObject({ syncId: syncs[1], tenant: TENANT })
    expect(cmp.b).toMatchObject({ syncId: syncs[2], tenant: TENANT })
  })

  it("puts each data type's counts of both syncs side by side, with B minus A", () => {
    const a = countsOf(outcomes2)
    const b = countsOf(outcomes3)
    expect(cmp.counts.map((c) => c.entity)).toEqual(['org', 'academicSession', 'course', 'user', 'class', 'enrollment'])
    for (const c of cmp.counts) {
      expect(c.a, `${c.entity} in A`).toEqual(a.get(c.entity))
      expect(c.b, `${c.entity} in B`).toEqual(b.get(c.entity))
      for (const [field, n] of Object.entries(c.difference))
        expect(n, `${c.entity} ${field}`).toBe(c.b[field as keyof Counts] - c.a[field as keyof Counts])
    }
  })

  it('lists exactly the records whose outcome differs, not logged in one sync shown as null', () => {
    expect(cmp.differing).toBe(EXPECTED_DIFF.length)
    expect(keyed(cmp)).toEqual(EXPECTED_DIFF)
  })

  it('leaves out a record with the same outcome in both syncs, even an error', () => {
    expect(outcomes2.get('user/tbad')).toBe('Skipped')
    expect(outcomes3.get('user/tbad')).toBe('Skipped')
    expect(cmp.records.find((r) => r.sourcedId === 'tbad')).toBeUndefined()
    expect(cmp.counts.find((c) => c.entity === 'user')!.difference.skipped).toBe(0)
  })

  it("gives each record its student and section, and its rows' messages", () => {
    const e03 = cmp.records.find((r) => r.sourcedId === 'e03')!
    expect(e03).toMatchObject({ studentNumber: 'S2003', sectionNumber: 'ALG1-01' })
    expect(cmp.records.find((r) => r.sourcedId === 's02')!.studentName).toContain('Okafor-Reyes')
    expect(cmp.records.find((r) => r.sourcedId === 's30')!.messageB).not.toBe('')
  })

  it('prints a table for people: both syncs, the counts and the records, "not logged" spelled out', async () => {
    const run = await compare(syncs[1]!, syncs[2]!)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`A: sync ${syncs[1]}`)
    expect(run.stdout).toContain(`B: sync ${syncs[2]}`)
    expect(run.stdout).toMatch(/Data type\s+Sync\s+Total/)
    expect(run.stdout).toContain('B − A')
    expect(run.stdout).toContain(`${EXPECTED_DIFF.length} records with a different outcome`)
    expect(run.stdout).toMatch(/s31\s.*New\s+not logged/)
  })

  it('writes the differing records as CSV', async () => {
    const run = await compare(syncs[1]!, syncs[2]!, '--format', 'csv')
    expect(run.code).toBe(0)
    const rows = parse(run.stdout, { columns: true, bom: true }) as Record<string, string>[]
    expect(rows.map((r) => `${r['Data type']}/${r['Sourced ID']}`).sort()).toEqual(EXPECTED_DIFF.map((d) => d.key))
    expect(rows.find((r) => r['Sourced ID'] === 'e30')).toMatchObject({ 'Outcome in A': 'Deleted', 'Outcome in B': 'not logged' })
  })

  it('narrows to one data type and lists no more than --limit records, saying how many differ', async () => {
    const users = EXPECTED_DIFF.filter((d) => d.key.startsWith('user/'))
    const run = await compare(syncs[1]!, syncs[2]!, '--entity', 'user', '--limit', '2', '--format', 'json')
    expect(run.code).toBe(0)
    const narrowed = JSON.parse(run.stdout) as Comparison
    expect(narrowed.counts.map((c) => c.entity)).toEqual(['user'])
    expect(narrowed.differing).toBe(users.length)
    expect(keyed(narrowed)).toEqual(users.slice(0, 2))
    const table = await compare(syncs[1]!, syncs[2]!, '--entity', 'user', '--limit', '2')
    expect(table.stdout).toContain(`${users.length} records with a different outcome (the first 2)`)
    expect(table.stdout).toContain(`more with --limit ${users.length}`)
  })

  it('lists every record of a first night against the second: New there, mostly not logged after', async () => {
    const run = await compare(syncs[0]!, syncs[1]!, '--entity', 'org', '--format', 'json')
    const first = JSON.parse(run.stdout) as Comparison
    expect(keyed(first)).toEqual(
      NIGHT1.orgs.map((o) => ({ key: `org/${o.sourcedId}`, outcomeA: 'New', outcomeB: null })).sort((x, y) => x.key.localeCompare(y.key)),
    )
  })

  it('narrows to one school: the counts of its records, the records whose rows name it', async () => {
    const run = await compare(syncs[1]!, syncs[2]!, '--school', 'sch2', '--format', 'json')
    expect(run.code).toBe(0)
    const school = JSON.parse(run.stdout) as Comparison
    const a = countsOf(atSchool(outcomes2, 'sch2'))
    const b = countsOf(atSchool(outcomes3, 'sch2'))
    expect(school.counts.map((c) => c.entity).sort()).toEqual([...new Set([...a.keys(), ...b.keys()])].sort())
    for (const c of school.counts) expect([c.a, c.b], c.entity).toEqual([a.get(c.entity) ?? zero(), b.get(c.entity) ?? zero()])
    const expected = EXPECTED_DIFF.filter((d) => schoolOfRecord(d.key) === 'sch2')
    expect(expected.map((d) => d.key)).toEqual(['class/k2', 'enrollment/e30', 'enrollment/e31', 'user/s30', 'user/s31'])
    expect(keyed(school)).toEqual(expected)
  })

  it('refuses syncs of two tenants, and names an unknown sync', async () => {
    const tenants = await compare(syncs[1]!, otherTenantSync)
    expect(tenants.code).toBe(1)
    expect(tenants.stderr).toContain(`tenant '${TENANT}'`)
    expect(tenants.stderr).toContain("tenant 'district-b'")
    expect(tenants.stderr).toContain('same tenant')
    expect(tenants.stderr).not.toMatch(/\n\s+at /)
    const unknown = await compare(syncs[1]!, 'no-such-sync')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no sync no-such-sync')
  })

  it('refuses an unknown data type and a bad limit, naming the option', async () => {
    const entity = await compare(syncs[1]!, syncs[2]!, '--entity', 'student')
    expect(entity.code).toBe(1)
    expect(entity.stderr).toContain('--entity must be one of')
    const limit = await compare(syncs[1]!, syncs[2]!, '--limit', '0')
    expect(limit.code).toBe(1)
    expect(limit.stderr).toContain('--limit')
  })
})

describe('GET /api/v1/syncs/{syncId}/compare/{otherSyncId}', () => {
  let serve: RunningServe | undefined
  let base = ''
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    tokens['operator'] = await createToken(data, 'operator')
    tokens['district-a'] = await createToken(data, 'district-a', '--tenant', TENANT)
    tokens['district-b'] = await createToken(data, 'district-b', '--tenant', 'district-b')
    tokens['sch2'] = await createToken(data, 'sch2', '--tenant', TENANT, '--school', 'sch2')
    serve = await startServe(data)
    base = serve.base
  }, 120_000)

  afterAll(async () => {
    if (serve !== undefined) {
      const code = await serve.stop()
      expect(code, `synclog serve exit code; stderr: ${serve.stderr()}`).toBe(0)
    }
  }, 60_000)

  const get = async (
    path: string,
    token: string,
  ): Promise<{ status: number; body: Comparison & { error?: { code: string; message: string } } }> => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: (await res.json()) as Comparison & { error?: { code: string; message: string } } }
  }
  const path = (a: string, b: string, query = ''): string =>
    `/api/v1/syncs/${encodeURIComponent(a)}/compare/${encodeURIComponent(b)}${query}`

  it("answers the tenant's token with the counts and records the oracle expects", async () => {
    const { status, body } = await get(path(syncs[1]!, syncs[2]!), tokens['district-a']!)
    expect(status).toBe(200)
    expect(body.differing).toBe(EXPECTED_DIFF.length)
    expect(keyed(body)).toEqual(EXPECTED_DIFF)
    const b = countsOf(outcomes3)
    for (const c of body.counts) expect(c.b, c.entity).toEqual(b.get(c.entity))
  })

  it('answers as the command line does, which the running service now answers too', async () => {
    const api = await get(path(syncs[1]!, syncs[2]!, '?entity=user&entity=class&limit=3'), tokens['operator']!)
    const cli = await compare(syncs[1]!, syncs[2]!, '--entity', 'user', '--entity', 'class', '--limit', '3', '--format', 'json')
    expect(cli.code).toBe(0)
    expect(api.body).toEqual(JSON.parse(cli.stdout))
    expect(api.body.records).toHaveLength(3)
  })

  it("answers a school's token with its school's part only", async () => {
    const { status, body } = await get(path(syncs[1]!, syncs[2]!), tokens['sch2']!)
    expect(status).toBe(200)
    expect(keyed(body)).toEqual(EXPECTED_DIFF.filter((d) => schoolOfRecord(d.key) === 'sch2'))
    const users = countsOf(atSchool(outcomes3, 'sch2')).get('user')
    expect(body.counts.find((c) => c.entity === 'user')!.b).toEqual(users)
  })

  it("answers 404 for another tenant's sync, as for an unknown one", async () => {
    const other = await get(path(syncs[1]!, syncs[2]!), tokens['district-b']!)
    expect(other.status).toBe(404)
    expect(other.body.error?.code).toBe('SYNC_NOT_FOUND')
    const unknown = await get(path(syncs[1]!, 'no-such-sync'), tokens['district-a']!)
    expect(unknown.status).toBe(404)
    expect(unknown.body.error?.message).toContain('no-such-sync')
  })

  it('refuses syncs of two tenants and bad parameters with 400', async () => {
    const tenants = await get(path(syncs[1]!, otherTenantSync), tokens['operator']!)
    expect(tenants.status).toBe(400)
    expect(tenants.body.error?.message).toContain('same tenant')
    const limit = await get(path(syncs[1]!, syncs[2]!, '?limit=0'), tokens['operator']!)
    expect(limit.status).toBe(400)
    expect(limit.body.error?.message).toContain('limit')
    const entity = await get(path(syncs[1]!, syncs[2]!, '?entity=student'), tokens['operator']!)
    expect(entity.status).toBe(400)
  })

  it.skipIf(NO_BROWSER)(
    "opens from the sync history's Compare with previous, in the page",
    async () => {
      const browser = await launchBrowser()
      try {
        const page = await (await browser.newContext({ bypassCSP: true })).newPage()
        await signIn(page, base, tokens['district-a']!, 'district-a')
        await page.goto(`${base}/#/syncs`)
        await page.getByRole('link', { name: `Compare with previous: sync ${syncs[2]}` }).click()
        const status = page.locator('#compare-status')
        await status.getByText('records with a different outcome').waitFor({ timeout: 30_000 })
        expect(await status.textContent()).toBe(`${EXPECTED_DIFF.length} records with a different outcome.`)
        expect(await page.getByLabel('Sync A').inputValue()).toBe(syncs[1])
        expect(await page.getByLabel('Sync B').inputValue()).toBe(syncs[2])
        const records = page.getByRole('table', { name: 'Records with a different outcome' }).locator('tbody tr')
        expect(await records.count()).toBe(EXPECTED_DIFF.length)
        expect(await records.filter({ hasText: 's31' }).textContent()).toContain('not logged')
        const violations = await axeViolations(page)
        expect(violations, describeViolations(violations)).toEqual([])
      } finally {
        await browser.close()
      }
    },
    90_000,
  )

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toContain('/api/v1/syncs/{syncId}/compare/{otherSyncId}')
  })
})
