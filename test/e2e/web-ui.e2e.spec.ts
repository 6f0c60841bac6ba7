/**
 * The web page `synclog serve` serves, driven in Debian's Chromium (playwright-core)
 * as a user drives it: sign in with an API token, read the sync history, open a
 * sync's summary and drill from a count to the records behind it, search the log
 * column by column, scroll it, export it to Excel, and see only what the token's
 * scope allows. Elements are found by role and accessible name, so the tests also
 * check the labels.
 *
 * The data set is the HTTP API e2e's: two nights of the demo district imported
 * through the CLI as tenant district-a, the first night again as district-b;
 * tokens come from the real `synclog token create`, and the server is the built
 * `synclog serve` in a child process. Expected rows come from the operator's whole
 * log (JSON API) filtered here in plain JS, or from the API's own answers for the
 * same question, never from the page.
 *
 * Needs a built dist/ (with the page under dist/web) and Debian's chromium
 * (or SYNCLOG_CHROMIUM); the Excel checks need python3-openpyxl.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DISTRICT_KEY, type LogRecord, type OutcomeCountsJson, type SyncRun, type SyncSummary } from '../../src/clickhouse/types.js'
import { LOG_COLUMN_HEADERS, LOG_COLUMNS, type LogColumn } from '../../src/events/sync-log-event.js'
import { neutralizeFormula } from '../../src/export/spreadsheet-safety.js'
import {
  CHROMIUM_MISSING,
  SKIP_NO_BROWSER,
  apiGet,
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
import { busiestCrossSchool, importDemoDataSet } from '../support/demo-data-set.js'
import { tempDir } from '../support/cli.js'

/** Debian's python3-openpyxl lives in the system Python, which a pyenv shim may hide. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const HAS_OPENPYXL = spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0
const NO_OPENPYXL = HAS_OPENPYXL ? '' : ' (skipped: python3-openpyxl is not installed; apt-get install python3-openpyxl)'

/** How long the page may take to show what a step asks for. */
const WAIT = 15_000

/**
 * The log table's default columns, in order (a last column "Row" holds the "Full row"
 * button): those that fit a 1,440-pixel window; the reader may show the others
 * (web-ui-review.e2e.spec.ts tests the column chooser).
 */
const TABLE_COLUMNS: readonly LogColumn[] = [
  'date',
  'action',
  'studentNumber',
  'studentName',
  'courseName',
  'sectionNumber',
  'field',
  'oldValue',
  'newValue',
  'servingSchool',
  'homeSchool',
  'message',
  'state',
]
const TABLE_HEADERS = [...TABLE_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c]), 'Row']

/** The drill-down's columns: what happened to each record and why first, then who and where. */
const DRILL_HEADERS = [
  ...(
    [
      'date',
      'action',
      'outcome',
      'message',
      'sourcedId',
      'studentNumber',
      'studentName',
      'courseNumber',
      'courseName',
      'sectionNumber',
      'field',
      'oldValue',
      'newValue',
      'servingSchool',
      'homeSchool',
    ] as const
  ).map((c) => LOG_COLUMN_HEADERS[c]),
  'Row',
]

/** The columns of "Summary by record type" after "Record type", and the counter each shows. */
const SUMMARY_COLUMNS: readonly (readonly [string, keyof OutcomeCountsJson])[] = [
  ['Total', 'total'],
  ['No Change', 'noChange'],
  ['New', 'new'],
  ['Updated', 'updated'],
  ['Deleted', 'deleted'],
  ['Skipped', 'skipped'],
  ['Duplicates', 'duplicates'],
  ['Merged', 'merged'],
  ['Excluded', 'excluded'],
  ['Invalid', 'invalid'],
]

const TOKEN_NAME = { operator: 'operator', districtA: 'district-a', school: 'one-school' } as const
type Who = keyof typeof TOKEN_NAME
const token: Record<Who, string> = { operator: '', districtA: '', school: '' }

let dir: string
let serve: RunningServe
let base: string
let browser: Browser
/** Every row of the log as the operator sees it (newest first): the reference everything is checked against. */
let allRows: LogRecord[]
let rowsA: LogRecord[]
let byKey: Map<string, LogRecord>
/** district-a's syncs, newest first; [0] is the second night. */
let syncsA: SyncRun[]
let allSyncs: SyncRun[]
/** The school of district-a with the most rows whose home and serving schools differ, its name, and another school. */
let school: string
let schoolName: string
let otherSchool: string
/** A lower-case fragment of student names that matches several rows of district-a, but not all, in two or more actions. */
let nameFragment: string

/** Every URL any page asked for, over every test. */
const requests: string[] = []
/** Uncaught script errors of any page. */
const pageErrors: string[] = []
/** The contexts a test opened, closed after it. */
let contexts: BrowserContext[] = []

