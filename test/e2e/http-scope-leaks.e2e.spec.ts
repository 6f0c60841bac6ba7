/**
 * Nothing a token reads tells it more than its scope holds: for every school
 * token of a multi-school data set, every route that returns a message, a note
 * or a count answers numbers no larger than the ones computed here, in plain JS,
 * from the operator's rows and per-school counts of that school; and no answer
 * to any token names the server's data directory, the path an import was read
 * from, the home directory or the OS user.
 *
 * The data set: the demo district's two nights as district-a (plus a bundle that
 * fails to read), night 1 as district-b, and two tenants whose second night goes
 * On Hold (thresholds at 0 %): district-c's approved by the OS user's name,
 * district-d's left On Hold. All imported through the real CLI.
 */
import { rm, writeFile } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogRecord, OutcomeCountsJson, Scope, SyncRun } from '../../src/clickhouse/types.js'
import { loadConfig } from '../../src/config/config.js'
import { OUTCOMES, type Outcome } from '../../src/events/sync-log-event.js'
import { ENTITY_TYPES } from '../../src/events/change-event.js'
import { ApiTokens } from '../../src/http/api-tokens.js'
import {
  DrillDownSchema,
  LogCountSchema,
  LogPageSchema,
  SchoolListSchema,
  SyncListSchema,
  SyncRunSchema,
  SyncSummarySchema,
} from '../../src/http/schemas.js'
import { buildServer, type SynclogServer } from '../../src/http/server.js'
import { silentLogger } from '../support/silent-logger.js'
import { openStore, type OpenStore } from '../../src/pipeline/open-store.js'
import { synclog, tempDir } from '../support/cli.js'
import { busiestCrossSchool, demoNights, importDemoDataSet } from '../support/demo-data-set.js'

const nights = demoNights()
const USER = userInfo().username
const HOME = homedir()

let dir: string
let data: string
let opened: OpenStore
let server: SynclogServer
let base: string
let operator: string
let allRows: LogRecord[]
let syncs: SyncRun[]
/** Every body any request of these tests got back, with the request that got it. */
const bodies: { path: string; text: string }[] = []

