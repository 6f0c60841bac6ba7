/**
 * Reviewing held syncs on the web page, in Debian's Chromium, as a reviewer and a
 * viewer do it: the banner "N syncs waiting for review" on every view, the history
 * narrowed to them with a warning badge and no completion time, the proposed rows
 * (marked, and left out of the default log), Approve and Reject with a required
 * reason, and the decision (who, when, why) shown afterwards. Also: the log fits a
 * 1,440-pixel window with its default columns, the reader picks more columns and
 * the first ones stay in view, and every view says it is loading before its data.
 *
 * The data set: two districts, each with a night that goes On Hold (the demo's second
 * night without a third of its student enrollments, imported over the first through
 * the real CLI). The expected rows come from the JSON API with the operator's token,
 * never from the page.
 */
import { rm } from 'node:fs/promises'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { LogRecord, SyncRun } from '../../src/clickhouse/types.js'
import { LOG_COLUMN_HEADERS } from '../../src/events/sync-log-event.js'
import {
  CHROMIUM_MISSING,
  SKIP_NO_BROWSER,
  apiJson,
  axeViolations,
  createToken,
  describeViolations,
  launchBrowser,
  signIn,
  startServe,
  walkPages,
  type RunningServe,
} from '../support/browser.js'
import { tempDir } from '../support/cli.js'
import { holdOne, importNight, writeHeldNights, type HeldNights } from '../support/held-syncs.js'

const WAIT = 30_000
if (SKIP_NO_BROWSER) console.warn(`the browser tests of reviewing syncs are skipped: ${CHROMIUM_MISSING}`)

let dir = ''
let nights: HeldNights
let serve: RunningServe | undefined
let base = ''
let browser: Browser | undefined
let contexts: BrowserContext[] = []
const pageErrors: string[] = []
/** The held sync of each district. */
const held = { a: '', b: '' }
const token: Record<'operator' | 'viewer', string> = { operator: '', viewer: '' }
const TOKEN_NAME = { operator: 'operator', viewer: 'viewer-a' } as const

const enc = encodeURIComponent
const key = (r: LogRecord): string => `${r.tenant}|${r.syncId}|${r.seq}`
const toNumber = (text: string): number => Number(text.replace(/[^\d]/g, ''))

const syncOf = (syncId: string): Promise<SyncRun> => apiJson<SyncRun>(base, `/api/v1/syncs/${enc(syncId)}`, token.operator)
/** The log rows the operator's token reads with these query parameters (every page). */
const logRows = (query: string): Promise<LogRecord[]> => walkPages(base, `/api/v1/log?${query}`, token.operator)