const key = (r: LogRecord): string => `${r.tenant}|${r.syncId}|${r.seq}`
const keys = (rows: readonly LogRecord[]): string[] => rows.map(key)
const fmt = (n: number): string => n.toLocaleString('en-US')
const toNumber = (text: string): number => Number(text.replace(/[^\d]/g, ''))
const enc = encodeURIComponent
const containsCi = (value: string, text: string): boolean => value.toLowerCase().includes(text.toLowerCase())
const inSchool = (r: LogRecord, id: string): boolean => r.homeSchoolId === id || r.servingSchoolId === id
/** The query of a `#/view?…` URL. */
const hashParams = (url: string): URLSearchParams => new URLSearchParams(new URL(url).hash.replace(/^#[^?]*\??/, ''))
const hashView = (url: string): string => new URL(url).hash.split('?')[0] ?? ''

// ---------------------------------------------------------------- the page

async function openPage(opts: { bypassCSP?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'en-US', viewport: { width: 1400, height: 900 }, ...opts })
  contexts.push(context)
  context.setDefaultTimeout(WAIT)
  context.on('request', (request) => requests.push(request.url()))
  const page = await context.newPage()
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`))
  return page
}

const signInAs = (page: Page, who: Who): Promise<void> => signIn(page, base, token[who], TOKEN_NAME[who])

/** A signed-in page showing the view of `hash` (e.g. `#/log?school=x`). */
async function pageAt(who: Who, hash: string, opts: { bypassCSP?: boolean } = {}): Promise<Page> {
  const page = await openPage(opts)
  await signInAs(page, who)
  await page.goto(`${base}/${hash}`)
  return page
}

const isFocused = (locator: Locator): Promise<boolean> => locator.evaluate((el) => el === document.activeElement)

/** Scrolls the window and every scrolling box to the bottom, and the last row into view. */
async function scrollToBottom(page: Page, rows: Locator): Promise<void> {
  await rows
    .last()
    .scrollIntoViewIfNeeded()
    .catch(() => undefined)
  await page.evaluate(() => {
    window.scrollTo(0, document.documentElement.scrollHeight)
    for (const el of document.querySelectorAll<HTMLElement>('*')) {
      if (el.scrollHeight > el.clientHeight + 1 && /auto|scroll/.test(getComputedStyle(el).overflowY)) el.scrollTop = el.scrollHeight
    }
  })
}

// ---------------------------------------------------------------- tables

const logTable = (page: Page): Locator => page.getByRole('table', { name: 'Sync log rows' })
const drillTable = (page: Page): Locator => page.getByRole('table', { name: 'Records behind the count' })
const bodyRows = (table: Locator): Locator => table.locator('tr[data-row-key]')

function shownKeys(table: Locator): Promise<string[]> {
  return bodyRows(table).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row-key') ?? ''))
}

/** The texts of the cells of the table's first header row. */
function headerTexts(table: Locator): Promise<string[]> {
  return table.evaluate((t) => {
    const row = (t as HTMLTableElement).tHead?.rows[0] ?? (t as HTMLTableElement).rows[0]
    return row === undefined ? [] : [...row.cells].map((c) => (c.textContent ?? '').trim())
  })
}

/** The table's own body rows (with or without a tbody), not the rows of a table inside it. */
const ownBodyRows = (table: Locator): Locator => table.locator(':scope > tbody > tr, :scope > tr')

/**
 * The cell in the column headed `column` of the row whose row header is `row`
 * (a string), or whose row header holds a button named `row.button`.
 */
async function cellAt(table: Locator, row: string | { button: string }, column: string): Promise<Locator> {
  const headers = await headerTexts(table)
  const index = headers.indexOf(column)
  expect(index, `column ${column} among ${headers.join(', ')}`).toBeGreaterThan(0)
  const page = table.page()
  const rowHeader =
    typeof row === 'string'
      ? page.getByRole('rowheader', { name: row, exact: true })
      : page.getByRole('rowheader').filter({ has: page.getByRole('button', { name: row.button, exact: true }) })
  const found = ownBodyRows(table).filter({ has: rowHeader })
  await found.first().waitFor()
  expect(await found.count(), `rows headed ${JSON.stringify(row)}`).toBe(1)
  return found.locator(':scope > th, :scope > td').nth(index)
}

interface Cell {
  text: string
  title: string | null
  links: number
}

/** The body rows of a table (not of tables inside it): each row's cells. */
function tableCells(table: Locator): Promise<Cell[][]> {
  return table.evaluate((t) =>
    [...(t as HTMLTableElement).rows]
      .filter((tr) => !['THEAD', 'TFOOT'].includes(tr.parentElement?.tagName ?? ''))
      .map((tr) =>
        [...tr.cells].map((c) => ({
          text: (c.textContent ?? '').trim(),
          title: c.getAttribute('title') ?? c.querySelector('[title]')?.getAttribute('title') ?? null,
          links: c.querySelectorAll('a').length,
        })),
      ),
  )
}

/** The cells of one row, with each cell's title (the full value). */
function rowCells(row: Locator): Promise<Cell[]> {
  return row.evaluate((tr) =>
    [...(tr as HTMLTableRowElement).cells].map((c) => ({
      text: (c.textContent ?? '').trim(),
      title: c.getAttribute('title') ?? c.querySelector('[title]')?.getAttribute('title') ?? null,
      links: c.querySelectorAll('a').length,
    })),
  )
}

const COLUMN_OF_HEADER = new Map(LOG_COLUMNS.map((c) => [LOG_COLUMN_HEADERS[c], c]))

/**
 * The first `max` rows of a log-like table show their records, in whatever log
 * columns the table has: every cell's title the full value, short values as they
 * are, the date as the API gives it.
 */
async function expectCellsShowRecords(table: Locator, max = 25): Promise<void> {
  const headers = await headerTexts(table)
  const rows = bodyRows(table)
  const n = Math.min(max, await rows.count())
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i)
    const rowKey = (await row.getAttribute('data-row-key'))!
    const record = byKey.get(rowKey)
    expect(record, `a row ${rowKey} the operator's log does not have`).toBeDefined()
    const cells = await rowCells(row)
    expect(cells, rowKey).toHaveLength(headers.length)
    headers.forEach((header, c) => {
      const column = COLUMN_OF_HEADER.get(header)
      if (column === undefined) return
      const value = record![column] ?? ''
      const cell = cells[c]!
      if (value === '') expect(cell.text, `${rowKey} ${column}`).toBe('')
      else expect(cell.title, `${rowKey} ${column} (title)`).toBe(value)
      // Dates show as YYYY-MM-DD HH:mm in the tenant's zone: here the system's, as no zone is configured.
      if (column === 'date')
        expect(cell.text, `${rowKey} date`).toBe(new Date(value).toLocaleString('sv-SE', { hour12: false }).slice(0, 16))
      else if (value.length <= 30) expect(cell.text, `${rowKey} ${column}`).toBe(value)
    })
  }
}

// ---------------------------------------------------------------- the log view

interface LogStatus {
  shown: number
  total: number
}
const STATUS = /Showing ([\d,]+) of ([\d,]+) matching rows?/

async function logStatus(page: Page): Promise<LogStatus | null> {
  const text = (await page.locator('#log-status').textContent()) ?? ''
  const match = STATUS.exec(text)
  return match === null ? null : { shown: toNumber(match[1]!), total: toNumber(match[2]!) }
}

/** Waits until the status counts `rows.length` matching rows and the table shows the first of them. */
async function expectLogShows(page: Page, rows: readonly LogRecord[], label: string): Promise<void> {
  await expect
    .poll(async () => (await logStatus(page))?.total, { timeout: WAIT, message: `${label}: matching total in the status` })
    .toBe(rows.length)
  const first = keys(rows).slice(0, 100)
  await expect.poll(() => shownKeys(logTable(page)), { timeout: WAIT, message: `${label}: the first rows` }).toEqual(first)
  expect((await logStatus(page))?.shown, `${label}: rows shown in the status`).toBe(first.length)
}

/** Loads every row of a paged table (the "Load more rows" button, or scrolling) until it shows `total` rows. */
async function loadAllRows(page: Page, table: Locator, total: number): Promise<string[]> {
  const rows = bodyRows(table)
  for (let rounds = 0; rounds < 500; rounds++) {
    const n = await rows.count()
    if (n >= total) break
    const more = page.getByRole('button', { name: 'Load more rows' })
    if (await more.isVisible()) await more.click({ timeout: 2_000 }).catch(() => undefined)
    else await scrollToBottom(page, rows)
    await expect.poll(() => rows.count(), { timeout: WAIT, message: `more rows after ${n} of ${total}` }).toBeGreaterThan(n)
  }
  return shownKeys(table)
}