async function get(path: string, bearer: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${bearer}` } })
  const text = await res.text()
  bodies.push({ path, text })
  return { status: res.status, text }
}

async function getJson<T>(path: string, bearer: string, schema: { parse: (v: unknown) => T }): Promise<T> {
  const answer = await get(path, bearer)
  expect(answer.status, `${path}: ${answer.text.slice(0, 300)}`).toBe(200)
  return schema.parse(JSON.parse(answer.text))
}

/** A token of the scope, made through the same class `synclog token create` uses (the CLI is exercised elsewhere). */
async function createToken(name: string, scope: Scope): Promise<string> {
  return (await ApiTokens.inDataDir(data).create(name, scope)).token
}

async function importNight(night: 'night1' | 'night2', tenant: string, env: Record<string, string> = {}): Promise<number | null> {
  return (await synclog(['import', join(dir, night), '--tenant', tenant, '--data', data], { env })).code
}

const HOLD_EVERYTHING = { SYNCLOG_HOLD_DELETE_PERCENT: '0', SYNCLOG_HOLD_UPDATE_PERCENT: '0' }
const sides = ['either', 'home', 'serving'] as const
type Side = (typeof sides)[number]

function inSchool(r: LogRecord, id: string, side: Side): boolean {
  if (side === 'home') return r.homeSchoolId === id
  if (side === 'serving') return r.servingSchoolId === id
  return r.homeSchoolId === id || r.servingSchoolId === id
}

/** Whole numbers in a text, after taking out the sync ids and instants (which are not counts). */
function numbersIn(text: string): number[] {
  const plain = syncs.reduce((t, s) => t.split(s.syncId).join(' '), text).replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z?/g, ' ')
  return (plain.match(/\d+/g) ?? []).map(Number)
}

const sum = (counts: Record<string, OutcomeCountsJson>, pick: (c: OutcomeCountsJson) => number): number =>
  Object.values(counts).reduce((n, c) => n + pick(c), 0)

/** The outcome sets a drill-down can ask for: the Total, each outcome, Duplicates. */
const CELLS: { label: string; outcomes: readonly Outcome[] | undefined; of: (c: OutcomeCountsJson) => number }[] = [
  { label: 'Total', outcomes: undefined, of: (c) => c.total },
  ...OUTCOMES.map((o) => ({ label: o, outcomes: [o] as const, of: (c: OutcomeCountsJson) => countOf(c, o) })),
  { label: 'Duplicates', outcomes: ['Merged', 'Excluded'] as const, of: (c) => c.merged + c.excluded },
]

function countOf(c: OutcomeCountsJson, outcome: Outcome): number {
  switch (outcome) {
    case 'New':
      return c.new
    case 'Updated':
      return c.updated
    case 'No Change':
      return c.noChange
    case 'Deleted':
      return c.deleted
    case 'Skipped':
      return c.skipped
    case 'Invalid':
      return c.invalid
    case 'Merged':
      return c.merged
    case 'Excluded':
      return c.excluded
  }
}

const q = (params: Record<string, string | readonly string[]>): string => {
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) sp.append(k, one)
  return sp.toString()
}

beforeAll(async () => {
  dir = await tempDir('scope-leaks')
  data = (await importDemoDataSet(dir, nights)).data
  await writeFile(join(dir, 'broken.zip'), 'PK\u0003\u0004 this is not a zip')
  expect((await synclog(['import', join(dir, 'broken.zip'), '--tenant', 'district-a', '--data', data])).code).toBe(2)
  for (const tenant of ['district-c', 'district-d']) {
    expect(await importNight('night1', tenant)).toBe(0)
    expect(await importNight('night2', tenant, HOLD_EVERYTHING)).toBe(3)
  }
  operator = await createToken('operator', {})

  opened = await openStore(loadConfig({ data }, {}), silentLogger(), 'scope-leaks')
  server = await buildServer({
    store: opened.store,
    tokens: ApiTokens.inDataDir(data),
    logger: silentLogger(),
    version: 'test',
    dataDir: data,
  })
  base = await server.app.listen({ host: '127.0.0.1', port: 0 })
  syncs = (await getJson('/api/v1/syncs', operator, SyncListSchema)).syncs
  const held = syncs.find((s) => s.tenant === 'district-c' && s.status === 'On Hold')!
  await opened.close()
  await server.app.close()
  // The decision the CLI records when told the OS user's name (as it did by default before).
  expect((await synclog(['approve', held.syncId, '--by', USER, '--reason', 'checked', '--data', data])).code).toBe(0)

  opened = await openStore(loadConfig({ data }, {}), silentLogger(), 'scope-leaks')
  server = await buildServer({
    store: opened.store,
    tokens: ApiTokens.inDataDir(data),
    logger: silentLogger(),
    version: 'test',
    dataDir: data,
  })
  base = await server.app.listen({ host: '127.0.0.1', port: 0 })
  syncs = (await getJson('/api/v1/syncs', operator, SyncListSchema)).syncs
  allRows = []
  for (let cursor: string | null = ''; cursor !== null;) {
    const params: Record<string, string> = { from: '1900-01-01', includeRejected: 'true', limit: '10000' }
    if (cursor !== '') params.cursor = cursor
    const page = await getJson(`/api/v1/log?${q(params)}`, operator, LogPageSchema)
    allRows.push(...page.rows)
    cursor = page.nextCursor
  }
}, 300_000)

afterAll(async () => {
  await server?.app.close()
  await opened?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('the data set', () => {
  it('has a failed sync naming its bundle, a sync On Hold, one approved by the OS user, and schools with students served elsewhere', () => {
    expect(syncs.find((s) => s.tenant === 'district-a' && s.status === 'Failed')?.message).toContain('broken.zip')
    expect(syncs.find((s) => s.tenant === 'district-d' && s.status === 'On Hold')?.message).toMatch(/would (delete|update) \d+ of \d+/)
    expect(syncs.filter((s) => s.tenant === 'district-c').map((s) => s.message)).toContain('approved by an operator')
    expect(busiestCrossSchool(allRows, 'district-a')).not.toBe('')
  })
})

describe('what a school token reads', () => {
  it('holds no number beyond its own school, in any sync, summary, drill-down, count or school list', async () => {
    let checkedCells = 0
    for (const tenant of ['district-a', 'district-c', 'district-d']) {
      const tenantSyncs = syncs.filter((s) => s.tenant === tenant)
      const bySchool = new Map<string, Map<string, Record<string, OutcomeCountsJson>>>()
      for (const sync of tenantSyncs) {
        const summary = await getJson(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary?bySchool=true`, operator, SyncSummarySchema)
        for (const [school, entry] of Object.entries(summary.bySchool ?? {})) {
          if (school === '(district)') continue
          const of = bySchool.get(school) ?? new Map<string, Record<string, OutcomeCountsJson>>()
          of.set(sync.syncId, entry.counts)
          bySchool.set(school, of)
        }
      }
      const schools = [...bySchool.keys()].sort()
      expect(schools.length, tenant).toBeGreaterThan(2)
      const cross = busiestCrossSchool(allRows, 'district-a')
      for (const school of schools) {
        for (const side of tenant === 'district-a' && school === cross ? sides : (['either'] as const)) {
          const token = await createToken(`${tenant}-${school}-${side}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64), {
            tenant,
            school: { id: school, side },
          })
          const own = (syncId: string): Record<string, OutcomeCountsJson> => bySchool.get(school)?.get(syncId) ?? {}

          const listed = (await getJson('/api/v1/syncs', token, SyncListSchema)).syncs
          expect(listed.map((s) => s.syncId).sort()).toEqual(tenantSyncs.map((s) => s.syncId).sort())
          for (const run of listed) {
            const counts = own(run.syncId)
            const bound = sum(counts, (c) => c.total)
            expect(run.total, run.syncId).toBe(bound)
            expect(run.errors, run.syncId).toBe(sum(counts, (c) => c.skipped + c.invalid + c.excluded))
            for (const n of numbersIn(run.message)) expect(n, `${school} ${run.message}`).toBeLessThanOrEqual(bound)
            const one = await getJson(`/api/v1/syncs/${encodeURIComponent(run.syncId)}`, token, SyncRunSchema)
            expect(one.message).toBe(run.message)
            const summary = await getJson(`/api/v1/syncs/${encodeURIComponent(run.syncId)}/summary?bySchool=true`, token, SyncSummarySchema)
            expect(summary.counts, run.syncId).toEqual(counts)
            expect(Object.keys(summary.bySchool ?? {}).filter((k) => k !== school)).toEqual([])
            for (const n of numbersIn(summary.message)) expect(n).toBeLessThanOrEqual(bound)
          }

          // Every cell of the first district's second night (every outcome occurs in it).
          const drilled = tenant === 'district-a' && side === 'either' ? tenantSyncs.filter((s) => s.status !== 'Failed').slice(0, 1) : []
          for (const sync of drilled) {
            for (const entity of ENTITY_TYPES) {
              for (const cell of CELLS) {
                const expected = cell.of(own(sync.syncId)[entity] ?? ZERO)
                const params: Record<string, string | readonly string[]> = { entity, limit: '1' }
                if (cell.outcomes !== undefined) params.outcome = cell.outcomes
                const drill = await getJson(
                  `/api/v1/syncs/${encodeURIComponent(sync.syncId)}/drilldown?${q(params)}`,
                  token,
                  DrillDownSchema,
                )
                const label = `${school} ${sync.syncId} ${entity} ${cell.label}: ${drill.note}`
                expect(drill.count, label).toBe(expected)
                for (const n of numbersIn(drill.note)) expect(n, label).toBeLessThanOrEqual(expected)
                checkedCells++
              }
            }
          }

          const filters = { from: '1900-01-01', includeRejected: 'true' }
          const mine = allRows.filter((r) => r.tenant === tenant && inSchool(r, school, side))
          const counted = await getJson(`/api/v1/log/count?${q(filters)}`, token, LogCountSchema)
          expect(counted.rows, `${school} ${side}`).toBe(mine.length)
          expect(counted.records).toBe(new Set(mine.map((r) => `${r.entity}|${r.sourcedId}`)).size)
          const listedSchools = (await getJson('/api/v1/schools', token, SchoolListSchema)).schools
          expect(listedSchools.map((s) => `${s.tenant}|${s.schoolId}`)).toEqual([`${tenant}|${school}`])
          for (const sync of tenantSyncs) {
            const report = await get(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/report.csv`, token)
            expect(report.status).toBe(200)
          }
          await get(`/api/v1/log.csv?${q(filters)}`, token)
          await get(`/api/v1/syncs/${encodeURIComponent(join(data, 'nothing'))}`, token)
        }
      }
    }
    expect(checkedCells).toBeGreaterThan(200)
  }, 600_000)
})

