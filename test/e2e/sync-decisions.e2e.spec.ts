/**
 * Releasing a held sync without a shell: token roles (`synclog token create --role`),
 * `POST /api/v1/syncs/{syncId}/approve|reject` on a running `synclog serve`, and the
 * page's Approve and Reject buttons, in Debian's Chromium. Each of three districts has a
 * night that goes On Hold (the second night without a third of its student enrollments,
 * imported over the first).
 */
import { rm } from 'node:fs/promises'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SyncRun } from '../../src/clickhouse/types.js'
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
  type RunningServe,
} from '../support/browser.js'
import { synclog, tempDir } from '../support/cli.js'
import { holdOne, importNight, writeHeldNights, type HeldNights } from '../support/held-syncs.js'

const WAIT = 30_000
if (SKIP_NO_BROWSER) console.warn(`the browser test of sync decisions is skipped: ${CHROMIUM_MISSING}`)

let dir = ''
let data = ''
let nights: HeldNights
let serve: RunningServe | undefined
let base = ''
/** The held sync of each district. */
const held: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' }
const token: Record<string, string> = {}

interface Answer {
  readonly status: number
  readonly body: { error?: { code: string; message: string } } & Partial<SyncRun>
}

/** POSTs a decision; by default as a script does it: a bearer token and a JSON body with a reason. */
async function decide(
  syncId: string,
  decision: 'approve' | 'reject',
  auth: Record<string, string>,
  body: { type?: string; text?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...auth }
  if (body.type !== '') headers['content-type'] = body.type ?? 'application/json'
  const init: RequestInit = { method: 'POST', headers }
  if (body.type !== '') init.body = body.text ?? JSON.stringify({ reason: 'checked with the registrar' })
  const res = await fetch(`${base}/api/v1/syncs/${encodeURIComponent(syncId)}/${decision}`, init)
  return { status: res.status, body: (await res.json()) as Answer['body'] }
}

const bearer = (name: string): Record<string, string> => ({ authorization: `Bearer ${token[name]}` })
const syncOf = async (syncId: string): Promise<SyncRun> =>
  apiJson<SyncRun>(base, `/api/v1/syncs/${encodeURIComponent(syncId)}`, token['operator']!)

beforeAll(async () => {
  dir = await tempDir('decisions')
  nights = await writeHeldNights(dir, 41)
  data = nights.data
  held.a = await holdOne(nights, 'district-a')
  held.b = await holdOne(nights, 'district-b')
  held.c = await holdOne(nights, 'district-c')
  token['operator'] = await createToken(data, 'operator')
  token['viewer-a'] = await createToken(data, 'viewer-a', '--tenant', 'district-a')
  token['reviewer-a'] = await createToken(data, 'reviewer-a', '--tenant', 'district-a', '--role', 'reviewer')
  token['reviewer-all'] = await createToken(data, 'reviewer-all', '--role', 'reviewer')
  token['school-reviewer'] = await createToken(
    data,
    'school-reviewer',
    '--tenant',
    'district-a',
    '--school',
    nights.night1.orgs.find((o) => o.type === 'school')!.sourcedId!,
    '--role',
    'reviewer',
  )
  serve = await startServe(data)
  base = serve.base
}, 300_000)