const searchField = (page: Page, column: LogColumn): Locator => page.getByLabel(`Search ${LOG_COLUMN_HEADERS[column]}`, { exact: true })

// ---------------------------------------------------------------- downloads

async function download(page: Page, link: Locator, name: string): Promise<{ path: string; suggested: string }> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), link.click()])
  const path = join(dir, name)
  await file.saveAs(path)
  expect(await file.failure()).toBeNull()
  return { path, suggested: file.suggestedFilename() }
}

type XlsxCell = string | { ms: number }

/** The first sheet of a workbook as openpyxl reads it: text cells as text, date cells as epoch milliseconds. */
async function readXlsx(path: string): Promise<{ sheets: number; rows: XlsxCell[][] }> {
  const script = [
    'import json, sys, datetime, openpyxl',
    'wb = openpyxl.load_workbook(sys.argv[1], read_only=True)',
    'epoch = datetime.datetime(1970, 1, 1)',
    'def cell(v):',
    '    if v is None: return ""',
    '    if isinstance(v, datetime.datetime): return {"ms": round((v - epoch).total_seconds() * 1000)}',
    '    return v if isinstance(v, str) else str(v)',
    'rows = [[cell(v) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]',
    'print(json.dumps({"sheets": len(wb.worksheets), "rows": rows}))',
  ].join('\n')
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, path], { maxBuffer: 256 * 1024 * 1024 })
  const book = JSON.parse(stdout) as { sheets: number; rows: XlsxCell[][] }
  // A row read back may stop at its last non-empty cell.
  return {
    sheets: book.sheets,
    rows: book.rows.map((r) => [...r, ...Array<XlsxCell>(Math.max(0, LOG_COLUMNS.length - r.length)).fill('')]),
  }
}

/** A log record as the Excel export writes it: every LOG_COLUMN, the date a date cell, text neutralized against formulas. */
const xlsxRow = (r: LogRecord): XlsxCell[] =>
  LOG_COLUMNS.map((c) => (c === 'date' ? { ms: Date.parse(r.date) } : neutralizeFormula(r[c] ?? '')))

/** Downloads "Export to Excel" and checks the workbook holds exactly `expected`, in order, under the export's header. */
async function expectExcelExport(page: Page, expected: readonly LogRecord[], name: string): Promise<XlsxCell[][]> {
  const link = page.getByRole('link', { name: 'Export to Excel', exact: true })
  expect(await link.getAttribute('download'), 'the link downloads').not.toBeNull()
  const { path, suggested } = await download(page, link, name)
  expect(suggested).toMatch(/\.xlsx$/)
  const book = await readXlsx(path)
  expect(book.sheets).toBe(1)
  expect(book.rows[0]).toEqual(LOG_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c]))
  const rows = book.rows.slice(1)
  expect(rows.length, 'rows in the workbook').toBe(expected.length)
  expect(rows).toEqual(expected.map(xlsxRow))
  return rows
}

// ---------------------------------------------------------------- the sync history

const syncRow = (page: Page, syncId: string): Locator => page.locator(`tr[data-sync-id=${JSON.stringify(syncId)}]`)

/** Opens the details of a sync on the sync history; the region it inserts. */
async function openDetails(page: Page, syncId: string): Promise<Locator> {
  await page.getByRole('heading', { level: 1, name: 'Sync history' }).waitFor()
  await syncRow(page, syncId).getByRole('button', { name: 'Show details' }).click()
  // Found by its state, not its name: whether the name stays is checked once, in the sync history's tests.
  const toggle = syncRow(page, syncId).locator('button[aria-expanded]')
  await expect.poll(() => toggle.getAttribute('aria-expanded'), { timeout: WAIT }).toBe('true')
  const region = page.getByRole('region', { name: `Details of sync ${syncId}` })
  await region.getByRole('table', { name: 'Summary by record type' }).waitFor()
  return region
}

const summaryOf = (syncId: string, who: Who = 'operator'): Promise<SyncSummary> =>
  apiJson<SyncSummary>(base, `/api/v1/syncs/${enc(syncId)}/summary?bySchool=true`, token[who])

/** The name the page gives a school of `bySchool`. */
const schoolLabel = (id: string, summary: SyncSummary): string => (id === DISTRICT_KEY ? DISTRICT_KEY : summary.bySchool![id]!.schoolName)

/** The drill view's status, once it has counted. */
async function drillStatus(page: Page): Promise<string> {
  const status = page.getByRole('status').filter({ hasText: 'counted' })
  await status.first().waitFor()
  await expect.poll(async () => (await status.first().textContent()) ?? '', { timeout: WAIT }).toMatch(/shown/)
  return (await status.first().textContent()) ?? ''
}

/** Whether `text` says "<n> <word>" (e.g. "1,234 counted"), with or without thousands separators, maybe with a word between. */
const saysNumber = (text: string, n: number, word: string): boolean =>
  new RegExp(`(^|[^\\d,])(${fmt(n)}|${n})\\s+(\\w+\\s+)?${word}`).test(text)

// ---------------------------------------------------------------- the data set

function pickNameFragment(rows: readonly LogRecord[]): string {
  const words = new Set(rows.flatMap((r) => r.studentName.split(/[^A-Za-z]+/)).filter((w) => /^[A-Z][a-z]{2}/.test(w)))
  const candidates: { fragment: string; n: number }[] = []
  for (const fragment of new Set([...words].map((w) => w.slice(0, 3).toLowerCase()))) {
    const matching = rows.filter((r) => containsCi(r.studentName, fragment))
    if (matching.length >= 5 && matching.length < 100 && new Set(matching.map((r) => r.action)).size >= 2)
      candidates.push({ fragment, n: matching.length })
  }
  candidates.sort((a, b) => Math.abs(a.n - 40) - Math.abs(b.n - 40) || a.fragment.localeCompare(b.fragment))
  if (candidates.length === 0) throw new Error('no student-name fragment matches several rows of district-a')
  return candidates[0]!.fragment
}

if (SKIP_NO_BROWSER) console.warn(`web-ui tests skipped: ${CHROMIUM_MISSING}`)

beforeEach((ctx) => {
  if (SKIP_NO_BROWSER) ctx.skip(CHROMIUM_MISSING)
})