const ZERO: OutcomeCountsJson = {
  total: 0,
  new: 0,
  updated: 0,
  noChange: 0,
  deleted: 0,
  skipped: 0,
  invalid: 0,
  duplicates: 0,
  merged: 0,
  excluded: 0,
}

describe('what any token reads', () => {
  it('names no server directory, import path or OS user, in any answer, error, page or document', async () => {
    const district = await createToken('district-a', { tenant: 'district-a' })
    for (const token of [operator, district]) {
      for (const path of ['/api/v1/syncs', '/api/v1/rollups/daily', '/api/v1/schools', '/api/v1/me', '/openapi.json', '/', '/ui/app.js'])
        await get(path, token)
      for (const sync of syncs) {
        await get(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}`, token)
        await get(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/summary?bySchool=true`, token)
        await get(`/api/v1/syncs/${encodeURIComponent(sync.syncId)}/report.csv`, token)
      }
      for (const path of [join(data, 'api-tokens.json'), `${HOME}/x`, data, '../../../../etc/passwd', '%2e%2e%2f']) {
        await get(`/api/v1/syncs/${encodeURIComponent(path)}`, token)
        await get(`/api/v1/log?${q({ cursor: path })}`, token)
        await get(`/api/v1/history?${q({ kind: 'record', id: path })}`, token)
      }
    }
    const failed = syncs.find((s) => s.status === 'Failed')!
    const asOperator = await getJson(`/api/v1/syncs/${encodeURIComponent(failed.syncId)}`, operator, SyncRunSchema)
    expect(asOperator.message).toMatch(/^cannot read the bundle broken\.zip\b/)

    expect(bodies.length).toBeGreaterThan(500)
    const userWord = new RegExp(`(^|[^A-Za-z0-9_])${USER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z0-9_]|$)`)
    for (const { path, text } of bodies) {
      expect(text.includes(data), `${path} names the data directory`).toBe(false)
      expect(text.includes(dir), `${path} names the import's directory`).toBe(false)
      if (HOME.length > 1) expect(text.includes(HOME), `${path} names the home directory`).toBe(false)
      // The page's own script and the API's description are the same on every machine: a word in
      // them ("root cause") is not the user's name. The paths above are still checked in them.
      if (!path.startsWith('/ui/') && path !== '/openapi.json')
        expect(userWord.test(text), `${path} names the OS user ${USER}: ${text.slice(0, 200)}`).toBe(false)
    }
  }, 120_000)
})
