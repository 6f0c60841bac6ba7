/**
 * The HTTP API over a real data set: two nights of the demo district imported
 * through the CLI as tenant district-a, the first night again as district-b; the
 * server listens on an ephemeral port in this process (chDB runs in-process) and
 * every request goes over HTTP. Tokens are made with the real `synclog token` CLI.
 * Expected rows come from the generated files, or from the operator's whole log
 * filtered here in plain JS, never from the same SQL.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { existsSync } from 'node:fs'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { LOG_COLUMN_HEADERS, LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import type { LogRecord, SyncRun } from '../../src/clickhouse/types.js'
import { ApiTokens, TOKEN_FILE_NAME } from '../../src/http/api-tokens.js'
import type { ReadStore } from '../../src/http/read-store.js'
import {
  DrillDownSchema,
  ErrorSchema,
  LogCountSchema,
  LogPageSchema,
  MeSchema,
  RollupListSchema,
  SchoolListSchema,
  SyncListSchema,
  SyncRunSchema,
  SyncSummarySchema,
} from '../../src/http/schemas.js'
import { buildServer, type SynclogServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logging/logger.js'
import { silentLogger } from '../support/silent-logger.js'
import { openStore, type OpenStore } from '../../src/pipeline/open-store.js'
import { CLI, synclog, tempDir } from '../support/cli.js'
import { busiestCrossSchool, demoNights, importDemoDataSet } from '../support/demo-data-set.js'

/** Debian's python3-openpyxl lives in the system Python, which a pyenv shim may hide. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const HAS_OPENPYXL = spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0

const nights = demoNights()
const { night1 } = nights

let dir: string
let data: string
let opened: OpenStore
let server: SynclogServer
let base: string
const token = { operator: '', districtA: '', school: '', schoolHome: '', schoolServing: '' }
/** Every row of the log as the operator sees it: the reference the scoped and filtered answers are checked against. */
let allRows: LogRecord[]
let syncsA: SyncRun[]
let syncB: SyncRun
/** The school of district-a with the most students whose home and serving schools differ, and another one. */
let school: string
let otherSchool: string

interface Answer {
  status: number
  headers: Headers
  body: Buffer
  json: () => unknown
  text: () => string
}

async function get(path: string, bearer?: string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } })
  const body = Buffer.from(await res.arrayBuffer())
  return {
    status: res.status,
    headers: res.headers,
    body,
    json: () => JSON.parse(body.toString('utf8')) as unknown,
    text: () => body.toString('utf8'),
  }
}

async function getJson<T>(path: string, bearer: string | undefined, schema: { parse: (v: unknown) => T }): Promise<T> {
  const answer = await get(path, bearer)
  expect(answer.status, `${path}: ${answer.text().slice(0, 300)}`).toBe(200)
  return schema.parse(answer.json())
}

async function refused(path: string, bearer: string | undefined, status: number): Promise<{ code: string; message: string }> {
  const answer = await get(path, bearer)
  expect(answer.status, `${path}: ${answer.text().slice(0, 300)}`).toBe(status)
  const body = ErrorSchema.parse(answer.json())
  expect(Object.keys(body)).toEqual(['error'])
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message'])
  return body.error
}

/** Every row of a paged endpoint, following nextCursor. */
async function walk(path: string, bearer: string, limit: number): Promise<LogRecord[]> {
  const rows: LogRecord[] = []
  let cursor: string | null = null
  const sep = path.includes('?') ? '&' : '?'
  for (let pages = 0; ; pages++) {
    expect(pages).toBeLessThan(10_000)
    const page: { rows: LogRecord[]; nextCursor: string | null } = await getJson(
      `${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`,
      bearer,
      LogPageSchema,
    )
    expect(page.rows.length).toBeLessThanOrEqual(limit)
    rows.push(...page.rows)
    if (page.nextCursor === null) return rows
    cursor = page.nextCursor
  }
}

const key = (r: LogRecord): string => `${r.tenant}|${r.syncId}|${r.seq}`
const keys = (rows: readonly LogRecord[]): string[] => rows.map(key)
const sortedKeys = (rows: readonly LogRecord[]): string[] => keys(rows).sort()
const q = (params: Record<string, string | string[]>): string => {
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) sp.append(k, one)
  return sp.toString()
}

async function createToken(name: string, ...scope: string[]): Promise<string> {
  const run = await synclog(['token', 'create', '--name', name, ...scope, '--data', data])
  expect(run.stderr).not.toContain('Error')
  expect(run.code, run.stderr).toBe(0)
  const tokenText = run.stdout.trim()
  expect(tokenText).toMatch(/^slk_[A-Za-z0-9_-]{43}$/)
  return tokenText
}

function inSchool(r: LogRecord, id: string, side: 'home' | 'serving' | 'either'): boolean {
  if (side === 'home') return r.homeSchoolId === id
  if (side === 'serving') return r.servingSchoolId === id
  return r.homeSchoolId === id || r.servingSchoolId === id
}

beforeAll(async () => {
  dir = await tempDir('http')
  data = (await importDemoDataSet(dir, nights)).data
  token.operator = await createToken('operator')
  token.districtA = await createToken('district-a', '--tenant', 'district-a')

  opened = await openStore(loadConfig({ data }, {}), silentLogger(), 'http-api-e2e')
  server = await buildServer({ store: opened.store, tokens: ApiTokens.inDataDir(data), logger: silentLogger(), version: 'test' })
  base = await server.app.listen({ host: '127.0.0.1', port: 0 })

  allRows = await walk('/api/v1/log', token.operator, 10_000)
  const syncs = (await getJson('/api/v1/syncs', token.operator, SyncListSchema)).syncs
  syncsA = syncs.filter((s) => s.tenant === 'district-a')
  syncB = syncs.find((s) => s.tenant === 'district-b')!

  school = busiestCrossSchool(allRows, 'district-a')
  otherSchool = [...new Set(allRows.filter((r) => r.tenant === 'district-a').map((r) => r.homeSchoolId))].find(
    (s) => s !== '' && s !== school,
  )!
  token.school = await createToken('school-either', '--tenant', 'district-a', '--school', school)
  token.schoolHome = await createToken('school-home', '--tenant', 'district-a', '--school', school, '--side', 'home')
  token.schoolServing = await createToken('school-serving', '--tenant', 'district-a', '--school', school, '--side', 'serving')
}, 180_000)