async function openPage(who: keyof typeof token, opts: { bypassCSP?: boolean; width?: number } = {}): Promise<Page> {
  const context = await browser!.newContext({
    locale: 'en-US',
    viewport: { width: opts.width ?? 1440, height: 900 },
    ...(opts.bypassCSP === true ? { bypassCSP: true } : {}),
  })
  contexts.push(context)
  context.setDefaultTimeout(WAIT)
  const page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`))
  await signIn(page, base, token[who], TOKEN_NAME[who])
  return page
}

const banner = (page: Page): Locator => page.getByRole('complementary', { name: 'Syncs waiting for review' })
const bannerLink = (page: Page): Locator => banner(page).getByRole('link', { name: /syncs? waiting for review$/ })
const syncRow = (page: Page, syncId: string): Locator => page.locator(`tr[data-sync-id=${JSON.stringify(syncId)}]`)
const logTable = (page: Page): Locator => page.getByRole('table', { name: 'Sync log rows' })
const bodyRows = (table: Locator): Locator => table.locator('tr[data-row-key]')
const hashParams = (url: string): URLSearchParams => new URLSearchParams(new URL(url).hash.replace(/^#[^?]*\??/, ''))
const hashView = (url: string): string => new URL(url).hash.split('?')[0] ?? ''

/** The texts of the log table's column headers. */
const headers = (page: Page): Promise<string[]> =>
  logTable(page).evaluate((t) => [...((t as HTMLTableElement).tHead?.rows[0]?.cells ?? [])].map((c) => (c.textContent ?? '').trim()))

/** Each shown row's key, class and State cell. */
function shownRows(page: Page): Promise<{ key: string; proposed: boolean; state: string; italic: boolean }[]> {
  return logTable(page).evaluate((t, stateHeader) => {
    const table = t as HTMLTableElement
    const column = [...(table.tHead?.rows[0]?.cells ?? [])].findIndex((c) => (c.textContent ?? '').trim() === stateHeader)
    return [...table.querySelectorAll<HTMLTableRowElement>('tr[data-row-key]')].map((tr) => ({
      key: tr.dataset['rowKey'] ?? '',
      proposed: tr.classList.contains('row-proposed'),
      state: column === -1 ? '(no State column)' : (tr.cells[column]?.textContent ?? '').trim(),
      italic: getComputedStyle(tr.cells[0]!).fontStyle === 'italic',
    }))
  }, LOG_COLUMN_HEADERS.state)
}

/** Waits until the log's status counts `n` matching rows (or says none match). */
async function expectLogTotal(page: Page, n: number, label: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const text = (await page.locator('#log-status').textContent()) ?? ''
        if (/^No rows match/.test(text)) return 0
        const match = /of ([\d,]+) matching rows?/.exec(text)
        return match === null ? null : toNumber(match[1]!)
      },
      { timeout: WAIT, message: `${label}: the matching rows in the status` },
    )
    .toBe(n)
}

/** Every row of the log view (pressing "Load more rows" as needed). */
async function loadAll(page: Page, n: number): Promise<void> {
  const rows = bodyRows(logTable(page))
  for (let rounds = 0; rounds < 200 && (await rows.count()) < n; rounds++) {
    const before = await rows.count()
    const more = page.getByRole('button', { name: 'Load more rows' })
    if (await more.isVisible()) await more.click({ timeout: 2_000 }).catch(() => undefined)
    await expect.poll(() => rows.count(), { timeout: WAIT, message: `more rows after ${before} of ${n}` }).toBeGreaterThan(before)
  }
  expect(await rows.count()).toBe(n)
}

/** The banner counts the syncs the API lists as waiting for review, and is gone when there are none. */
async function expectBannerCounts(page: Page): Promise<void> {
  const { syncs } = await apiJson<{ syncs: SyncRun[] }>(base, '/api/v1/syncs?status=On%20Hold&status=Preview', token.operator)
  const text = async (): Promise<string> =>
    (await banner(page).isVisible()) ? ((await bannerLink(page).textContent()) ?? '').trim() : '(no banner)'
  await expect
    .poll(text, { timeout: WAIT })
    .toBe(syncs.length === 0 ? '(no banner)' : `${syncs.length} sync${syncs.length === 1 ? '' : 's'} waiting for review`)
}

async function decideOnPage(page: Page, syncId: string, decision: 'approve' | 'reject', reason: string): Promise<void> {
  const row = syncRow(page, syncId)
  const word = decision === 'approve' ? 'Approve' : 'Reject'
  await row.getByRole('button', { name: `${word} sync ${syncId}` }).click()
  const confirm = row.getByRole('group', { name: `Confirm: ${decision} sync ${syncId}` })
  const field = confirm.getByRole('textbox', { name: 'Reason (required)' })
  await field.waitFor()
  expect(await field.evaluate((el) => el === document.activeElement), 'focus on the reason').toBe(true)

  // No reason, no decision: the page says what is missing and the sync stays as it was.
  await confirm.getByRole('button', { name: `Yes, ${decision}` }).click()
  await confirm.getByText('Give a reason: it is recorded with the decision.').waitFor()
  expect(await field.getAttribute('aria-invalid')).toBe('true')
  expect((await syncOf(syncId)).status).toBe('On Hold')

  await field.fill(reason)
  await confirm.getByRole('button', { name: `Yes, ${decision}` }).click()
  await expect
    .poll(async () => (await page.locator('#decision-status').textContent()) ?? '', { timeout: WAIT })
    .toMatch(new RegExp(`^Sync ${syncId} ${decision === 'approve' ? 'approved' : 'rejected'}: it is now `))
}

beforeEach((ctx) => {
  if (SKIP_NO_BROWSER) ctx.skip(CHROMIUM_MISSING)
})

beforeAll(async () => {
  if (SKIP_NO_BROWSER) return
  dir = await tempDir('web-review')
  nights = await writeHeldNights(dir, 23)
  held.a = await holdOne(nights, 'district-a')
  held.b = await holdOne(nights, 'district-b')
  token.operator = await createToken(nights.data, TOKEN_NAME.operator)
  token.viewer = await createToken(nights.data, TOKEN_NAME.viewer, '--tenant', 'district-a')
  serve = await startServe(nights.data)
  base = serve.base
  browser = await launchBrowser()
}, 300_000)

afterEach(async () => {
  const open = contexts
  contexts = []
  for (const context of open) await context.close().catch(() => undefined)
})

afterAll(async () => {
  await browser?.close()
  if (serve !== undefined) {
    const code = await serve.stop()
    expect(code, `synclog serve exit code; stderr: ${serve.stderr()}`).toBe(0)
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('a viewer and an operator', () => {
  it('both see the banner and the held sync, but only the operator gets Approve and Reject', async () => {
    const viewer = await openPage('viewer')
    await bannerLink(viewer).waitFor()
    // The viewer's district has one held sync: the banner links straight to its proposal and says who decides.
    expect((await bannerLink(viewer).textContent())?.trim()).toBe('1 sync waiting for review')
    expect(await banner(viewer).textContent()).toContain('not applied until a reviewer or operator approves it')
    const proposal = banner(viewer).getByRole('link', { name: `See the proposed rows of sync ${held.a}` })
    await bannerLink(viewer).click()
    await syncRow(viewer, held.a).getByText('On Hold', { exact: true }).waitFor()
    expect(await viewer.getByRole('button', { name: /^(Approve|Reject)/ }).count()).toBe(0)
    expect(await viewer.getByRole('textbox', { name: 'Reason (required)' }).count()).toBe(0)

    await proposal.click()
    await expect.poll(() => hashParams(viewer.url()).get('includeProposed'), { timeout: WAIT }).toBe('true')
    const expected = await logRows(`sync=${enc(held.a)}&tenant=district-a&includeProposed=true`)
    expect(expected.length).toBeGreaterThan(0)
    await expectLogTotal(viewer, expected.length, "the viewer's proposal")

    const operator = await openPage('operator')
    await bannerLink(operator).waitFor()
    expect((await bannerLink(operator).textContent())?.trim()).toBe('2 syncs waiting for review')
    await bannerLink(operator).click()
    for (const syncId of [held.a, held.b]) {
      await syncRow(operator, syncId)
        .getByRole('button', { name: `Approve sync ${syncId}` })
        .waitFor()
      await syncRow(operator, syncId)
        .getByRole('button', { name: `Reject sync ${syncId}` })
        .waitFor()
    }
    expect(pageErrors).toEqual([])
  })
})

describe('a held sync, from the banner to its approval', () => {
  it('stands out in the history narrowed to waiting syncs: a warning badge, no completion time, a link to its proposed rows', async () => {
    const page = await openPage('operator')
    await bannerLink(page).click()
    await expect.poll(() => hashParams(page.url()).getAll('status'), { timeout: WAIT }).toEqual(['On Hold', 'Preview'])
    expect(hashView(page.url())).toBe('#/syncs')
    const table = page.getByRole('table', { name: 'Syncs' })
    await expect
      .poll(() => table.locator('tr[data-sync-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sync-id')).sort()), {
        timeout: WAIT,
      })
      .toEqual([held.a, held.b].sort())
    expect(await page.getByLabel('Status', { exact: true }).inputValue()).toBe('On Hold,Preview')
    const waiting = await apiJson<{ syncs: SyncRun[] }>(base, '/api/v1/syncs?status=On%20Hold&status=Preview', token.operator)
    expect(waiting.syncs.map((s) => s.syncId).sort()).toEqual([held.a, held.b].sort())
    const done = await apiJson<{ syncs: SyncRun[] }>(base, '/api/v1/syncs?status=Completed', token.operator)
    expect(done.syncs.length).toBeGreaterThan(0)
    for (const s of done.syncs) expect(s.status).toBe('Completed')

    const row = syncRow(page, held.a)
    const badge = row.locator('.status')
    expect((await badge.textContent())?.trim()).toBe('On Hold')
    const looks = await badge.evaluate((el) => ({
      warning: el.classList.contains('review'),
      background: getComputedStyle(el).backgroundColor,
    }))
    expect(looks.warning).toBe(true)
    expect(looks.background, 'a filled badge, not plain text').not.toBe('rgba(0, 0, 0, 0)')
    const completed = row.locator('td').nth(1)
    expect((await completed.textContent())?.trim()).toBe('not until decided')
    expect(await completed.locator('time').count(), 'no completion time').toBe(0)
    expect((await syncOf(held.a)).endedAt).toBe('')

    const sync = await syncOf(held.a)
    const records = row.getByRole('link', { name: `${sync.total.toLocaleString('en-US')} records: the proposed log rows of this sync` })
    expect(hashParams(new URL((await records.getAttribute('href'))!, base).toString()).get('includeProposed')).toBe('true')
  })

  it('shows its proposed rows marked as proposed on one click, and leaves them out of the default log', async () => {
    const proposed = await logRows(`sync=${enc(held.a)}&tenant=district-a&includeProposed=true`)
    const applied = await logRows(`sync=${enc(held.a)}&tenant=district-a`)
    expect(proposed.length).toBeGreaterThan(0)
    expect(applied).toEqual([])
    expect(new Set(proposed.map((r) => r.state))).toEqual(new Set(['Proposed']))

    const page = await openPage('operator', { bypassCSP: true })
    await page.goto(`${base}/#/syncs?status=On%20Hold`)
    const sync = await syncOf(held.a)
    await syncRow(page, held.a)
      .getByRole('link', { name: /records: the proposed log rows of this sync$/ })
      .click()
    await expectLogTotal(page, proposed.length, 'the proposal')
    expect(await page.getByLabel('Include proposed rows (syncs On Hold or in preview)').isChecked()).toBe(true)
    expect(sync.total).toBeGreaterThan(0)
    await loadAll(page, Math.min(proposed.length, 100))
    const shown = await shownRows(page)
    expect(shown.map((r) => r.key)).toEqual(proposed.slice(0, shown.length).map(key))
    for (const r of shown) expect(r, r.key).toMatchObject({ proposed: true, state: 'Proposed', italic: true })
    await page.getByText('Rows tagged Proposed are not applied').waitFor()
    const violations = await axeViolations(page)
    expect(violations, describeViolations(violations)).toEqual([])

    // Unticking the box is the default log: none of the held sync's rows.
    await page.getByLabel('Include proposed rows (syncs On Hold or in preview)').uncheck()
    await expectLogTotal(page, 0, 'the default log of the held sync')
    expect(hashParams(page.url()).has('includeProposed')).toBe(false)
  })

  it('approves it with a reason, then shows it Completed with who, when and why, and its rows as applied', async () => {
    const reason = 'Checked with the registrar: the spring schedule change is real.'
    const proposed = await logRows(`sync=${enc(held.a)}&tenant=district-a&includeProposed=true`)
    const page = await openPage('operator', { bypassCSP: true })
    await page.goto(`${base}/#/syncs?status=On%20Hold&status=Preview`)
    const row = syncRow(page, held.a)
    await row.getByRole('button', { name: `Approve sync ${held.a}` }).click()
    await row.getByRole('textbox', { name: 'Reason (required)' }).waitFor()
    const violations = await axeViolations(page)
    expect(violations, describeViolations(violations)).toEqual([])
    await row
      .getByRole('group', { name: `Confirm: approve sync ${held.a}` })
      .getByRole('button', { name: 'Cancel' })
      .click()

    await decideOnPage(page, held.a, 'approve', reason)
    const after = await syncOf(held.a)
    expect(['Completed', 'Completed with Errors']).toContain(after.status)
    expect(after.reviewedBy).toContain(TOKEN_NAME.operator)
    expect(after.reviewReason).toBe(reason)
    expect(after.endedAt).not.toBe('')

    // The history (all statuses) shows the decision in the sync's row.
    await page.goto(`${base}/#/syncs`)
    await expect
      .poll(async () => ((await syncRow(page, held.a).locator('.status').textContent()) ?? '').trim(), { timeout: WAIT })
      .toBe(after.status)
    const decision = syncRow(page, held.a).locator('.decision')
    await decision.waitFor()
    expect((await decision.textContent())?.replace(/\s+/g, ' ').trim()).toMatch(
      new RegExp(`^Approved by ${after.reviewedBy} on \\d{4}-\\d{2}-\\d{2}.*: .?${reason.replace(/[.]/g, '\\.')}.?$`),
    )
    expect(await decision.locator('time').getAttribute('datetime')).toBe(after.reviewedAt)
    expect(await syncRow(page, held.a).locator('td').nth(1).locator('time').count(), 'a completion time once decided').toBe(1)

    // The banner no longer counts it.
    await expectBannerCounts(page)

    // Its rows are in the default log now, as applied.
    const applied = await logRows(`sync=${enc(held.a)}&tenant=district-a`)
    expect(applied.map(key)).toEqual(proposed.map(key))
    expect(new Set(applied.map((r) => r.state))).toEqual(new Set(['Applied']))
    await page.goto(`${base}/#/log?sync=${enc(held.a)}&tenant=district-a`)
    await expectLogTotal(page, applied.length, 'the approved sync in the default log')
    expect(await page.getByLabel('Include proposed rows (syncs On Hold or in preview)').isChecked()).toBe(false)
    const shown = await shownRows(page)
    expect(shown.length).toBeGreaterThan(0)
    expect(shown.map((r) => r.key)).toEqual(applied.slice(0, shown.length).map(key))
    for (const r of shown) expect(r, r.key).toMatchObject({ proposed: false, state: 'Applied', italic: false })
    expect(pageErrors).toEqual([])
  })
})

