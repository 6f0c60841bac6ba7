/**
 * Rosters in time through the built CLI and the HTTP API, on three syncs of one small
 * district ingested as change events with their own dates:
 *
 * - Sept 2: sections 101 (English) and 202 (Biology); S001, S002 and S003 in 101, S001 in 202;
 * - Sept 5: S002 moves from 101 to 202, S003's enrollment is deleted, S001's end date in 101
 *   becomes 2024-12-20;
 * - Sept 9: a full sync of S001 in 101 alone, which would delete the rest, held for review
 *   and left waiting.
 *
 * The expected rosters below are worked out by hand from that story. A `synclog serve` owns
 * the data directory, as in production: the CLI's commands run inside it, and the API is
 * its HTTP port.
 */
import { existsSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { RosterAtSchema } from '../../src/http/roster-routes.js'
import { DELTA, FULL, SyncScript, section, smallDistrict } from '../support/sis.js'
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

const TENANT = 'district-a'
const UTC = { TZ: 'UTC', SYNCLOG_TIME_ZONE: 'UTC' }

/** A student's enrollment in a section of the small district, dated as smallDistrict dates them. */
const studentIn = (cls: string, n: number, endDate = '2025-01-15') => ({
  classSourcedId: cls,
  schoolSourcedId: 'sch1',
  userSourcedId: `stu${n}`,
  role: 'student',
  beginDate: '2024-08-15',
  endDate,
})

function syncs(): ChangeEvent[] {
  // smallDistrict: section 101 (course 0001, English) taught by tch1; students stu1-3 (S001-S003) in it as e-stu1-3.
  const first = smallDistrict(new SyncScript(TENANT, 'sync-0902', 'sis-nightly', '2024-09-02T02:00:00.000Z', FULL), { students: 3 })
    .upsert('course', 'c2', { title: 'Biology', courseCode: 'BIO', orgSourcedId: 'sch1' })
    .upsert('class', 'k2', section('c2', 'sch1', '202'))
    .upsert('enrollment', 'e-tch1-k2', {
      classSourcedId: 'k2',
      schoolSourcedId: 'sch1',
      userSourcedId: 'tch1',
      role: 'teacher',
      primary: 'true',
    })
    .upsert('enrollment', 'e-stu1-k2', studentIn('k2', 1))
    .end()
  const second = new SyncScript(TENANT, 'sync-0905', 'sis-nightly', '2024-09-05T02:00:00.000Z', DELTA)
    .upsert('enrollment', 'e-stu2', studentIn('k2', 2))
    .delete('enrollment', 'e-stu3')
    .upsert('enrollment', 'e-stu1', studentIn('k1', 1, '2024-12-20'))
    .end()
  // A full sync with the first student only: it would delete most of the district, so it is held.
  const held = smallDistrict(new SyncScript(TENANT, 'sync-0909', 'sis-nightly', '2024-09-09T02:00:00.000Z', FULL), { students: 1 }).end()
  return [...first, ...second, ...held]
}

let dir: string
let data: string
let serve: RunningServe | undefined
const token = { operator: '', district: '', school: '', otherTenant: '' }

beforeAll(async () => {
  dir = await tempDir('roster')
  data = join(dir, 'data')
  const file = join(dir, 'events.ndjson')
  await writeFile(
    file,
    `${syncs()
      .map((e) => JSON.stringify(e))
      .join('\n')}\n`,
  )
  const ingest = await synclog(['ingest', file, '--data', data], { env: UTC })
  expect(ingest.stderr).not.toMatch(/error/i)
  token.operator = await createToken(data, 'operator')
  token.district = await createToken(data, 'district', '--tenant', TENANT)
  token.school = await createToken(data, 'school', '--tenant', TENANT, '--school', 'sch1')
  token.otherTenant = await createToken(data, 'other', '--tenant', 'district-b')
  serve = await startServe(data, { env: UTC })
}, 300_000)

afterAll(async () => {
  await serve?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

type Line = { studentNumber: string; sectionNumber: string; courseNumber: string; endDate: string; since: string; sourcedId: string }

async function cliRoster(...args: string[]): Promise<{ at: string; lines: Line[] }> {
  const run = await synclog(['roster', ...args, '--format', 'json', '--data', data], { env: UTC })
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as { at: string; lines: Line[] }
}

const who = (lines: readonly Line[]): string[] => lines.map((l) => l.studentNumber).sort()
const where = (lines: readonly Line[]): string[] => lines.map((l) => l.sectionNumber).sort()

// Each command starts a Node process: on a busy machine that takes seconds.
describe('synclog roster', { timeout: 120_000 }, () => {
  it('holds the third sync, so its rows are proposed and not applied', async () => {
    const run = await synclog(['syncs', '--format', 'json', '--data', data], { env: UTC })
    const statuses = (JSON.parse(run.stdout) as { syncId: string; status: string }[]).map((s) => [s.syncId, s.status])
    expect(statuses).toEqual([
      ['sync-0909', 'On Hold'],
      ['sync-0905', 'Completed'],
      ['sync-0902', 'Completed'],
    ])
  })

  it("gives a section's students on a date, a date read through the end of that day", async () => {
    const roster = await cliRoster('--section', '101', '--at', '2024-09-05')
    expect(roster.at).toBe('2024-09-05T23:59:59.999Z')
    expect(who(roster.lines)).toEqual(['S001'])
  })

  it("gives a student's sections with their course, dates and the day each line was created", async () => {
    const ada = (await cliRoster('--student', 'S001', '--at', '2024-09-10')).lines
    // By course number; the end date is the one the second sync set; the other line's dates were never changed.
    // The held sync would delete the second line: it does not count.
    expect(ada.map((l) => [l.courseNumber, l.sectionNumber, l.sourcedId, l.endDate, l.since])).toEqual([
      ['0001', '101', 'e-stu1', '2024-12-20', '2024-09-02T02:00:00.000Z'],
      ['BIO', '202', 'e-stu1-k2', '', '2024-09-02T02:00:00.000Z'],
    ])
  })

  it("reads a date in the tenant's time zone", async () => {
    // 2024-09-05T02:00Z is still Sept 4 in Chicago: the second sync is in that day.
    const run = await synclog(
      ['roster', '--section', '101', '--at', '2024-09-04', '--tenant', TENANT, '--format', 'json', '--data', data],
      {
        env: { TZ: 'UTC', SYNCLOG_TIME_ZONE: 'America/Chicago' },
      },
    )
    expect(run.code, run.stderr).toBe(0)
    const roster = JSON.parse(run.stdout) as { at: string; lines: Line[] }
    expect(roster.at).toBe('2024-09-05T04:59:59.999Z')
    expect(who(roster.lines)).toEqual(['S001'])
  })

  it('prints a table for people', async () => {
    const table = await synclog(['roster', '--section', '202', '--at', '2024-09-06', '--data', data], { env: UTC })
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^Section 202 at 2024-09-06 23:59 \(UTC\): 2 students\n/)
    expect(table.stdout).toContain('Smith, Student1')
    expect(table.stdout).toContain('Smith, Student2')
  })

  it('writes CSV for spreadsheets', async () => {
    const csv = await synclog(['roster', '--student', 'S002', '--at', '2024-09-06', '--format', 'csv', '--data', data], { env: UTC })
    expect(csv.code).toBe(0)
    const [header, ...rows] = csv.stdout
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/)
    expect(header).toContain('Student Number')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatch(/(^|,)"?e-stu2"?,/)
  })

  it('says what is wrong with its options', async () => {
    const neither = await synclog(['roster', '--at', '2024-09-06', '--data', data], { env: UTC })
    expect(neither.code).toBe(1)
    expect(neither.stderr).toContain('exactly one of --section <sectionNumber> or --student <studentNumber>')
    const badDate = await synclog(['roster', '--section', '101', '--at', 'yesterday', '--data', data], { env: UTC })
    expect(badDate.code).toBe(1)
    expect(badDate.stderr).toMatch(/at.*YYYY-MM-DD/)
    expect(badDate.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('GET /api/v1/roster', () => {
  async function get(query: string, bearer: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${serve!.base}/api/v1/roster?${query}`, { headers: { authorization: `Bearer ${bearer}` } })
    return { status: res.status, body: await res.json() }
  }

  async function roster(query: string, bearer = token.district): Promise<{ at: string; lines: Line[] }> {
    const answer = await get(query, bearer)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    return RosterAtSchema.parse(answer.body)
  }

  it("gives a section's students on each date", async () => {
    expect(who((await roster('section=101&at=2024-09-01')).lines)).toEqual([])
    expect(who((await roster('section=101&at=2024-09-02')).lines)).toEqual(['S001', 'S002', 'S003'])
    expect(who((await roster('section=101&at=2024-09-04', token.operator)).lines)).toEqual(['S001', 'S002', 'S003'])
    expect(who((await roster('section=101&at=2024-09-05')).lines)).toEqual(['S001'])
    expect(who((await roster('section=202&at=2024-09-05')).lines)).toEqual(['S001', 'S002'])
  })

  it('reads an instant as given', async () => {
    const before = await roster(`section=101&at=${encodeURIComponent('2024-09-05T01:59:59Z')}`)
    expect(before.at).toBe('2024-09-05T01:59:59.000Z')
    expect(who(before.lines)).toEqual(['S001', 'S002', 'S003'])
  })

  it("gives a student's sections on each date, moved sections included", async () => {
    expect(where((await roster('student=S002&at=2024-09-03')).lines)).toEqual(['101'])
    expect(where((await roster('student=S002&at=2024-09-06')).lines)).toEqual(['202'])
    expect(where((await roster('student=S003&at=2024-09-03')).lines)).toEqual(['101'])
    expect(where((await roster('student=S003&at=2024-09-06')).lines)).toEqual([])
  })

  it('ignores the rows of the sync On Hold', async () => {
    expect(who((await roster('section=101&at=2024-09-10')).lines)).toEqual(['S001'])
    expect(where((await roster('student=S001&at=2024-09-10')).lines)).toEqual(['101', '202'])
  })

  it("keeps to the token's scope", async () => {
    expect(who((await roster('section=202&at=2024-09-06', token.school)).lines)).toEqual(['S001', 'S002'])
    expect((await roster('section=202&at=2024-09-06', token.otherTenant)).lines).toEqual([])
    expect((await roster(`section=202&at=2024-09-06&tenant=${TENANT}`, token.otherTenant)).lines).toEqual([])
  })

  it('refuses a request without exactly one of section or student, and a date it cannot read', async () => {
    const neither = await get('at=2024-09-06', token.district)
    expect(neither.status).toBe(400)
    expect(JSON.stringify(neither.body)).toContain('exactly one of the query parameters section or student')
    const both = await get('section=101&student=S001', token.district)
    expect(both.status).toBe(400)
    const bad = await get('section=101&at=soon', token.district)
    expect(bad.status).toBe(400)
    expect(JSON.stringify(bad.body)).toContain('at')
  })

  it('is listed in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${serve!.base}/openapi.json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toContain('/api/v1/roster')
  })
})

const SKIP_NO_BROWSER = !existsSync(CHROMIUM_PATH) && process.env['CI'] !== 'true'
if (SKIP_NO_BROWSER) console.warn(`the browser tests of rosters in time are skipped: ${CHROMIUM_MISSING}`)

describe.skipIf(SKIP_NO_BROWSER)("the web page's Rosters view, in Debian's Chromium", { timeout: 120_000 }, () => {
  let browser: Browser | undefined
  const pageErrors: string[] = []

  beforeAll(async () => {
    browser = await launchBrowser()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  async function openPage(): Promise<Page> {
    const context = await browser!.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 }, bypassCSP: true })
    context.setDefaultTimeout(30_000)
    const page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`))
    await signIn(page, serve!.base, token.district, 'district')
    return page
  }

  const rosterTable = (page: Page) => page.getByRole('table', { name: 'Roster' })

  it("shows a section's students on a date, and a student's number opens their sections that day", async () => {
    const page = await openPage()
    await page.goto(`${serve!.base}/#/roster?section=202&at=2024-09-06`)
    await page.getByRole('status').filter({ hasText: '2 students in section 202 on 2024-09-06.' }).waitFor()
    expect(await rosterTable(page).locator('tbody tr td:first-child').allTextContents()).toEqual(['S001', 'S002'])
    await rosterTable(page).getByRole('link', { name: 'S002', exact: true }).click()
    await page.getByRole('status').filter({ hasText: 'Student S002 had 1 section on 2024-09-06.' }).waitFor()
    expect(new URL(page.url()).hash).toBe('#/roster?student=S002&at=2024-09-06')
    expect(await rosterTable(page).locator('tbody tr td:nth-child(4)').allTextContents()).toEqual(['202'])
    expect(describeViolations(await axeViolations(page))).toBe('')
    expect(pageErrors).toEqual([])
    await page.context().close()
  })

  it("opens a student's roster on a row's day from the sync log", async () => {
    const page = await openPage()
    await page.goto(`${serve!.base}/#/log?from=2024-09-01&contains.studentNumber=S003`)
    const link = page.getByRole('table', { name: 'Sync log rows' }).getByRole('link', { name: 'S003', exact: true }).first()
    // Newest first: the deletion of S003's enrollment on Sept 5.
    expect(await link.getAttribute('href')).toBe('#/roster?student=S003&at=2024-09-05')
    await link.click()
    await page.getByRole('status').filter({ hasText: 'Student S003 had 0 sections on 2024-09-05.' }).waitFor()
    await page.getByLabel('On', { exact: true }).fill('2024-09-04')
    await page.getByRole('button', { name: 'Show roster' }).click()
    await page.getByRole('status').filter({ hasText: 'Student S003 had 1 section on 2024-09-04.' }).waitFor()
    expect(pageErrors).toEqual([])
    await page.context().close()
  })
})