afterAll(async () => {
  await server?.app.close()
  await opened?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the data set the tests run on', () => {
  it('has both tenants, both nights, and students served away from their home school', () => {
    expect(syncsA).toHaveLength(2)
    expect(syncB).toBeDefined()
    expect(new Set(allRows.map((r) => r.tenant))).toEqual(new Set(['district-a', 'district-b']))
    const crossRows = allRows.filter(
      (r) => r.tenant === 'district-a' && inSchool(r, school, 'either') && r.homeSchoolId !== r.servingSchoolId,
    )
    expect(crossRows.some((r) => r.homeSchoolId === school)).toBe(true)
    expect(crossRows.some((r) => r.servingSchoolId === school)).toBe(true)
  })
})

describe('tokens', () => {
  it('answers /healthz without a token', async () => {
    const answer = await get('/healthz')
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual({ status: 'ok' })
  })

  it('tells a token its own name and scope', async () => {
    const me = await getJson('/api/v1/me', token.schoolHome, MeSchema)
    expect(me).toMatchObject({ name: 'school-home', scope: { tenant: 'district-a', school: { id: school, side: 'home' } } })
    expect((await getJson('/api/v1/me', token.operator, MeSchema)).scope).toEqual({})
  })

  it('refuses a request without a token with 401 and a WWW-Authenticate header', async () => {
    const answer = await get('/api/v1/syncs')
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(ErrorSchema.parse(answer.json()).error.code).toBe('UNAUTHORIZED')
  })

  it('refuses a malformed or unknown token with 401', async () => {
    await refused('/api/v1/me', 'not-a-token', 401)
    await refused('/api/v1/me', `slk_${'A'.repeat(43)}`, 401)
    await refused('/api/v1/me', `${token.operator}x`, 401)
    const answer = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })
    expect(answer.status).toBe(401)
  })

  it('accepts a token created while the server runs, and refuses it as soon as it is revoked', async () => {
    const fresh = await createToken('short-lived', '--tenant', 'district-b')
    expect((await getJson('/api/v1/me', fresh, MeSchema)).name).toBe('short-lived')
    const revoke = await synclog(['token', 'revoke', 'short-lived', '--data', data])
    expect(revoke.code, revoke.stderr).toBe(0)
    await refused('/api/v1/me', fresh, 401)
  })

  it('keeps only hashes, in a file only its owner can read', async () => {
    const path = join(data, TOKEN_FILE_NAME)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const text = await readFile(path, 'utf8')
    for (const t of Object.values(token)) expect(text).not.toContain(t)
    expect(text).toContain('sha256:')
  })

  it('lists names and scopes but never a secret', async () => {
    const run = await synclog(['token', 'list', '--data', data])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('school-home')
    expect(run.stdout).toContain(`tenant district-a, school ${school} (home side)`)
    expect(run.stdout).not.toMatch(/slk_|sha256/)
  })

  it('refuses a school scope without its tenant, and warns that a token without a tenant sees every tenant', async () => {
    const noTenant = await synclog(['token', 'create', '--name', 'bad', '--school', school, '--data', data])
    expect(noTenant.code).toBe(1)
    expect(noTenant.stderr).toContain('--school needs --tenant')
    const operator = await synclog(['token', 'create', '--name', 'second-operator', '--data', data])
    expect(operator.code).toBe(0)
    expect(operator.stderr).toMatch(/warning: .*operator scope/)
    const duplicate = await synclog(['token', 'create', '--name', 'second-operator', '--tenant', 'district-a', '--data', data])
    expect(duplicate.code).toBe(1)
    expect(duplicate.stderr).toContain("a token named 'second-operator' exists")
    const unknown = await synclog(['token', 'revoke', 'no-such-token', '--data', data])
    expect(unknown.code).toBe(1)
  })
})

