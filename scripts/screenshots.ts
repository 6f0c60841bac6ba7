/**
 * Screenshots of the web page `synclog serve` serves, for the docs:
 *
 *   npx tsx scripts/screenshots.ts [--out docs/screenshots]
 *
 * Builds the browser tests' data set in a temporary directory (two nights of the
 * demo district as district-a, the first night as district-b), starts the built
 * `synclog serve` (run `npm run build` first), drives Debian's Chromium (or
 * SYNCLOG_CHROMIUM) at 1440×900 and writes:
 *   sync-history.png  the sync history with the newest sync's details open
 *   drill-down.png    the Deleted enrollments behind a count of a summary
 *   sync-log.png      the log narrowed by a Student Name search
 *   school-scope.png  the log as a token scoped to one school sees it
 *   review.png        a held sync (a third district's) being approved, with the banner
 *   proposed-rows.png the proposed rows of that held sync
 */
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import type { LogRecord, SyncRun, SyncSummary } from '../src/clickhouse/types.js'
import { apiJson, createToken, launchBrowser, signIn, startServe, walkPages, type RunningServe } from '../test/support/browser.js'
import { busiestCrossSchool, importDemoDataSet } from '../test/support/demo-data-set.js'
import { tempDir } from '../test/support/cli.js'
import { holdOne, writeHeldNights } from '../test/support/held-syncs.js'

const WAIT = 30_000
const VIEWPORT = { width: 1440, height: 900 }

/** The first three letters of a surname that match a screenful of rows (10 to 40). */
function nameSearch(rows: readonly LogRecord[]): string {
  const counts = new Map<string, number>()
  for (const r of rows) {
    const surname = /^[A-Z][a-z]{2}/.exec(r.studentName)?.[0]?.toLowerCase()
    if (surname !== undefined) counts.set(surname, (counts.get(surname) ?? 0) + 1)
  }
  const fitting = [...counts.entries()].filter(([, n]) => n >= 10 && n <= 40).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  return (fitting[0] ?? [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['a'])[0]
}

async function waitForLog(page: Page): Promise<void> {
  await page.getByRole('table', { name: 'Sync log rows' }).locator('tr[data-row-key]').first().waitFor()
  await page.waitForFunction(() => /of [\d,]+ matching/.test(document.getElementById('log-status')?.textContent ?? ''), null, {
    timeout: WAIT,
  })
}

async function openDetails(page: Page, syncId: string): Promise<void> {
  await page
    .locator(`tr[data-sync-id=${JSON.stringify(syncId)}]`)
    .getByRole('button', { name: 'Show details' })
    .click()
  await page
    .getByRole('region', { name: `Details of sync ${syncId}` })
    .getByRole('table', { name: 'Summary by record type' })
    .waitFor()
}

async function shoot(page: Page, out: string, name: string): Promise<void> {
  await page.evaluate(() => document.fonts.ready)
  const path = join(out, name)
  await page.screenshot({ path })
  console.log(`wrote ${path}`)
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/screenshots' } } })
  const out = resolve(values.out)
  await mkdir(out, { recursive: true })

  const dir = await tempDir('screenshots')
  let serve: RunningServe | undefined
  let browser: Browser | undefined
  try {
    console.log(`importing the demo data set into ${dir} …`)
    const { data } = await importDemoDataSet(dir)
    const operator = await createToken(data, 'operator')
    serve = await startServe(data)
    const base = serve.base
    const rows = await walkPages(base, '/api/v1/log', operator)
    const { syncs } = await apiJson<{ syncs: SyncRun[] }>(base, '/api/v1/syncs', operator)
    let drillSync: SyncRun | undefined
    for (const sync of syncs) {
      const summary = await apiJson<SyncSummary>(base, `/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary`, operator)
      if ((summary.counts.enrollment?.deleted ?? 0) > 0) {
        drillSync = sync
        break
      }
    }
    if (drillSync === undefined) throw new Error('no sync deleted an enrollment')
    const school = busiestCrossSchool(rows, 'district-a')
    // `synclog token` does not need the data directory's lock: the running server reads new tokens.
    const schoolToken = await createToken(data, 'one-school', '--tenant', 'district-a', '--school', school)

    browser = await launchBrowser()
    const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', acceptDownloads: true })
    context.setDefaultTimeout(WAIT)
    const page = await context.newPage()
    await signIn(page, base, operator, 'operator')

    await page.goto(`${base}/#/syncs`)
    await page.getByRole('heading', { level: 1, name: 'Sync history' }).waitFor()
    await openDetails(page, syncs[0]!.syncId)
    await shoot(page, out, 'sync-history.png')

    if (drillSync.syncId !== syncs[0]!.syncId) await openDetails(page, drillSync.syncId)
    const summary = page
      .getByRole('region', { name: `Details of sync ${drillSync.syncId}` })
      .getByRole('table', { name: 'Summary by record type' })
    const headers = await summary.evaluate((t) =>
      [...((t as HTMLTableElement).tHead?.rows[0] ?? (t as HTMLTableElement).rows[0])!.cells].map((c) => (c.textContent ?? '').trim()),
    )
    const deleted = headers.indexOf('Deleted')
    const enrollment = summary
      .locator(':scope > tbody > tr, :scope > tr')
      .filter({ has: page.getByRole('rowheader', { name: 'enrollment', exact: true }) })
    await enrollment.locator(':scope > th, :scope > td').nth(deleted).getByRole('link').click()
    await page.getByRole('table', { name: 'Records behind the count' }).locator('tr[data-row-key]').first().waitFor()
    await shoot(page, out, 'drill-down.png')

    await page.goto(`${base}/#/log`)
    await waitForLog(page)
    await page
      .getByLabel('Search Student Name', { exact: true })
      .pressSequentially(nameSearch(rows.filter((r) => r.tenant === 'district-a')), { delay: 60 })
    await page.waitForFunction(() => /contains\.studentName=/.test(location.hash), null, { timeout: WAIT })
    await waitForLog(page)
    await page.waitForTimeout(500)
    await shoot(page, out, 'sync-log.png')
    await context.close()

    const scoped = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US' })
    scoped.setDefaultTimeout(WAIT)
    const schoolPage = await scoped.newPage()
    await signIn(schoolPage, base, schoolToken, 'one-school')
    await schoolPage.goto(`${base}/#/log`)
    await waitForLog(schoolPage)
    await shoot(schoolPage, out, 'school-scope.png')
    await scoped.close()

    // A third district whose second night goes On Hold, imported through the running server.
    const held = await holdOne({ ...(await writeHeldNights(join(dir, 'held-nights'), 41)), data }, 'district-c')
    const review = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US' })
    review.setDefaultTimeout(WAIT)
    const reviewPage = await review.newPage()
    await signIn(reviewPage, base, operator, 'operator')
    await reviewPage.goto(`${base}/#/syncs?status=On%20Hold&status=Preview`)
    await reviewPage.getByRole('button', { name: `Approve sync ${held}` }).click()
    await reviewPage
      .getByRole('textbox', { name: 'Reason (required)' })
      .fill('Checked with the registrar: the spring schedule change is real.')
    await shoot(reviewPage, out, 'review.png')
    await reviewPage.goto(`${base}/#/log?sync=${encodeURIComponent(held)}&tenant=district-c&includeProposed=true`)
    await waitForLog(reviewPage)
    await shoot(reviewPage, out, 'proposed-rows.png')
    await review.close()
  } finally {
    await browser?.close()
    await serve?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e))
  process.exitCode = 1
})