beforeAll(async () => {
  if (SKIP_NO_BROWSER) return
  dir = await tempDir('web-ui')
  const { data } = await importDemoDataSet(dir)
  token.operator = await createToken(data, TOKEN_NAME.operator)
  token.districtA = await createToken(data, TOKEN_NAME.districtA, '--tenant', 'district-a')
  serve = await startServe(data)
  base = serve.base

  allRows = await walkPages(base, '/api/v1/log', token.operator)
  rowsA = allRows.filter((r) => r.tenant === 'district-a')
  byKey = new Map(allRows.map((r) => [key(r), r]))
  allSyncs = (await apiJson<{ syncs: SyncRun[] }>(base, '/api/v1/syncs', token.operator)).syncs
  syncsA = allSyncs.filter((s) => s.tenant === 'district-a')

  school = busiestCrossSchool(rowsA, 'district-a')
  schoolName = rowsA.find((r) => r.homeSchoolId === school)?.homeSchool ?? rowsA.find((r) => r.servingSchoolId === school)!.servingSchool
  // The school with the most rows that do not involve `school` at all.
  const others = new Map<string, number>()
  for (const r of rowsA)
    if (!inSchool(r, school) && r.homeSchoolId !== '') others.set(r.homeSchoolId, (others.get(r.homeSchoolId) ?? 0) + 1)
  otherSchool = [...others.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0]
  nameFragment = pickNameFragment(rowsA)
  // `synclog token` does not need the data directory's lock: the running server reads new tokens.
  token.school = await createToken(data, TOKEN_NAME.school, '--tenant', 'district-a', '--school', school)

  browser = await launchBrowser()
}, 240_000)

afterEach(async () => {
  const open = contexts
  contexts = []
  for (const context of open) await context.close().catch(() => undefined)
})