describe('sync history, summaries and rollups', () => {
  it("lists every tenant's syncs newest first for the operator", async () => {
    const { syncs } = await getJson('/api/v1/syncs', token.operator, SyncListSchema)
    expect(syncs).toHaveLength(3)
    const starts = syncs.map((s) => s.startedAt)
    expect(starts).toEqual([...starts].sort().reverse())
  })

  it("lists only its own tenant's syncs for a district token, even when asked for another tenant", async () => {
    const { syncs } = await getJson('/api/v1/syncs', token.districtA, SyncListSchema)
    expect(syncs.map((s) => s.syncId).sort()).toEqual(syncsA.map((s) => s.syncId).sort())
    expect((await getJson('/api/v1/syncs?tenant=district-b', token.districtA, SyncListSchema)).syncs).toEqual([])
  })

  it('filters the sync history by app, date and count', async () => {
    expect((await getJson('/api/v1/syncs?app=oneroster-csv', token.operator, SyncListSchema)).syncs).toHaveLength(3)
    expect((await getJson('/api/v1/syncs?app=another-app', token.operator, SyncListSchema)).syncs).toHaveLength(0)
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    expect((await getJson(`/api/v1/syncs?from=${tomorrow}`, token.operator, SyncListSchema)).syncs).toHaveLength(0)
    expect((await getJson(`/api/v1/syncs?to=${tomorrow}`, token.operator, SyncListSchema)).syncs).toHaveLength(3)
    expect((await getJson('/api/v1/syncs?limit=1', token.operator, SyncListSchema)).syncs).toHaveLength(1)
  })

  it('returns one sync, and 404 for an unknown sync or one of another tenant', async () => {
    const one = await getJson(`/api/v1/syncs/${encodeURIComponent(syncsA[0]!.syncId)}`, token.districtA, SyncRunSchema)
    expect(one).toEqual(syncsA[0])
    expect((await refused('/api/v1/syncs/no-such-sync', token.operator, 404)).code).toBe('SYNC_NOT_FOUND')
    await refused(`/api/v1/syncs/${encodeURIComponent(syncB.syncId)}`, token.districtA, 404)
    await refused(`/api/v1/syncs/${encodeURIComponent(syncB.syncId)}/summary`, token.districtA, 404)
    await refused(`/api/v1/syncs/${encodeURIComponent(syncB.syncId)}/report.csv`, token.districtA, 404)
    await refused(`/api/v1/syncs/${encodeURIComponent(syncB.syncId)}/drilldown?entity=user&school=&outcome=New`, token.districtA, 404)
  })

  it('summarises a sync with counts that match the generated files, per school when asked', async () => {
    const first = syncsA[syncsA.length - 1]!
    const plain = await getJson(`/api/v1/syncs/${encodeURIComponent(first.syncId)}/summary`, token.districtA, SyncSummarySchema)
    expect(plain.bySchool).toBeUndefined()
    expect(plain.counts.user!.total).toBe(night1.users.length)
    expect(plain.counts.user!.new).toBe(night1.users.length)
    expect(plain.counts.class!.total).toBe(night1.classes.length)
    const bySchool = await getJson(
      `/api/v1/syncs/${encodeURIComponent(first.syncId)}/summary?bySchool=true`,
      token.districtA,
      SyncSummarySchema,
    )
    expect(bySchool.bySchool).toBeDefined()
    const classes = Object.values(bySchool.bySchool!).reduce((n, s) => n + (s.counts.class?.total ?? 0), 0)
    expect(classes).toBe(night1.classes.length)
  })

  it("shows a school token only its own school's counts", async () => {
    const summary = await getJson(
      `/api/v1/syncs/${encodeURIComponent(syncsA[0]!.syncId)}/summary?bySchool=true`,
      token.school,
      SyncSummarySchema,
    )
    expect(Object.keys(summary.bySchool ?? {})).toEqual([school])
    const all = await getJson(
      `/api/v1/syncs/${encodeURIComponent(syncsA[0]!.syncId)}/summary?bySchool=true`,
      token.districtA,
      SyncSummarySchema,
    )
    expect(summary.counts).toEqual(all.bySchool![school]!.counts)
  })

  it('drills down from a count to exactly the log rows behind it, page by page', async () => {
    const second = syncsA[0]!
    const summary = await getJson(
      `/api/v1/syncs/${encodeURIComponent(second.syncId)}/summary?bySchool=true`,
      token.operator,
      SyncSummarySchema,
    )
    const deletedHere = (s: string): number => summary.bySchool![s]?.counts.enrollment?.deleted ?? 0
    const cellSchool = Object.keys(summary.bySchool!).sort((a, b) => deletedHere(b) - deletedHere(a))[0]!
    expect(deletedHere(cellSchool)).toBeGreaterThan(1)
    const path = `/api/v1/syncs/${encodeURIComponent(second.syncId)}/drilldown?${q({ entity: 'enrollment', school: cellSchool, outcome: 'Deleted' })}`
    const first = await getJson(`${path}&limit=1`, token.operator, DrillDownSchema)
    expect(first.count).toBe(deletedHere(cellSchool))
    expect(first.cell).toMatchObject({ syncId: second.syncId, entity: 'enrollment', outcomes: ['Deleted'], schoolId: cellSchool })
    const rows = await walk(path, token.operator, 1)
    const expected = allRows.filter(
      (r) => r.syncId === second.syncId && r.entity === 'enrollment' && r.outcome === 'Deleted' && r.recordSchoolId === cellSchool,
    )
    expect(sortedKeys(rows)).toEqual(sortedKeys(expected))
    expect(new Set(rows.map((r) => r.sourcedId)).size).toBe(first.count)
  })

  it("drills into district-level records with school '(district)' or an empty school", async () => {
    const first = syncsA[syncsA.length - 1]!
    const path = (s: string): string =>
      `/api/v1/syncs/${encodeURIComponent(first.syncId)}/drilldown?${q({ entity: 'academicSession', school: s, outcome: 'New' })}`
    const named = await getJson(path('(district)'), token.operator, DrillDownSchema)
    const empty = await getJson(path(''), token.operator, DrillDownSchema)
    expect(named.count).toBe(night1.academicSessions.length)
    expect(keys(empty.rows)).toEqual(keys(named.rows))
  })

  it('drills into a total over every school, a Total over every outcome, and Duplicates as Merged plus Excluded', async () => {
    const sync = syncsA[0]!
    const summary = await getJson(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary`, token.operator, SyncSummarySchema)
    const path = (params: Record<string, string | string[]>): string =>
      `/api/v1/syncs/${encodeURIComponent(sync.syncId)}/drilldown?${q(params)}`
    const ofSync = allRows.filter((r) => r.syncId === sync.syncId && r.tenant === sync.tenant)

    const deleted = await getJson(`${path({ entity: 'enrollment', outcome: 'Deleted' })}&limit=10000`, token.operator, DrillDownSchema)
    expect(deleted.count).toBe(summary.counts.enrollment!.deleted)
    expect(deleted.cell).toEqual({ syncId: sync.syncId, entity: 'enrollment', outcomes: ['Deleted'] })
    expect(sortedKeys(deleted.rows)).toEqual(sortedKeys(ofSync.filter((r) => r.entity === 'enrollment' && r.outcome === 'Deleted')))

    const total = await getJson(`${path({ entity: 'user' })}&limit=10000`, token.operator, DrillDownSchema)
    expect(total.count).toBe(summary.counts.user!.total)
    expect(sortedKeys(total.rows)).toEqual(sortedKeys(ofSync.filter((r) => r.entity === 'user')))
    expect(summary.counts.user!.noChange).toBeGreaterThan(0)
    expect(total.note).toContain('No Change records are counted but not logged')

    const entity = (['user', 'enrollment', 'class'] as const).find((e) => (summary.counts[e]?.duplicates ?? 0) > 0)
    expect(entity, 'the second night has duplicates').toBeDefined()
    const dups = await getJson(`${path({ entity: entity!, outcome: ['Merged', 'Excluded'] })}&limit=10000`, token.operator, DrillDownSchema)
    expect(dups.count).toBe(summary.counts[entity!]!.duplicates)
    expect(sortedKeys(dups.rows)).toEqual(
      sortedKeys(ofSync.filter((r) => r.entity === entity && (r.outcome === 'Merged' || r.outcome === 'Excluded'))),
    )
  })

  it("counts a school token's total over its own school only", async () => {
    const sync = syncsA[0]!
    const all = await getJson(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary?bySchool=true`, token.districtA, SyncSummarySchema)
    const drill = await getJson(
      `/api/v1/syncs/${encodeURIComponent(sync.syncId)}/drilldown?entity=enrollment&limit=10000`,
      token.school,
      DrillDownSchema,
    )
    expect(drill.count).toBe(all.bySchool![school]!.counts.enrollment!.total)
    for (const r of drill.rows) expect(inSchool(r, school, 'either'), key(r)).toBe(true)
  })

  it("sums each day of syncs per tenant and app, and a school token's days only over its school", async () => {
    const { rollups } = await getJson('/api/v1/rollups/daily', token.operator, RollupListSchema)
    const all = await getJson('/api/v1/syncs', token.operator, SyncListSchema)
    for (const tenant of ['district-a', 'district-b']) {
      const days = rollups.filter((r) => r.tenant === tenant)
      const runs = all.syncs.filter((s) => s.tenant === tenant)
      expect(days.reduce((n, d) => n + d.syncs, 0)).toBe(runs.length)
      expect(days.reduce((n, d) => n + d.counts.total, 0)).toBe(runs.reduce((n, s) => n + s.total, 0))
    }
    const scoped = await getJson('/api/v1/rollups/daily?tenant=district-b', token.districtA, RollupListSchema)
    expect(scoped.rollups).toEqual([])
    const schoolDays = (await getJson('/api/v1/rollups/daily', token.school, RollupListSchema)).rollups
    expect(new Set(schoolDays.map((d) => d.tenant))).toEqual(new Set(['district-a']))
    let schoolTotal = 0
    for (const sync of syncsA) {
      const summary = await getJson(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary`, token.school, SyncSummarySchema)
      schoolTotal += Object.values(summary.counts).reduce((n, c) => n + c.total, 0)
    }
    expect(schoolDays.reduce((n, d) => n + d.counts.total, 0)).toBe(schoolTotal)
  })
})

describe('the log', () => {
  it('returns rows newest first, and walking the cursor gives exactly the unpaged rows', async () => {
    const unpaged = await getJson('/api/v1/log?limit=10000', token.operator, LogPageSchema)
    expect(unpaged.nextCursor).toBeNull()
    expect(keys(unpaged.rows)).toEqual(keys(allRows))
    const dates = unpaged.rows.map((r) => r.date)
    expect(dates).toEqual([...dates].sort().reverse())
    const paged = await walk('/api/v1/log', token.operator, 97)
    expect(keys(paged)).toEqual(keys(unpaged.rows))
  })

  it('applies each filter exactly as the same filter over all rows does', async () => {
    const sync2 = syncsA[0]!.syncId
    const someName = allRows.find((r) => r.tenant === 'district-a' && r.studentName.length > 6)!.studentName
    const fragment = someName.slice(1, 5).toUpperCase()
    const cases: [Record<string, string | string[]>, (r: LogRecord) => boolean][] = [
      [{ tenant: 'district-b' }, (r) => r.tenant === 'district-b'],
      [{ sync: sync2 }, (r) => r.syncId === sync2],
      [{ action: ['Created Roster', 'Deleted Roster'] }, (r) => r.action === 'Created Roster' || r.action === 'Deleted Roster'],
      [{ outcome: ['Skipped', 'Invalid'] }, (r) => r.outcome === 'Skipped' || r.outcome === 'Invalid'],
      [{ entity: 'class' }, (r) => r.entity === 'class'],
      [{ app: ['oneroster-csv', 'nothing'] }, (r) => r.app === 'oneroster-csv'],
      [{ app: 'nothing' }, () => false],
      [{ school }, (r) => inSchool(r, school, 'either')],
      [{ school, side: 'home' }, (r) => inSchool(r, school, 'home')],
      [{ school, side: 'serving' }, (r) => inSchool(r, school, 'serving')],
      [{ 'contains.studentName': fragment }, (r) => r.studentName.toLowerCase().includes(fragment.toLowerCase())],
      [
        { 'contains.studentName': fragment, tenant: 'district-a', action: 'Created Roster' },
        (r) => r.studentName.toLowerCase().includes(fragment.toLowerCase()) && r.tenant === 'district-a' && r.action === 'Created Roster',
      ],
      [{ 'contains.homeSchool': 'SCHOOL' }, (r) => r.homeSchool.toLowerCase().includes('school')],
      [{ from: syncsA[0]!.startedAt }, (r) => r.date >= syncsA[0]!.startedAt],
      [{ to: syncsA[1]!.startedAt }, (r) => r.date <= syncsA[1]!.startedAt],
      [{ includeRejected: 'true' }, () => true],
    ]
    for (const [params, keep] of cases) {
      const rows = await walk(`/api/v1/log?${q(params)}`, token.operator, 5000)
      expect(sortedKeys(rows), JSON.stringify(params)).toEqual(sortedKeys(allRows.filter(keep)))
    }
  })

  it('shows only the last 30 days unless a date, a sync or a record is named', async () => {
    const later = await buildServer({
      store: opened.store,
      tokens: ApiTokens.inDataDir(data),
      logger: silentLogger(),
      version: 'test',
      now: () => Date.now() + 40 * 86_400_000,
    })
    try {
      const headers = { authorization: `Bearer ${token.operator}` }
      const window = await later.app.inject({ method: 'GET', url: '/api/v1/log', headers })
      expect(LogPageSchema.parse(window.json()).rows).toEqual([])
      const bySync = await later.app.inject({
        method: 'GET',
        url: `/api/v1/log?sync=${encodeURIComponent(syncB.syncId)}&limit=10000`,
        headers,
      })
      expect(LogPageSchema.parse(bySync.json()).rows.length).toBe(allRows.filter((r) => r.syncId === syncB.syncId).length)
      const byDate = await later.app.inject({ method: 'GET', url: '/api/v1/log?from=2000-01-01&limit=10000', headers })
      expect(LogPageSchema.parse(byDate.json()).rows.length).toBe(allRows.length)
    } finally {
      await later.app.close()
    }
  })

  it("returns a student's, a section's and a record's history across syncs and tenants in scope", async () => {
    const sample = allRows.find((r) => r.tenant === 'district-a' && r.studentNumber !== '' && r.sectionNumber !== '')!
    const cases = [
      ['student', sample.studentNumber, (r: LogRecord) => r.studentNumber === sample.studentNumber],
      ['section', sample.sectionNumber, (r: LogRecord) => r.sectionNumber === sample.sectionNumber],
      ['record', sample.sourcedId, (r: LogRecord) => r.sourcedId === sample.sourcedId],
    ] as const
    for (const [kind, id, keep] of cases) {
      const operator = await walk(`/api/v1/history?${q({ kind, id })}`, token.operator, 7)
      expect(sortedKeys(operator), kind).toEqual(sortedKeys(allRows.filter(keep)))
      const district = await walk(`/api/v1/history?${q({ kind, id })}`, token.districtA, 7)
      expect(sortedKeys(district), kind).toEqual(sortedKeys(allRows.filter((r) => keep(r) && r.tenant === 'district-a')))
    }
  })
})

describe('bad requests', () => {
  it('names an unknown query parameter and the one it probably meant', async () => {
    const error = await refused('/api/v1/log?contain.studentName=smith', token.operator, 400)
    expect(error.code).toBe('UNKNOWN_PARAMETER')
    expect(error.message).toContain('"contain.studentName"')
    expect(error.message).toContain('did you mean "contains.studentName"')
    expect((await refused('/api/v1/log.csv?limit=5', token.operator, 400)).message).toContain('"limit"')
    expect((await refused('/api/v1/me?verbose=1', token.operator, 400)).message).toContain('"verbose"')
    expect((await refused('/api/v1/log?contains.password=x', token.operator, 400)).code).toBe('UNKNOWN_PARAMETER')
  })

  it('names each invalid parameter and what it must be', async () => {
    const cases: [string, string][] = [
      ['/api/v1/log?limit=0', 'limit'],
      ['/api/v1/log?limit=abc', 'limit'],
      ['/api/v1/log?limit=10001', 'limit'],
      ['/api/v1/log?limit=2.5', 'limit'],
      ['/api/v1/log?outcome=Nope', 'outcome'],
      ['/api/v1/log?action=Created%20Roster&action=Exploded', 'action'],
      ['/api/v1/log?entity=person', 'entity'],
      ['/api/v1/log?from=2024-02-30', 'from'],
      ['/api/v1/log?to=yesterday', 'to'],
      ['/api/v1/log?school=x&side=left', 'side'],
      ['/api/v1/log?includeRejected=maybe', 'includeRejected'],
      ['/api/v1/log?tenant=', 'tenant'],
      ['/api/v1/log?contains.studentName=', 'contains.studentName'],
      ['/api/v1/syncs?limit=-1', 'limit'],
      ['/api/v1/rollups/daily?from=2024-1-1', 'from'],
      ['/api/v1/history?kind=teacher&id=1', 'kind'],
      [`/api/v1/syncs/${encodeURIComponent(syncB.syncId)}/summary?bySchool=yes`, 'bySchool'],
    ]
    for (const [path, parameter] of cases) {
      const error = await refused(path, token.operator, 400)
      expect(error.code, path).toBe('BAD_PARAMETER')
      expect(error.message, path).toContain(`parameter ${parameter} `)
    }
  })

  it('asks for the parameters drill-down and history cannot do without', async () => {
    const drill = await refused(`/api/v1/syncs/${encodeURIComponent(syncB.syncId)}/drilldown?outcome=New`, token.operator, 400)
    expect(drill.message).toContain('entity is required')
    expect((await refused('/api/v1/history?kind=student', token.operator, 400)).message).toContain('id is required')
  })

  it('refuses a parameter given twice unless it is repeatable', async () => {
    expect((await refused('/api/v1/log?tenant=a&tenant=b', token.operator, 400)).message).toContain('tenant is given 2 times')
    await getJson('/api/v1/log?outcome=New&outcome=Deleted&limit=1', token.operator, LogPageSchema)
  })

  it('refuses side without school, and a cursor it did not hand out', async () => {
    expect((await refused('/api/v1/log?side=home', token.operator, 400)).message).toContain('side needs school')
    expect((await refused('/api/v1/log?cursor=bm90LWEtY3Vyc29y', token.operator, 400)).message).toContain('cursor')
    expect((await refused('/api/v1/log?cursor=%27%20OR%201%3D1', token.operator, 400)).message).toContain('cursor')
  })

  it('answers an unknown path or a malformed URL in the same error format', async () => {
    expect((await refused('/api/v1/nothing-here', token.operator, 404)).code).toBe('NOT_FOUND')
    expect((await refused('/api/v1/syncs/%zz', token.operator, 400)).code).toBe('BAD_REQUEST')
  })

  it('checks the token before the parameters, so a stranger learns nothing from a 400', async () => {
    expect((await refused('/api/v1/log?limit=abc&contain.x=1', undefined, 401)).code).toBe('UNAUTHORIZED')
  })

  it('never shows a stack trace or a file path in an error', async () => {
    const paths = ['/api/v1/log?limit=abc', '/api/v1/log?cursor=AAAA', '/api/v1/syncs/x', '/api/v1/nowhere', '/api/v1/log?from=9999-99-99']
    for (const path of paths) {
      const answer = await get(path, token.operator)
      expect(answer.text()).not.toMatch(/\bat .+:\d+:\d+|\.ts:\d|\.js:\d|node_modules/)
    }
  })
})

describe('scopes', () => {
  const schoolRows = (side: 'home' | 'serving' | 'either'): LogRecord[] =>
    allRows.filter((r) => r.tenant === 'district-a' && inSchool(r, school, side))

  it("shows a district token exactly its tenant's rows", async () => {
    const rows = await walk('/api/v1/log', token.districtA, 5000)
    expect(sortedKeys(rows)).toEqual(sortedKeys(allRows.filter((r) => r.tenant === 'district-a')))
  })

  it('shows a school token exactly the rows of its school, on the side it was given', async () => {
    for (const [name, side] of [
      ['school', 'either'],
      ['schoolHome', 'home'],
      ['schoolServing', 'serving'],
    ] as const) {
      const rows = await walk('/api/v1/log', token[name], 5000)
      expect(rows.length, side).toBeGreaterThan(0)
      expect(sortedKeys(rows), side).toEqual(sortedKeys(schoolRows(side)))
    }
  })

  const HOSTILE = [
    'district-b',
    'other-school',
    "'",
    "''",
    '"',
    '\\',
    "' OR 1=1 --",
    "x' OR '1'='1",
    '") OR ("1"="1',
    '%',
    '_',
    '%_%',
    '*',
    '\u0000',
    'Ω≈ç√ 学校 😀',
    '\u202eloohcs',
    'sch\u0301ool',
    `${'x'.repeat(99_990)}' OR 1=1 --`,
  ]

  it("never shows a school token another school's rows, whatever the filters say", async () => {
    const allowed = new Set(keys(schoolRows('either')))
    const hostileParams = ['tenant', 'school', 'sync', 'app', 'contains.homeSchoolId', 'contains.studentName']
    for (const value of [...HOSTILE, otherSchool]) {
      for (const param of hostileParams) {
        const label = `${param}=${value.slice(0, 30)}`
        const page = await getJson(`/api/v1/log?${q({ [param]: value, limit: '10000' })}`, token.school, LogPageSchema)
        for (const row of page.rows) expect(allowed.has(key(row)), label).toBe(true)
      }
      for (const kind of ['student', 'section', 'record']) {
        const history = await getJson(`/api/v1/history?${q({ kind, id: value })}`, token.school, LogPageSchema)
        for (const row of history.rows) expect(allowed.has(key(row)), `${kind}=${value.slice(0, 30)}`).toBe(true)
      }
      const csv = await get(`/api/v1/log.csv?${q({ 'contains.homeSchoolId': value })}`, token.school)
      expect(csv.status).toBe(200)
      const records = parse(csv.body, { bom: true, columns: true }) as Record<string, string>[]
      for (const r of records)
        expect(r[LOG_COLUMN_HEADERS.homeSchoolId] === school || r[LOG_COLUMN_HEADERS.servingSchoolId] === school).toBe(true)
      expect((await refused(`/api/v1/log?${q({ cursor: value })}`, token.school, 400)).message).toContain('cursor')
    }
  })

  it('keeps the school scope on the widest filters a caller can ask for', async () => {
    const allowed = new Set(keys(schoolRows('either')))
    const wide = await walk(
      `/api/v1/log?${q({ tenant: 'district-a', school: otherSchool, side: 'either', includeRejected: 'true' })}`,
      token.school,
      5000,
    )
    expect(wide.filter((r) => !allowed.has(key(r)))).toEqual([])
    const everything = await walk(`/api/v1/log?${q({ from: '1900-01-01', includeRejected: 'true' })}`, token.school, 5000)
    expect(sortedKeys(everything)).toEqual(sortedKeys(schoolRows('either')))
  })

  it("never hands a school token another school's rows through drill-down, report or download", async () => {
    const allowed = new Set(keys(schoolRows('either')))
    const sync2 = encodeURIComponent(syncsA[0]!.syncId)
    const drill = await getJson(
      `/api/v1/syncs/${sync2}/drilldown?${q({ entity: 'enrollment', school: otherSchool, outcome: 'Deleted', limit: '10000' })}`,
      token.school,
      DrillDownSchema,
    )
    expect(drill.rows.filter((r) => !allowed.has(key(r)))).toEqual([])
    const report = await get(`/api/v1/syncs/${sync2}/report.csv`, token.school)
    expect(report.status).toBe(200)
    const reportRows = parse(report.body, { bom: true, columns: true }) as Record<string, string>[]
    for (const r of reportRows)
      expect(r[LOG_COLUMN_HEADERS.homeSchoolId] === school || r[LOG_COLUMN_HEADERS.servingSchoolId] === school).toBe(true)
    const csv = await get(`/api/v1/log.csv?${q({ school: otherSchool, tenant: 'district-b' })}`, token.school)
    expect(csv.status).toBe(200)
    expect(parse(csv.body, { bom: true, columns: true })).toEqual([])
  })
})

describe('downloads', () => {
  it('streams every matching row as CSV with a BOM, a header and one record per row', async () => {
    const answer = await get('/api/v1/log.csv', token.operator)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="sync-log-\d{8}-\d{6}\.csv"$/)
    expect([...answer.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const records = parse(answer.body, { bom: true }) as string[][]
    expect(records[0]).toEqual(LOG_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c]))
    expect(records.length - 1).toBe(allRows.length)
    const syncColumn = LOG_COLUMNS.indexOf('syncId')
    const seqless = records.slice(1).map((r) => r[syncColumn])
    expect(seqless).toEqual(allRows.map((r) => r.syncId))
  })

  it('downloads with the filters of the log', async () => {
    const answer = await get(`/api/v1/log.csv?${q({ tenant: 'district-a', outcome: ['Skipped', 'Invalid'] })}`, token.operator)
    const records = parse(answer.body, { bom: true, columns: true }) as Record<string, string>[]
    const expected = allRows.filter((r) => r.tenant === 'district-a' && (r.outcome === 'Skipped' || r.outcome === 'Invalid'))
    expect(expected.length).toBeGreaterThan(0)
    expect(records.map((r) => r[LOG_COLUMN_HEADERS.sourcedId])).toEqual(expected.map((r) => r.sourcedId))
  })

  it("downloads a sync's error rows as a CSV report", async () => {
    const sync2 = syncsA[0]!
    const answer = await get(`/api/v1/syncs/${encodeURIComponent(sync2.syncId)}/report.csv`, token.districtA)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-disposition')).toContain('attachment; filename="sync-')
    const records = parse(answer.body, { bom: true, columns: true }) as Record<string, string>[]
    const errors = allRows.filter((r) => r.syncId === sync2.syncId && ['Skipped', 'Invalid', 'Excluded', 'Merged'].includes(r.outcome))
    expect(errors.length).toBeGreaterThan(0)
    expect(records.map((r) => `${r[LOG_COLUMN_HEADERS.sourcedId]}|${r[LOG_COLUMN_HEADERS.outcome]}`).sort()).toEqual(
      errors.map((r) => `${r.sourcedId}|${r.outcome}`).sort(),
    )
  })

  it('answers a download with a bad filter as a 400, not as a broken file', async () => {
    const answer = await get('/api/v1/log.xlsx?outcome=Nope', token.operator)
    expect(answer.status).toBe(400)
    expect(answer.headers.get('content-disposition')).toBeNull()
  })

  it.skipIf(!HAS_OPENPYXL)(
    `streams an Excel file that openpyxl opens with the right rows, header and date cells${HAS_OPENPYXL ? '' : ' (skipped: python3-openpyxl is not installed)'}`,
    async () => {
      const answer = await get('/api/v1/log.xlsx?tenant=district-a', token.operator)
      expect(answer.status).toBe(200)
      expect(answer.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="sync-log-\d{8}-\d{6}\.xlsx"$/)
      const path = join(dir, 'download.xlsx')
      await writeFile(path, answer.body)
      const script = [
        'import json, sys, datetime, openpyxl',
        'wb = openpyxl.load_workbook(sys.argv[1], read_only=True)',
        'ws = wb.worksheets[0]',
        'rows = list(ws.iter_rows(values_only=True))',
        'print(json.dumps({"sheets": len(wb.worksheets), "header": list(rows[0]), "rows": len(rows) - 1,',
        '  "dates": all(isinstance(r[0], datetime.datetime) for r in rows[1:]), "sourcedIds": [r[21] for r in rows[1:]]}))',
      ].join('\n')
      const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, path], { maxBuffer: 64 * 1024 * 1024 })
      const book = JSON.parse(stdout) as { sheets: number; header: string[]; rows: number; dates: boolean; sourcedIds: (string | null)[] }
      const expected = allRows.filter((r) => r.tenant === 'district-a')
      expect(book.sheets).toBe(1)
      expect(book.header).toEqual(LOG_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c]))
      expect(book.rows).toBe(expected.length)
      expect(book.dates).toBe(true)
      expect(LOG_COLUMNS[21]).toBe('sourcedId')
      expect(book.sourcedIds.map((s) => s ?? '')).toEqual(expected.map((r) => r.sourcedId))
    },
  )
})