afterAll(async () => {
  if (serve !== undefined) {
    const code = await serve.stop()
    expect(code, `synclog serve exit code; stderr: ${serve.stderr()}`).toBe(0)
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('token roles on the command line', () => {
  it('creates a token with a role, says the role once, and lists it', async () => {
    const created = await synclog([
      'token',
      'create',
      '--name',
      'importer-a',
      '--tenant',
      'district-a',
      '--role',
      'importer',
      '--data',
      data,
    ])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stderr).toContain("Token 'importer-a' (tenant district-a, importer)")
    const table = await synclog(['token', 'list', '--data', data])
    expect(table.code).toBe(0)
    const header = table.stdout.split('\n')[0]!
    expect(header).toMatch(/Name\s+Scope\s+Role\s+Created/)
    expect(table.stdout.split('\n').find((l) => l.startsWith('reviewer-a '))).toMatch(/tenant district-a\s+reviewer\s/)
    expect(table.stdout.split('\n').find((l) => l.startsWith('operator '))).toMatch(/every tenant\s+operator\s/)
    const json = await synclog(['token', 'list', '--format', 'json', '--data', data])
    const roles = (JSON.parse(json.stdout) as { name: string; role: string }[]).map((t) => [t.name, t.role])
    expect(roles).toEqual(
      expect.arrayContaining([
        ['viewer-a', 'viewer'],
        ['reviewer-a', 'reviewer'],
        ['reviewer-all', 'reviewer'],
        ['importer-a', 'importer'],
        ['operator', 'operator'],
      ]),
    )
  })

  it('refuses a role it does not know as a usage error, naming the roles, and creates nothing', async () => {
    const run = await synclog(['token', 'create', '--name', 'boss', '--tenant', 'district-a', '--role', 'admin', '--data', data])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('--role must be one of viewer, reviewer, importer, operator')
    expect(run.stderr).not.toMatch(/\n\s+at /)
    const list = await synclog(['token', 'list', '--format', 'json', '--data', data])
    expect((JSON.parse(list.stdout) as { name: string }[]).map((t) => t.name)).not.toContain('boss')
  })

  it('reports the role and what it allows at GET /api/v1/me', async () => {
    expect(await apiJson(base, '/api/v1/me', token['reviewer-a']!)).toMatchObject({
      name: 'reviewer-a',
      role: 'reviewer',
      permissions: ['review'],
    })
    expect(await apiJson(base, '/api/v1/me', token['viewer-a']!)).toMatchObject({ role: 'viewer', permissions: [] })
    expect(await apiJson(base, '/api/v1/me', token['school-reviewer']!)).toMatchObject({ role: 'reviewer', permissions: [] })
  })
})

describe('deciding a held sync over HTTP', () => {
  it('refuses a viewer with 403 and a message that says which role may, leaving the sync On Hold', async () => {
    const answer = await decide(held.a, 'approve', bearer('viewer-a'))
    expect(answer.status).toBe(403)
    expect(answer.body.error?.code).toBe('FORBIDDEN')
    expect(answer.body.error?.message).toBe(
      "token 'viewer-a' is a viewer and may not approve or reject syncs; that needs a reviewer or operator token (synclog token create --role ...)",
    )
    expect((await syncOf(held.a)).status).toBe('On Hold')
  })

  it("refuses a school's reviewer with 403: a hold is about the district's changes", async () => {
    const answer = await decide(held.a, 'reject', bearer('school-reviewer'))
    expect(answer.status).toBe(403)
    expect(answer.body.error?.message).toContain('scoped to one school')
    expect((await syncOf(held.a)).status).toBe('On Hold')
  })

  it("answers 404 to a district's reviewer for another district's held sync, as for an unknown one", async () => {
    const other = await decide(held.b, 'approve', bearer('reviewer-a'))
    const unknown = await decide('no-such-sync', 'approve', bearer('reviewer-a'))
    expect(other.status).toBe(404)
    expect(other.body.error?.code).toBe('SYNC_NOT_FOUND')
    expect(unknown.status).toBe(404)
    expect(other.body.error?.message).toBe(unknown.body.error?.message.replace('no-such-sync', held.b))
    expect((await syncOf(held.b)).status).toBe('On Hold')
  })

  it('refuses a decision a cross-site form could send with the session cookie: no JSON body, no decision', async () => {
    const signIn = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: token['reviewer-a'] }),
    })
    expect(signIn.status).toBe(200)
    expect(await signIn.json()).toMatchObject({ role: 'reviewer', permissions: ['review'] })
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    const tries = [
      await decide(held.a, 'approve', { cookie }, { type: '' }),
      await decide(held.a, 'approve', { cookie }, { type: 'text/plain', text: '{}' }),
      await decide(held.a, 'approve', { cookie }, { type: 'application/x-www-form-urlencoded', text: 'x=1' }),
      await decide(held.a, 'approve', { cookie }, { type: 'multipart/form-data; boundary=b', text: '--b--\r\n' }),
    ]
    for (const answer of tries) {
      expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400)
      expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500)
    }
    const preflight = await fetch(`${base}/api/v1/syncs/${encodeURIComponent(held.a)}/approve`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:1', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(preflight.headers.get('access-control-allow-origin'), 'a CORS preflight is never granted').toBeNull()
    expect(tries[0]!.status).toBe(415)
    expect(tries[0]!.body.error?.message).toContain('Content-Type: application/json')
    expect((await syncOf(held.a)).status).toBe('On Hold')
  })

  it("lets a district's reviewer approve its held sync, answering the sync at its new status with the token's name", async () => {
    const answer = await decide(held.a, 'approve', bearer('reviewer-a'))
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body).toMatchObject({ syncId: held.a, tenant: 'district-a', message: 'approved by token reviewer-a' })
    expect(['Completed', 'Completed with Errors']).toContain(answer.body.status)
    expect(await syncOf(held.a)).toEqual(answer.body)
    const cli = await synclog(['syncs', '--format', 'json', '--data', data])
    expect(cli.code, cli.stderr).toBe(0)
    expect(cli.stdout).toContain('approved by token reviewer-a')
  })

  it('answers 409 NOT_ON_HOLD to a second decision on the same sync, naming its status', async () => {
    const again = await decide(held.a, 'approve', bearer('reviewer-a'))
    const reject = await decide(held.a, 'reject', bearer('reviewer-all'))
    const { status } = await syncOf(held.a)
    for (const answer of [again, reject]) {
      expect(answer.status).toBe(409)
      expect(answer.body.error).toEqual({
        code: 'NOT_ON_HOLD',
        message: `sync "${held.a}" is ${status}, not On Hold or Preview: only a sync awaiting review can be approved or rejected`,
      })
    }
    expect((await syncOf(held.a)).message).toBe('approved by token reviewer-a')
  })

  it('rejects a held sync once when two reviewers decide at the same time, and the next import compares against the state from before the hold', async () => {
    const both = await Promise.all([decide(held.b, 'reject', bearer('reviewer-all')), decide(held.b, 'reject', bearer('operator'))])
    expect(both.map((a) => a.status).sort()).toEqual([200, 409])
    const answer = both.find((a) => a.status === 200)!
    expect(answer.body).toMatchObject({ syncId: held.b, tenant: 'district-b', status: 'Rejected' })
    expect(['rejected by token reviewer-all', 'rejected by token operator']).toContain(answer.body.message)
    // The first night again, through the running service: nothing to add back, nothing deleted.
    const next = await importNight(nights, 'night1', 'district-b')
    expect(next.code).toBe(0)
    const counts = next.run['counts'] as Record<string, Record<string, number>>
    expect(counts['enrollment']).toMatchObject({ new: 0, updated: 0, deleted: 0 })
  })

  it('documents both routes in the OpenAPI document with their refusals', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    for (const decision of ['approve', 'reject']) {
      const op = doc.paths[`/api/v1/syncs/{syncId}/${decision}`]?.['post']
      expect(Object.keys(op?.responses ?? {}).sort(), decision).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '404', '409', '415']),
      )
    }
  })
})