afterAll(async () => {
  await browser?.close()
  if (serve) {
    const code = await serve.stop()
    expect(code, `synclog serve exit code; stderr: ${serve.stderr()}`).toBe(0)
  }
  if (dir) await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('the data set the page is tested on', () => {
  it('has two syncs of district-a and one of district-b, rows of the last 30 days, and students served away from home', () => {
    expect(syncsA).toHaveLength(2)
    expect(allSyncs.filter((s) => s.tenant === 'district-b')).toHaveLength(1)
    expect(rowsA.length).toBeGreaterThan(100)
    const monthAgo = Date.now() - 30 * 86_400_000
    expect(allRows.filter((r) => Date.parse(r.date) < monthAgo)).toEqual([])
    expect(rowsA.some((r) => r.homeSchoolId === school && r.servingSchoolId !== school)).toBe(true)
    expect(rowsA.some((r) => r.servingSchoolId === school && r.homeSchoolId !== school)).toBe(true)
    expect(rowsA.some((r) => inSchool(r, otherSchool) && !inSchool(r, school))).toBe(true)
  })
})

describe('signing in', () => {
  it('refuses a wrong token, signs in with a right one into an HttpOnly cookie, and signs out', async () => {
    const page = await openPage()
    await page.goto(`${base}/`)
    const field = page.getByLabel('API token', { exact: true })
    await field.fill(`slk_${'A'.repeat(43)}`)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await expect
      .poll(async () => (await page.getByRole('alert').allTextContents()).join(' '), { timeout: WAIT })
      .toContain('unknown or revoked')
    expect.soft(await page.getByRole('button', { name: 'Sign out' }).count(), 'a "Sign out" button while signed out').toBe(0)

    await field.fill(token.districtA)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('banner').getByText(`Signed in as ${TOKEN_NAME.districtA}`).waitFor()
    await page.getByRole('heading', { level: 1, name: 'Sync history' }).waitFor()
    expect(['', '#/', '#/syncs'], page.url()).toContain(hashView(page.url()))

    const cookies = await page.context().cookies(base)
    expect(cookies.length, 'a session cookie').toBeGreaterThan(0)
    for (const cookie of cookies)
      expect({ name: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({
        name: cookie.name,
        httpOnly: true,
        sameSite: 'Strict',
      })
    const visibleToScripts = await page.evaluate(() => ({
      cookie: document.cookie,
      storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    }))
    expect(visibleToScripts.cookie, 'the session is not readable by scripts').toBe('')
    expect(visibleToScripts.storage, 'the token is not kept in web storage').not.toContain(token.districtA)

    await page.reload()
    await page.getByRole('banner').getByText(`Signed in as ${TOKEN_NAME.districtA}`).waitFor()

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API token', { exact: true }).waitFor()
    expect
      .soft(
        await page.getByText(`Signed in as ${TOKEN_NAME.districtA}`).filter({ visible: true }).count(),
        '"Signed in as" once signed out',
      )
      .toBe(0)
    await page.reload()
    await page.getByLabel('API token', { exact: true }).waitFor()
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
  })
})

describe('the sync history', () => {
  it('lists every sync newest first with its records and errors, and links each to its error report', async () => {
    const page = await pageAt('operator', '#/syncs')
    await page.getByRole('heading', { level: 1, name: 'Sync history' }).waitFor()
    const table = page.getByRole('table', { name: 'Syncs' })
    await expect.poll(() => table.locator('tr[data-sync-id]').count(), { timeout: WAIT }).toBe(allSyncs.length)
    expect(await headerTexts(table)).toEqual(['Started', 'Completed', 'Status', 'District', 'App', 'Records', 'Errors', 'Details'])
    const ids = await table.locator('tr[data-sync-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sync-id')))
    expect(ids).toEqual(allSyncs.map((s) => s.syncId))
    const app = page.getByLabel('App', { exact: true })
    expect((await app.locator('option').allTextContents()).map((t) => t.trim())[0]).toBe('All apps')
    await page.getByLabel('From', { exact: true }).waitFor()
    await page.getByLabel('To', { exact: true }).waitFor()
    const headers = await headerTexts(table)
    for (const sync of allSyncs) {
      const cells = await rowCells(syncRow(page, sync.syncId))
      expect(cells[headers.indexOf('District')]!.text).toBe(sync.tenant)
      expect(cells[headers.indexOf('Status')]!.text).toBe(sync.status)
      expect(toNumber(cells[headers.indexOf('Records')]!.text)).toBe(sync.total)
      expect(toNumber(cells[headers.indexOf('Errors')]!.text)).toBe(sync.errors)
      const report = syncRow(page, sync.syncId).getByRole('link', { name: 'Error report (CSV)' })
      expect(decodeURIComponent(new URL((await report.getAttribute('href'))!, base).pathname)).toBe(
        `/api/v1/syncs/${sync.syncId}/report.csv`,
      )
    }
  })

  it('opens and closes a sync\'s details with a "Show details" button whose aria-expanded tells its state', async () => {
    const syncId = syncsA[0]!.syncId
    const page = await pageAt('operator', '#/syncs')
    const button = syncRow(page, syncId).getByRole('button', { name: 'Show details' })
    expect(await button.getAttribute('aria-expanded')).toBe('false')
    const region = page.getByRole('region', { name: `Details of sync ${syncId}` })
    expect(await region.count()).toBe(0)
    await button.click()
    await region.getByRole('table', { name: 'Summary by record type' }).waitFor()
    const toggle = syncRow(page, syncId).locator('button[aria-expanded]')
    await expect.poll(() => toggle.getAttribute('aria-expanded'), { timeout: WAIT }).toBe('true')
    // The name stays; aria-expanded alone tells the state (WAI-ARIA disclosure pattern).
    expect.soft((await toggle.textContent())?.trim(), 'the name of the expanded toggle').toBe('Show details')
    await toggle.click()
    await expect.poll(() => toggle.getAttribute('aria-expanded'), { timeout: WAIT }).toBe('false')
    await expect.poll(() => region.count(), { timeout: WAIT, message: 'the details region is gone' }).toBe(0)
  })

  it("downloads a sync's error report (CSV) with the same rows the API's report.csv has", async () => {
    const sync = syncsA[0]!
    const page = await pageAt('districtA', '#/syncs')
    await syncRow(page, sync.syncId).waitFor()
    const { path, suggested } = await download(
      page,
      syncRow(page, sync.syncId).getByRole('link', { name: 'Error report (CSV)' }),
      'report.csv',
    )
    expect(suggested).toMatch(/\.csv$/)
    const fromPage = await readFile(path)
    const fromApi = Buffer.from(await (await apiGet(base, `/api/v1/syncs/${enc(sync.syncId)}/report.csv`, token.districtA)).arrayBuffer())
    const pageRecords = parse(fromPage, { bom: true }) as string[][]
    const apiRecords = parse(fromApi, { bom: true }) as string[][]
    const errors = rowsA.filter((r) => r.syncId === sync.syncId && ['Skipped', 'Invalid', 'Excluded', 'Merged'].includes(r.outcome))
    expect(errors.length).toBeGreaterThan(0)
    expect(pageRecords.length - 1, 'data rows of the downloaded report').toBe(apiRecords.length - 1)
    expect(pageRecords).toEqual(apiRecords)
    expect(apiRecords.length - 1).toBe(errors.length)
  })
})

describe('drill-down from a count to the records behind it', () => {
  it("shows a summary whose every non-zero count links to its records, and the Deleted enrollments of district-a's second night", async () => {
    const sync = syncsA[0]!
    const summary = await summaryOf(sync.syncId)
    const page = await pageAt('operator', '#/syncs')
    const region = await openDetails(page, sync.syncId)
    const table = region.getByRole('table', { name: 'Summary by record type' })
    expect(await headerTexts(table)).toEqual(['Record type', ...SUMMARY_COLUMNS.map(([h]) => h)])
    const shown = await tableCells(table)
    expect(shown.map((cells) => cells[0]!.text).sort()).toEqual(Object.keys(summary.counts).sort())
    for (const cells of shown) {
      const counts = summary.counts[cells[0]!.text]!
      SUMMARY_COLUMNS.forEach(([header, counter], i) => {
        const cell = cells[i + 1]!
        const label = `${cells[0]!.text} ${header}`
        if (counts[counter] === 0) expect({ text: cell.text, links: cell.links }, label).toEqual({ text: '0', links: 0 })
        else expect({ value: toNumber(cell.text), links: cell.links }, label).toEqual({ value: counts[counter], links: 1 })
      })
    }

    const expected = rowsA.filter((r) => r.syncId === sync.syncId && r.entity === 'enrollment' && r.outcome === 'Deleted')
    const count = summary.counts.enrollment!.deleted
    expect(count).toBe(new Set(expected.map((r) => r.sourcedId)).size)
    expect(count).toBeGreaterThan(0)
    const link = (await cellAt(table, 'enrollment', 'Deleted')).getByRole('link')
    expect(toNumber((await link.textContent()) ?? '')).toBe(count)
    await link.click()

    await page.getByRole('heading', { level: 1, name: 'Deleted enrollment records' }).waitFor()
    expect(hashView(page.url())).toBe('#/drill')
    const params = hashParams(page.url())
    expect({
      sync: params.get('sync'),
      entity: params.get('entity'),
      outcome: params.get('outcome'),
      school: params.get('school'),
    }).toEqual({ sync: sync.syncId, entity: 'enrollment', outcome: 'Deleted', school: null })
    const status = await drillStatus(page)
    expect(saysNumber(status, count, 'counted'), status).toBe(true)
    const drilled = await loadAllRows(page, drillTable(page), expected.length)
    expect(saysNumber(await drillStatus(page), drilled.length, 'shown'), await drillStatus(page)).toBe(true)
    const api = await walkPages(base, `/api/v1/syncs/${enc(sync.syncId)}/drilldown?entity=enrollment&outcome=Deleted`, token.operator)
    expect(drilled).toEqual(keys(api))
    expect([...drilled].sort()).toEqual(keys(expected).sort())
    for (const k of drilled)
      expect({ k, outcome: byKey.get(k)?.outcome, entity: byKey.get(k)?.entity }).toEqual({ k, outcome: 'Deleted', entity: 'enrollment' })
    await expectCellsShowRecords(drillTable(page))
    expect(await headerTexts(drillTable(page)), 'the drill-down shows outcome and message first').toEqual(DRILL_HEADERS)
  })

  it("shows each school's statistics, and a school's enrollment total drills to that school's records", async () => {
    const sync = syncsA[0]!
    const summary = await summaryOf(sync.syncId)
    const schoolIds = Object.keys(summary.bySchool!)
    const page = await pageAt('operator', '#/syncs')
    const region = await openDetails(page, sync.syncId)
    const stats = region.getByRole('table', { name: 'Statistics by school' })
    await stats.waitFor()
    const headers = await headerTexts(stats)
    expect(headers[0]).toBe('School')
    const entities = [...new Set(Object.values(summary.bySchool!).flatMap((s) => Object.keys(s.counts)))]
    expect([...headers.slice(1)].sort()).toEqual([...entities].sort())
    const buttons = await stats.locator('th button').allTextContents()
    expect(buttons.map((b) => b.trim()).sort()).toEqual(schoolIds.map((id) => schoolLabel(id, summary)).sort())

    // The school with the most enrollments counted this night.
    const id = schoolIds
      .filter((s) => s !== DISTRICT_KEY)
      .sort((a, b) => (summary.bySchool![b]!.counts.enrollment?.total ?? 0) - (summary.bySchool![a]!.counts.enrollment?.total ?? 0))[0]!
    const name = schoolLabel(id, summary)
    const total = summary.bySchool![id]!.counts.enrollment!.total
    expect(total).toBeGreaterThan(0)
    const statsCell = await cellAt(stats, { button: name }, 'enrollment')
    expect(toNumber((await statsCell.getByRole('link').textContent()) ?? '')).toBe(total)

    const button = stats.getByRole('button', { name, exact: true })
    expect(await button.getAttribute('aria-expanded')).toBe('false')
    await button.click()
    await expect.poll(() => button.getAttribute('aria-expanded'), { timeout: WAIT }).toBe('true')
    const bySchool = region.getByRole('table', { name: `${name} by record type` })
    await bySchool.waitFor()
    expect(await headerTexts(bySchool)).toEqual(['Record type', ...SUMMARY_COLUMNS.map(([h]) => h)])
    for (const cells of await tableCells(bySchool)) {
      const counts = summary.bySchool![id]!.counts[cells[0]!.text]!
      expect(counts, cells[0]!.text).toBeDefined()
      SUMMARY_COLUMNS.forEach(([header, counter], i) =>
        expect(toNumber(cells[i + 1]!.text), `${name} ${cells[0]!.text} ${header}`).toBe(counts[counter]),
      )
    }
    const link = (await cellAt(bySchool, 'enrollment', 'Total')).getByRole('link')
    expect(toNumber((await link.textContent()) ?? '')).toBe(total)
    await link.click()

    await expect.poll(() => hashView(page.url()), { timeout: WAIT }).toBe('#/drill')
    const params = hashParams(page.url())
    expect({
      sync: params.get('sync'),
      entity: params.get('entity'),
      outcome: params.get('outcome'),
      school: params.get('school'),
    }).toEqual({ sync: sync.syncId, entity: 'enrollment', outcome: null, school: id })
    await page.getByRole('heading', { level: 1, name: /enrollment/ }).waitFor()
    const status = await drillStatus(page)
    expect(saysNumber(status, total, 'counted'), status).toBe(true)
    const expected = rowsA.filter((r) => r.syncId === sync.syncId && r.entity === 'enrollment' && r.recordSchoolId === id)
    const drilled = await loadAllRows(page, drillTable(page), expected.length)
    expect([...drilled].sort()).toEqual(keys(expected).sort())
    for (const k of drilled) expect({ k, school: byKey.get(k)?.recordSchoolId }).toEqual({ k, school: id })
    expect(saysNumber(await drillStatus(page), drilled.length, 'shown')).toBe(true)
  })

  it('explains why a No Change count has no rows', async () => {
    const sync = syncsA[0]!
    const summary = await summaryOf(sync.syncId)
    const entity = Object.keys(summary.counts).sort((a, b) => summary.counts[b]!.noChange - summary.counts[a]!.noChange)[0]!
    const count = summary.counts[entity]!.noChange
    expect(count).toBeGreaterThan(0)
    const page = await pageAt('operator', '#/syncs')
    const region = await openDetails(page, sync.syncId)
    const link = (await cellAt(region.getByRole('table', { name: 'Summary by record type' }), entity, 'No Change')).getByRole('link')
    expect(toNumber((await link.textContent()) ?? '')).toBe(count)
    await link.click()
    await expect.poll(() => hashParams(page.url()).get('outcome'), { timeout: WAIT }).toBe('No Change')
    const status = await drillStatus(page)
    expect(saysNumber(status, count, 'counted'), status).toBe(true)
    expect(saysNumber(status, 0, 'shown'), status).toBe(true)
    await expect
      .poll(async () => (await page.locator('p.note').allTextContents()).join(' '), { timeout: WAIT })
      .toContain('counted but not logged')
    expect(await bodyRows(drillTable(page)).count()).toBe(0)
  })
})

describe('the sync log', () => {
  it('narrows the rows as the user types in a column search, combines searches, and keeps them in the URL', async () => {
    const page = await pageAt('districtA', '#/log')
    await page.getByRole('heading', { level: 1, name: 'Sync log' }).waitFor()
    const table = logTable(page)
    await table.waitFor()
    expect(await headerTexts(table)).toEqual(TABLE_HEADERS)
    expect(await page.getByRole('status').and(page.locator('#log-status')).count(), '#log-status has role status').toBe(1)
    await expectLogShows(page, rowsA, 'no search')
    for (const column of TABLE_COLUMNS) expect(await searchField(page, column).count(), `Search ${LOG_COLUMN_HEADERS[column]}`).toBe(1)

    const clearName = page.getByRole('button', { name: 'Clear Student Name search' })
    expect.soft(await clearName.isVisible(), '"Clear Student Name search" while the field is empty').toBe(false)

    const byName = rowsA.filter((r) => containsCi(r.studentName, nameFragment))
    await searchField(page, 'studentName').pressSequentially(nameFragment, { delay: 60 })
    await expectLogShows(page, byName, `Student Name contains ${nameFragment}`)
    const nameColumn = TABLE_COLUMNS.indexOf('studentName')
    for (const cells of await tableCells(table))
      expect(containsCi(cells[nameColumn]!.text, nameFragment), cells[nameColumn]!.text).toBe(true)
    await expectCellsShowRecords(table, 100)
    await expect.poll(() => hashParams(page.url()).get('contains.studentName'), { timeout: WAIT }).toBe(nameFragment)
    expect(hashView(page.url())).toBe('#/log')
    await clearName.waitFor()

    // An action some, not all, of those rows have, typed in lower case.
    const actionCounts = new Map<string, number>()
    for (const r of byName) actionCounts.set(r.action, (actionCounts.get(r.action) ?? 0) + 1)
    const action = [...actionCounts.entries()]
      .filter(([, n]) => n < byName.length)
      .sort((a, b) => b[1] - a[1])[0]![0]
      .toLowerCase()
    const both = byName.filter((r) => containsCi(r.action, action))
    expect(both.length).toBeGreaterThan(0)
    expect(both.length).toBeLessThan(byName.length)
    await searchField(page, 'action').pressSequentially(action, { delay: 30 })
    await expectLogShows(page, both, `and Action contains ${action}`)
    await expect.poll(() => hashParams(page.url()).get('contains.action'), { timeout: WAIT }).toBe(action)
    expect(hashParams(page.url()).get('contains.studentName')).toBe(nameFragment)

    await page.reload()
    await logTable(page).waitFor()
    await expectLogShows(page, both, 'after a reload')
    expect(await searchField(page, 'studentName').inputValue()).toBe(nameFragment)
    expect(await searchField(page, 'action').inputValue()).toBe(action)

    await clearName.click()
    await expectLogShows(
      page,
      rowsA.filter((r) => containsCi(r.action, action)),
      'Student Name search cleared',
    )
    expect(await searchField(page, 'studentName').inputValue()).toBe('')
    await expect.poll(() => hashParams(page.url()).has('contains.studentName'), { timeout: WAIT }).toBe(false)
    const clearHides = await clearName.waitFor({ state: 'hidden', timeout: WAIT }).then(
      () => true,
      () => false,
    )
    expect.soft(clearHides, '"Clear Student Name search" hides once the field is empty again').toBe(true)
  })

  it('loads more rows when scrolled to the bottom, newest first without duplicates, until it shows all of them', async () => {
    const page = await pageAt('districtA', '#/log')
    const table = logTable(page)
    await expectLogShows(page, rowsA, 'first page')
    expect(await bodyRows(table).count()).toBe(100)
    await page.getByRole('button', { name: 'Load more rows' }).waitFor()

    await scrollToBottom(page, bodyRows(table))
    await expect.poll(() => bodyRows(table).count(), { timeout: WAIT, message: 'rows after scrolling to the bottom' }).toBeGreaterThan(100)
    expect((await shownKeys(table)).slice(0, 100)).toEqual(keys(rowsA).slice(0, 100))

    const shown = await loadAllRows(page, table, rowsA.length)
    expect(new Set(shown).size, 'distinct rows').toBe(shown.length)
    expect(shown).toEqual(keys(rowsA))
    const dateColumn = TABLE_COLUMNS.indexOf('date')
    const dates = (await tableCells(table)).map((cells) => cells[dateColumn]!.text)
    expect(dates).toEqual([...dates].sort().reverse())
    await expect.poll(async () => await logStatus(page), { timeout: WAIT }).toEqual({ shown: rowsA.length, total: rowsA.length })
    await expect
      .poll(() => page.getByRole('button', { name: 'Load more rows' }).isVisible(), {
        timeout: WAIT,
        message: '"Load more rows" once every row is shown',
      })
      .toBe(false)
  })

  it('offers the operator every district, and choosing one narrows the log to it', async () => {
    const page = await pageAt('operator', '#/log')
    await expectLogShows(page, allRows, 'every district')
    const scope = page.getByRole('group', { name: 'Scope' })
    const district = scope.getByLabel('District', { exact: true })
    expect(await district.isDisabled()).toBe(false)
    const options = await district
      .locator('option')
      .evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, text: (o.textContent ?? '').trim() })))
    expect(options[0]!.text).toBe('All districts')
    expect(options.slice(1).map((o) => o.value)).toEqual(['district-a', 'district-b'])
    const side = scope.getByLabel('Match school on', { exact: true })
    expect(
      await side.locator('option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, (o.textContent ?? '').trim()])),
    ).toEqual([
      ['either', 'Home or serving school'],
      ['home', 'Home school'],
      ['serving', 'Serving school'],
    ])
    await district.selectOption('district-b')
    await expectLogShows(
      page,
      allRows.filter((r) => r.tenant === 'district-b'),
      'district-b',
    )
  })

  it.skipIf(!HAS_OPENPYXL)(`exports exactly the searched rows to a valid Excel file${NO_OPENPYXL}`, async () => {
    const page = await pageAt('districtA', `#/log?contains.studentName=${enc(nameFragment)}`)
    const expected = rowsA.filter((r) => containsCi(r.studentName, nameFragment))
    await expectLogShows(page, expected, 'opened with a search in the URL')
    expect(await searchField(page, 'studentName').inputValue()).toBe(nameFragment)
    const href = new URL((await page.getByRole('link', { name: 'Export to Excel', exact: true }).getAttribute('href'))!, base)
    expect(href.pathname).toBe('/api/v1/log.xlsx')
    expect(href.searchParams.get('contains.studentName')).toBe(nameFragment)
    await expectExcelExport(page, expected, 'searched.xlsx')
  })

  it('shows every field of a row in a dialog that opens and closes from the keyboard', async () => {
    const page = await pageAt('districtA', '#/log')
    await expectLogShows(page, rowsA, 'no search')
    // The first row with a message long enough to be cut short in the table.
    const index = rowsA.slice(0, 100).findIndex((r) => r.message.length > 20)
    const record = rowsA[Math.max(0, index)]!
    const row = logTable(page).locator(`tr[data-row-key=${JSON.stringify(key(record))}]`)
    const button = row.getByRole('button', { name: 'Full row' })
    await button.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Row details' })
    await dialog.waitFor()
    await expect
      .poll(() => dialog.evaluate((d) => d.contains(document.activeElement)), { timeout: WAIT, message: 'focus inside the dialog' })
      .toBe(true)
    const fields = new Map(
      await dialog
        .locator('dt')
        .evaluateAll((dts) =>
          dts.map((dt) => [(dt.textContent ?? '').trim(), (dt.nextElementSibling?.textContent ?? '').trim()] as [string, string]),
        ),
    )
    // An empty value may be shown as a visible "(blank)" marker.
    const shownAs = (column: LogColumn): string | undefined => {
      const value = fields.get(LOG_COLUMN_HEADERS[column])
      return record[column] === '' && value === '(blank)' ? '' : value
    }
    for (const column of TABLE_COLUMNS) expect(shownAs(column), LOG_COLUMN_HEADERS[column]).toBe(record[column])
    for (const column of LOG_COLUMNS)
      if (fields.has(LOG_COLUMN_HEADERS[column])) expect(shownAs(column), LOG_COLUMN_HEADERS[column]).toBe(record[column])
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await expect.poll(() => isFocused(button), { timeout: WAIT, message: 'focus back on the Full row button' }).toBe(true)

    await button.click()
    await dialog.waitFor()
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'hidden' })
  })
})