describe('downloads whose client goes away', () => {
  /** A store whose log never ends, so only the client going away can stop a download. */
  function endlessStore(stopped: () => void): ReadStore {
    const notUsed = (): never => {
      throw new Error('not used by this test')
    }
    const sample = allRows[0]!
    return {
      listSyncs: notUsed,
      getSync: notUsed,
      summary: notUsed,
      queryLog: notUsed,
      drillDown: notUsed,
      recordHistory: notUsed,
      dailyRollups: notUsed,
      reportRows: notUsed,
      rosterAt: notUsed,
      countLog: notUsed,
      listSchools: notUsed,
      compareSyncs: notUsed,
      causeGroups: notUsed,
      async *streamLog() {
        try {
          for (let seq = 0; ; seq++) yield { ...sample, seq }
        } finally {
          stopped()
        }
      },
    }
  }

  for (const format of ['csv', 'xlsx'] as const) {
    it(`stops reading the store when the client of a ${format} download goes away, and keeps serving`, async () => {
      let stopped!: () => void
      const sourceClosed = new Promise<void>((resolve) => (stopped = resolve))
      const endless = await buildServer({
        store: endlessStore(stopped),
        tokens: ApiTokens.inDataDir(data),
        logger: silentLogger(),
        version: 'test',
      })
      try {
        const url = await endless.app.listen({ host: '127.0.0.1', port: 0 })
        const abort = new AbortController()
        const res = await fetch(`${url}/api/v1/log.${format}`, {
          headers: { authorization: `Bearer ${token.operator}` },
          signal: abort.signal,
        })
        expect(res.status).toBe(200)
        const reader = res.body!.getReader()
        expect((await reader.read()).done).toBe(false)
        abort.abort()
        await sourceClosed
        expect((await fetch(`${url}/healthz`)).status).toBe(200)
      } finally {
        await endless.app.close()
      }
    })
  }
})