describe('deciding a held sync on the page', () => {
  let browser: Browser | undefined
  let contexts: BrowserContext[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    if (SKIP_NO_BROWSER) return
    browser = await launchBrowser()
    token['viewer-c'] = await createToken(data, 'viewer-c', '--tenant', 'district-c')
    token['reviewer-c'] = await createToken(data, 'reviewer-c', '--tenant', 'district-c', '--role', 'reviewer')
  }, 60_000)

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined)
    contexts = []
    await browser?.close()
  })

  /** `bypassCSP`: for axe-core, whose script the page's CSP would refuse. */
  async function signedIn(name: string, opts: { bypassCSP?: boolean } = {}): Promise<Page> {
    const context = await browser!.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 }, ...opts })
    contexts.push(context)
    context.setDefaultTimeout(WAIT)
    const page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await signIn(page, base, token[name]!, name)
    await page.getByRole('heading', { level: 1, name: 'Sync history' }).waitFor()
    return page
  }

  const heldRow = (page: Page) => page.locator(`tr[data-sync-id="${held.c}"]`)

  it.skipIf(SKIP_NO_BROWSER)('shows a viewer the sync On Hold without Approve or Reject buttons', async () => {
    const page = await signedIn('viewer-c')
    await heldRow(page).getByText('On Hold', { exact: true }).waitFor()
    expect(await page.getByRole('button', { name: /^(Approve|Reject)/ }).count()).toBe(0)
  })

  it.skipIf(SKIP_NO_BROWSER)('lets a reviewer approve from the page after confirming, and announces the new status', async () => {
    const page = await signedIn('reviewer-c', { bypassCSP: true })
    const row = heldRow(page)
    await row.getByText('On Hold', { exact: true }).waitFor()
    await row.getByRole('button', { name: `Reject sync ${held.c}` }).waitFor()

    // Asking first; Cancel goes back without deciding.
    await row.getByRole('button', { name: `Approve sync ${held.c}` }).click()
    const confirm = row.getByRole('group', { name: `Confirm: approve sync ${held.c}` })
    await confirm.waitFor()
    expect(await confirm.textContent()).toContain(`Approve sync ${held.c}? Its changes are applied to district-c's roster.`)
    const reason = confirm.getByRole('textbox', { name: 'Reason (required)' })
    expect(await reason.evaluate((el) => el === document.activeElement), 'focus on the required reason').toBe(true)
    const violations = await axeViolations(page)
    expect(violations, describeViolations(violations)).toEqual([])
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Approve sync ${held.c}`)
    expect((await syncOf(held.c)).status).toBe('On Hold')

    await row.getByRole('button', { name: `Approve sync ${held.c}` }).click()
    await reason.fill('The enrollments moved to the new schedule.')
    await confirm.getByRole('button', { name: 'Yes, approve' }).click()
    const announced = page.locator('#decision-status')
    expect(await announced.getAttribute('role')).toBe('status')
    await expect
      .poll(async () => (await announced.textContent()) ?? '', { timeout: WAIT })
      .toMatch(new RegExp(`^Sync ${held.c} approved: it is now Completed`))
    await expect.poll(async () => (await row.locator('.status').first().textContent()) ?? '', { timeout: WAIT }).toMatch(/^Completed/)
    await row.getByText('approved by token reviewer-c').waitFor()
    expect(await row.getByRole('button', { name: /^(Approve|Reject)/ }).count()).toBe(0)
    expect((await syncOf(held.c)).message).toBe('approved by token reviewer-c')
    expect(pageErrors).toEqual([])
  })
})