describe('a token scoped to one school', () => {
  const schoolRows = (): LogRecord[] => rowsA.filter((r) => inSchool(r, school))

  it("shows only its school's rows, with the scope fixed, whatever the URL asks for", async () => {
    const page = await pageAt('school', '#/log')
    const expected = schoolRows()
    await expectLogShows(page, expected, 'the school token')
    const scope = page.getByRole('group', { name: 'Scope' })
    const district = scope.getByLabel('District', { exact: true })
    expect(await district.isDisabled()).toBe(true)
    expect(await district.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['district-a'])
    const schoolField = scope.getByLabel('School', { exact: true })
    expect(await schoolField.isDisabled()).toBe(true)
    expect(await schoolField.inputValue()).toBe(school)

    const shown = await loadAllRows(page, logTable(page), expected.length)
    expect(shown).toEqual(keys(expected))
    for (const k of shown) expect(inSchool(byKey.get(k)!, school), k).toBe(true)

    const allowed = new Set(keys(expected))
    await page.goto(`${base}/#/log?school=${enc(otherSchool)}`)
    await expect
      .poll(async () => (await logStatus(page)) !== null || (await page.getByRole('alert').count()) > 0, { timeout: WAIT })
      .toBe(true)
    await page.waitForTimeout(1_000)
    const afterOther = await shownKeys(logTable(page))
    expect(
      afterOther.filter((k) => !allowed.has(k)),
      `rows of ${otherSchool} only`,
    ).toEqual([])
    const status = await logStatus(page)
    if (status !== null) expect(status.total).toBeLessThanOrEqual(expected.length)
  })

  it.skipIf(!HAS_OPENPYXL)(`exports only its school's rows to Excel${NO_OPENPYXL}`, async () => {
    const page = await pageAt('school', '#/log')
    const expected = schoolRows()
    await expectLogShows(page, expected, 'the school token')
    const rows = await expectExcelExport(page, expected, 'school.xlsx')
    const home = LOG_COLUMNS.indexOf('homeSchoolId')
    const serving = LOG_COLUMNS.indexOf('servingSchoolId')
    for (const r of rows) expect(r[home] === school || r[serving] === school, JSON.stringify(r)).toBe(true)
  })

  it('sees only its own school in the sync summaries and their drill-downs', async () => {
    const page = await pageAt('school', '#/syncs')
    const table = page.getByRole('table', { name: 'Syncs' })
    await expect
      .poll(() => table.locator('tr[data-sync-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sync-id'))), {
        timeout: WAIT,
      })
      .toEqual(syncsA.map((s) => s.syncId))
    const sync = syncsA[0]!
    const region = await openDetails(page, sync.syncId)
    const stats = region.getByRole('table', { name: 'Statistics by school' })
    await stats.waitFor()
    expect((await stats.locator('th button').allTextContents()).map((t) => t.trim())).toEqual([schoolName])

    const summary = await summaryOf(sync.syncId, 'school')
    expect(Object.keys(summary.bySchool ?? {})).toEqual([school])
    const total = summary.counts.enrollment!.total
    const link = (await cellAt(region.getByRole('table', { name: 'Summary by record type' }), 'enrollment', 'Total')).getByRole('link')
    expect(toNumber((await link.textContent()) ?? '')).toBe(total)
    await link.click()
    const status = await drillStatus(page)
    expect(saysNumber(status, total, 'counted'), status).toBe(true)
    const allowed = new Set(keys(schoolRows()))
    const api = await walkPages(base, `/api/v1/syncs/${enc(sync.syncId)}/drilldown?entity=enrollment`, token.school)
    expect(api.length).toBeGreaterThan(0)
    const drilled = await loadAllRows(page, drillTable(page), api.length)
    expect(drilled).toEqual(keys(api))
    expect(
      drilled.filter((k) => !allowed.has(k)),
      'rows outside the school',
    ).toEqual([])
  })
})