describe('request logging', () => {
  it('logs one debug line per request with the route and token name, never the query text', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean))
        done()
      },
    })
    const logged = await buildServer({
      store: opened.store,
      tokens: ApiTokens.inDataDir(data),
      logger: createLogger({ level: 'debug', pretty: false, destination: sink }),
      version: 'test',
    })
    try {
      const name = allRows.find((r) => r.studentName !== '')!.studentName
      const answer = await logged.app.inject({
        method: 'GET',
        url: `/api/v1/log?${q({ 'contains.studentName': name, limit: '5' })}`,
        headers: { authorization: `Bearer ${token.districtA}` },
      })
      expect(answer.statusCode).toBe(200)
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      const requestLines = entries.filter((e) => e.msg === 'request')
      expect(requestLines).toHaveLength(1)
      expect(requestLines[0]).toMatchObject({
        level: 20,
        route: '/api/v1/log',
        status: 200,
        token: 'district-a',
        params: ['contains.studentName', 'limit'],
      })
      expect(entries.filter((e) => (e.level as number) >= 30)).toEqual([])
      expect(lines.join('\n')).not.toContain(name)
    } finally {
      await logged.app.close()
    }
  })
})

describe('what the web page needs: schools, counts, a browser session and the page itself', () => {
  it('lists the schools each token may see, as the sync counts name them', async () => {
    const schoolsOf = async (bearer: string): Promise<string[]> =>
      (await getJson('/api/v1/schools', bearer, SchoolListSchema)).schools.map((s) => `${s.tenant}|${s.schoolId}`).sort()
    const expected = new Set<string>()
    for (const sync of [...syncsA, syncB]) {
      const summary = await getJson(
        `/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary?bySchool=true`,
        token.operator,
        SyncSummarySchema,
      )
      for (const id of Object.keys(summary.bySchool!)) if (id !== '(district)') expected.add(`${sync.tenant}|${id}`)
    }
    expect(await schoolsOf(token.operator)).toEqual([...expected].sort())
    expect(await schoolsOf(token.districtA)).toEqual([...expected].filter((k) => k.startsWith('district-a|')).sort())
    expect(await schoolsOf(token.school)).toEqual([`district-a|${school}`])
    const named = (await getJson('/api/v1/schools', token.school, SchoolListSchema)).schools[0]!
    expect(named.schoolName).toBe(allRows.find((r) => r.tenant === 'district-a' && r.servingSchoolId === school)?.servingSchool)
  })

  it('counts the rows the log would return, for the same filters and scope', async () => {
    const filter = { 'contains.action': 'roster', tenant: 'district-a' }
    const expected = allRows.filter((r) => r.tenant === 'district-a' && r.action.toLowerCase().includes('roster'))
    expect(expected.length).toBeGreaterThan(10)
    const counted = await getJson(`/api/v1/log/count?${q(filter)}`, token.operator, LogCountSchema)
    expect(counted.rows).toBe(expected.length)
    expect(counted.records).toBe(new Set(expected.map((r) => `${r.entity}|${r.sourcedId}`)).size)
    const scoped = await getJson(`/api/v1/log/count?${q(filter)}`, token.school, LogCountSchema)
    expect(scoped.rows).toBe(expected.filter((r) => inSchool(r, school, 'either')).length)
  })

  it('signs a browser in with an HttpOnly, SameSite=Strict cookie that authorizes reads and downloads, and signs it out', async () => {
    const wrong = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: `slk_${'B'.repeat(43)}` }),
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    expect(ErrorSchema.parse(await wrong.json()).error.message).toContain('unknown or revoked')

    const res = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: token.school }),
    })
    expect(res.status).toBe(200)
    expect(MeSchema.parse(await res.json()).name).toBe('school-either')
    const setCookie = res.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^synclog_session=slk_[A-Za-z0-9_-]{43}; /)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    const cookie = setCookie.split(';')[0]!
    const withCookie = (path: string): Promise<Response> => fetch(`${base}${path}`, { headers: { cookie } })
    expect(MeSchema.parse(await (await withCookie('/api/v1/me')).json()).scope).toEqual({
      tenant: 'district-a',
      school: { id: school, side: 'either' },
    })
    const csv = await withCookie('/api/v1/log.csv')
    expect(csv.status).toBe(200)
    const rows = parse(
      Buffer.from(await csv.arrayBuffer())
        .toString('utf8')
        .replace(/^\uFEFF/, ''),
      { columns: true },
    ) as Record<string, string>[]
    expect(rows.length).toBe(allRows.filter((r) => r.tenant === 'district-a' && inSchool(r, school, 'either')).length)

    const out = await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie } })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/^synclog_session=; .*Max-Age=0/)
    expect((await fetch(`${base}/api/v1/me`, { headers: { cookie: 'synclog_session=slk_nope' } })).status).toBe(401)
  })

  it('refuses a sign-in without a token field, naming it', async () => {
    const res = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokn: 'x' }),
    })
    expect(res.status).toBe(400)
    expect(ErrorSchema.parse(await res.json()).error.message).toMatch(/tokn.*did you mean "token"/)
  })

  it('serves the page, its script and its style sheet with a policy that allows no other origin', async () => {
    const page = await get('/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).not.toMatch(/https?:|\*/)
    const html = page.text()
    for (const asset of ['/ui/app.js', '/ui/app.css']) {
      expect(html).toContain(asset)
      const answer = await get(asset)
      expect(answer.status, asset).toBe(200)
      expect(answer.body.length, asset).toBeGreaterThan(1000)
      expect(answer.text(), asset).not.toMatch(/https?:\/\/(?!www\.w3\.org)/)
    }
    expect((await get('/ui/app.js')).headers.get('content-type')).toMatch(/^text\/javascript/)
    expect((await get('/ui/nothing.js')).status).toBe(404)
    expect((await get('/ui/index.html')).status).toBe(404)
  })
})