describe('rejecting a held sync on the page', () => {
  it('leaves the state as before: the default log unchanged and the next import of the first night changes nothing', async () => {
    const before = await logRows('tenant=district-b')
    expect(before.length).toBeGreaterThan(0)
    expect(before.filter((r) => r.syncId === held.b)).toEqual([])
    const reason = 'A third of the enrollments vanished: the SIS export was cut short.'

    const page = await openPage('operator')
    await bannerLink(page).click()
    await decideOnPage(page, held.b, 'reject', reason)
    const rejected = await syncOf(held.b)
    expect(rejected).toMatchObject({ status: 'Rejected', reviewReason: reason })
    expect(rejected.reviewedBy).toContain(TOKEN_NAME.operator)
    await page.goto(`${base}/#/syncs`)
    const row = syncRow(page, held.b)
    await expect.poll(async () => ((await row.locator('.status').textContent()) ?? '').trim(), { timeout: WAIT }).toBe('Rejected')
    expect(await row.locator('.status').evaluate((el) => el.classList.contains('bad')), 'an error badge, not the warning').toBe(true)
    expect((await row.locator('.decision').textContent())?.replace(/\s+/g, ' ')).toContain(`Rejected by ${rejected.reviewedBy} on `)
    expect(await row.locator('.decision').textContent()).toContain(reason)
    // The banner no longer counts it.
    await expectBannerCounts(page)

    const after = await logRows('tenant=district-b')
    expect(after.map(key)).toEqual(before.map(key))
    await page.goto(`${base}/#/log?tenant=district-b`)
    await expectLogTotal(page, before.length, "district-b's default log after the reject")
    await page.goto(`${base}/#/log?sync=${enc(held.b)}&tenant=district-b`)
    await expectLogTotal(page, 0, 'the rejected sync without its box ticked')

    // The first night again, through the running server: the roster is the first night's, so nothing changes.
    const next = await importNight(nights, 'night1', 'district-b')
    expect(next.code).toBe(0)
    const counts = next.run['counts'] as Record<string, Record<string, number>>
    for (const entity of ['enrollment', 'user', 'class']) expect(counts[entity], entity).toMatchObject({ new: 0, updated: 0, deleted: 0 })
    expect(pageErrors).toEqual([])
  })
})