describe('keyboard and accessibility', () => {
  it('has no axe-core violations on the sign-in form, the sync history with details, a drill-down, the log and the row dialog', async () => {
    const page = await openPage({ bypassCSP: true })
    const check = async (what: string): Promise<void> => {
      const violations = await axeViolations(page)
      expect(violations, `${what}:\n${describeViolations(violations)}`).toEqual([])
    }
    await page.goto(`${base}/`)
    await page.getByLabel('API token', { exact: true }).waitFor()
    await check('the sign-in form')

    await signInAs(page, 'operator')
    const region = await openDetails(page, syncsA[0]!.syncId)
    const stats = region.getByRole('table', { name: 'Statistics by school' })
    await stats.locator('th button').first().click()
    await check('the sync history with details open')

    await (await cellAt(region.getByRole('table', { name: 'Summary by record type' }), 'enrollment', 'Deleted')).getByRole('link').click()
    await drillStatus(page)
    await bodyRows(drillTable(page)).first().waitFor()
    await check('the drill-down')

    await page.getByRole('link', { name: 'Sync log', exact: true }).click()
    await expectLogShows(page, allRows, 'the log')
    await check('the log')

    await bodyRows(logTable(page)).first().getByRole('button', { name: 'Full row' }).click()
    await page.getByRole('dialog', { name: 'Row details' }).waitFor()
    await check('the row dialog')
  })

  it('reaches the search fields with Tab, in column order, and filters as the user types', async () => {
    const page = await pageAt('districtA', '#/log')
    await expectLogShows(page, rowsA, 'no search')
    await page.reload()
    await expectLogShows(page, rowsA, 'after a reload')
    const labelOfFocus = (): Promise<string> =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLInputElement | null
        if (el === null) return ''
        const labelledBy = el.getAttribute('aria-labelledby')
        const byIds =
          labelledBy === null
            ? ''
            : labelledBy
                .split(/\s+/)
                .map((id) => document.getElementById(id)?.textContent ?? '')
                .join(' ')
        return (el.getAttribute('aria-label') ?? (byIds || (el.labels?.[0]?.textContent ?? ''))).trim()
      })
    const first = searchField(page, 'date')
    let presses = 0
    while (!(await isFocused(first))) {
      expect(presses++, 'Tab presses to reach "Search Date"').toBeLessThan(80)
      await page.keyboard.press('Tab')
    }
    const visited = ['Search Date']
    const target = searchField(page, 'studentName')
    while (!(await isFocused(target))) {
      expect(visited.length, `fields after Search Date: ${visited.join(', ')}`).toBeLessThan(12)
      await page.keyboard.press('Tab')
      visited.push(await labelOfFocus())
    }
    expect(visited.filter((l) => l.startsWith('Search '))).toEqual([
      'Search Date',
      'Search Action',
      'Search Student Number',
      'Search Student Name',
    ])
    await page.keyboard.type(nameFragment, { delay: 60 })
    await expectLogShows(
      page,
      rowsA.filter((r) => containsCi(r.studentName, nameFragment)),
      'typed after tabbing',
    )
  })
})

describe('the page as a whole', () => {
  it('never sends a request anywhere but its own server', () => {
    expect(requests.length).toBeGreaterThan(10)
    const origin = new URL(base).origin
    const elsewhere = requests.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin)
    expect(elsewhere).toEqual([])
  })

  it('raised no uncaught script error in any test', () => {
    expect(pageErrors).toEqual([])
  })
})