describe('the OpenAPI document', () => {
  /** `/api/v1/syncs/:syncId` → `/api/v1/syncs/{syncId}`. */
  const openApiPath = (fastifyUrl: string): string => fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

  it('describes every route Fastify registered, and nothing else', async () => {
    const doc = (await get('/openapi.json')).json() as { openapi: string; paths: Record<string, Record<string, unknown>> }
    expect(doc.openapi).toBe('3.1.0')
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort()
    const registered = server.registeredRoutes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort()
    expect(registered.length).toBeGreaterThan(10)
    expect(documented).toEqual(registered)
  })

  it('documents the parameters, errors and security of each operation, with every reference resolved', async () => {
    const doc = (await get('/openapi.json')).json() as {
      paths: Record<
        string,
        Record<
          string,
          { operationId: string; parameters: { name: string; in: string }[]; responses: Record<string, unknown>; security: unknown[] }
        >
      >
      components: { schemas: Record<string, unknown> }
    }
    const log = doc.paths['/api/v1/log']!.get!
    const names = log.parameters.map((p) => p.name)
    for (const n of [
      'tenant',
      'sync',
      'school',
      'side',
      'action',
      'outcome',
      'app',
      'entity',
      'from',
      'to',
      'includeRejected',
      'limit',
      'cursor',
    ]) {
      expect(names).toContain(n)
    }
    for (const c of LOG_COLUMNS) expect(names).toContain(`contains.${c}`)
    expect(doc.paths['/api/v1/syncs/{syncId}']!.get!.parameters).toContainEqual(
      expect.objectContaining({ name: 'syncId', in: 'path', required: true }),
    )
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect(
          Object.keys(op.responses).some((status) => status === '200' || status === '204'),
          path,
        ).toBe(true)
        expect(op.responses, path).toHaveProperty('400')
        // Signing out needs no token: it only clears the cookie.
        if (path.startsWith('/api/') && op.operationId !== 'signOut') expect(op.responses, path).toHaveProperty('401')
        if (path.startsWith('/api/') && path !== '/api/v1/session') {
          expect(op.security, path).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }])
        }
      }
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []
    expect(refs.length).toBeGreaterThan(0)
    for (const ref of refs) {
      const id = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1]
      expect(id && doc.components.schemas[id], ref).toBeTruthy()
    }
  })
})