describe('the log in a 1,440-pixel window', () => {
  it('fits without sideways scrolling with its default columns', async () => {
    const page = await openPage('operator')
    await page.goto(`${base}/#/log`)
    await bodyRows(logTable(page)).first().waitFor()
    await expect.poll(() => page.locator('#log-status').textContent(), { timeout: WAIT }).toMatch(/^Showing/)
    const box = await logTable(page).evaluate((t) => {
      const scroller = t.closest('.table-scroll')!
      return { scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth, page: document.documentElement.scrollWidth }
    })
    expect(box.scrollWidth, JSON.stringify(box)).toBeLessThanOrEqual(box.clientWidth)
    expect(box.page, 'the page itself does not scroll sideways').toBeLessThanOrEqual(1440)
  })

  it('lets the reader choose more columns, keeps the choice after a reload, and keeps the first columns in view when scrolled', async () => {
    const page = await openPage('operator')
    await page.goto(`${base}/#/log`)
    await bodyRows(logTable(page)).first().waitFor()
    const defaults = await headers(page)
    expect(defaults.slice(0, 4)).toEqual(['Date', 'Action', 'Student Number', 'Student Name'])
    expect(defaults).toContain('State')

    const chooser = page.locator('details.column-chooser')
    await chooser.locator('summary').click()
    const hidden = chooser.locator('input[type=checkbox]:not(:checked)')
    const toShow = await hidden.evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).labels?.[0]?.textContent ?? ''))
    expect(toShow).toEqual(expect.arrayContaining(['Serving District', 'Home District', 'Cause', 'Sync ID']))
    for (const label of toShow) await chooser.getByLabel(label, { exact: true }).check()
    await expect.poll(() => headers(page), { timeout: WAIT }).toEqual(expect.arrayContaining([...defaults, ...toShow]))
    expect(await page.getByLabel('Search Home District', { exact: true }).count()).toBe(1)

    await page.reload()
    await bodyRows(logTable(page)).first().waitFor()
    expect((await headers(page)).length, 'the choice survives a reload').toBe(defaults.length + toShow.length)

    // Scrolled to the far right, the date, action and student columns are still where they were.
    const stuck = await logTable(page).evaluate(async (t) => {
      const scroller = t.closest('.table-scroll') as HTMLElement
      const firstRow = t.querySelector('tr[data-row-key]')!
      const left = (): number[] => [...firstRow.querySelectorAll('td')].slice(0, 5).map((c) => Math.round(c.getBoundingClientRect().left))
      const start = left()
      scroller.scrollLeft = scroller.scrollWidth
      await new Promise((done) => requestAnimationFrame(done))
      return { scrolled: scroller.scrollLeft, start, end: left() }
    })
    expect(stuck.scrolled, 'all the columns need sideways scrolling').toBeGreaterThan(0)
    expect(stuck.end.slice(0, 4), 'Date, Action, Student Number and Student Name stay in view').toEqual(stuck.start.slice(0, 4))
    expect(stuck.end[4], 'the next column scrolls away').toBeLessThan(stuck.start[4]!)

    await chooser.locator('summary').click()
    await chooser.getByRole('button', { name: 'Default columns' }).click()
    await expect.poll(() => headers(page), { timeout: WAIT }).toEqual(defaults)
  })
})