describe('synclog serve', () => {
  it('refuses to start on a data directory another process holds, with the DATA_DIR_LOCKED message', async () => {
    const run = await synclog(['serve', '--port', '0', '--data', data])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('is in use by another synclog process')
  })

  it('prints its URL, serves, and on SIGTERM finishes and releases the data directory', async () => {
    const own = join(dir, 'serve-data')
    const run = await synclog(['token', 'create', '--name', 'cli', '--tenant', 'district-a', '--data', own])
    expect(run.code, run.stderr).toBe(0)
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', own], {
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const url = await printedUrl(child)
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
      const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${run.stdout.trim()}` } })
      expect(MeSchema.parse(await me.json()).scope).toEqual({ tenant: 'district-a' })
      expect(existsSync(join(own, 'synclog.lock'))).toBe(true)
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const [code] = (await exited) as [number | null]
      expect(code).toBe(0)
      expect(existsSync(join(own, 'synclog.lock'))).toBe(false)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('refuses a port that is not a port', async () => {
    const run = await synclog(['serve', '--port', 'eighty', '--data', join(dir, 'unused')])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--port must be a whole number')
  })
})

/** The URL `synclog serve` prints on stdout once it listens. */
function printedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve(match[1]!)
    })
    child.once('exit', (code) => reject(new Error(`synclog serve exited with ${code} before listening: ${err}`)))
  })
}