describe('loading', () => {
  it('says the log, the history and a drill-down are loading until their data arrives, never "0 shown"', async () => {
    const page = await openPage('operator')
    let release: () => void = () => {}
    const gate = new Promise<void>((done) => (release = done))
    await page.route(/\/api\/v1\/(log|syncs)(\/[^/]+\/drilldown)?\?/, async (route) => {
      await gate
      await route.continue()
    })

    // The page opened on the history and may already show it: the log comes first, so that each step changes the view.
    await page.goto(`${base}/#/log`)
    await expect.poll(() => page.locator('#log-status').textContent(), { timeout: WAIT }).toMatch(/loading/i)
    expect(await logTable(page).getAttribute('aria-busy')).toBe('true')
    await page.goto(`${base}/#/syncs`)
    await expect.poll(() => page.locator('#history-status').textContent(), { timeout: WAIT }).toBe('Loading…')
    await page.goto(`${base}/#/drill?sync=${enc(held.a)}&entity=enrollment`)
    const drill = page.locator('#drill-status')
    await expect.poll(() => drill.textContent(), { timeout: WAIT }).toBe('Loading…')
    await page.waitForTimeout(500)
    expect(await drill.textContent()).toBe('Loading…')

    release()
    await expect.poll(() => drill.textContent(), { timeout: WAIT }).toMatch(/counted · [\d,]+ shown/)
    expect(pageErrors).toEqual([])
  })
})
