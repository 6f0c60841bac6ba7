/**
 * Ids are data, never keys of plain objects, through `synclog ingest`: NDJSON
 * change events whose tenants, sync ids, sourcedIds, student and section numbers
 * and metadata keys are hostile (`__proto__`, `constructor`, every built-in
 * property name, numeric strings, non-ASCII, quotes, commas, outer spaces, a
 * 300-character tenant), two nights (a full sync, then a delta that deletes and
 * updates them), read back through the CLI and the HTTP API.
 */
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { apiGet, apiJson, createToken, startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir, type CliRun } from '../support/cli.js'
import { hostileIds, hostileMetadata, hostileSchoolEvents, outcomeCounts, type Summary } from '../support/hostile-ids.js'
import { DELTA, FULL, SyncScript, student } from '../support/sis.js'

const YEAR = new Date().getUTCMonth() >= 6 ? new Date().getUTCFullYear() + 1 : new Date().getUTCFullYear()
const START = `${YEAR - 1}-08-15`
const END = `${YEAR}-06-15`

/** Tenants and their two sync ids: hostile too, and every sync id distinct. ('.' and '..' are left out: a URL path cannot carry them.) */
const TENANTS = [
  ['__proto__', 'then', 'toJSON'],
  ['constructor', '__defineGetter__', 'length'],
  ['toString', 'prototype', 'hasOwnProperty'],
  ['hasOwnProperty', '-1', '1e3'],
  ['valueOf', 'Infinity', 'NaN'],
  ['0', 'sch:001', 'a/b'],
  ['NaN', '学生', 'ученик'],
  ['a/b', "o'brien", 'say "hi"'],
  ['ñandú', 'a b', '%2F'],
  ['say "hi"', '__lookupGetter__', 'isPrototypeOf'],
  [' lead', 'valueOf', 'constructor'],
  ['x'.repeat(300), '__proto__', 'toString'],
] as const
const IDS = hostileIds()
/** Each tenant's schools: a share of the corpus, so every hostile id is a school somewhere. */
const schoolsOf = (k: number): string[] => IDS.filter((_, i) => i % TENANTS.length === k)
const DISTRICT = 'district'
const deletedOf = (k: number): Set<string> => new Set(schoolsOf(k).filter((_, i) => i % 5 === 1))
const retaggedOf = (k: number): Set<string> => new Set(schoolsOf(k).filter((id, i) => i % 3 === 2 && !deletedOf(k).has(id)))

function at(tenant: string, syncId: string, day: number, modes = FULL): SyncScript {
  return new SyncScript(tenant, syncId, 'sis-events', `${YEAR - 1}-10-${String(day).padStart(2, '0')}T02:00:00.000Z`, modes)
}

const night1: ChangeEvent[] = []
const night2: ChangeEvent[] = []
for (const [k, [tenant, first, second]] of TENANTS.entries()) {
  const s = hostileSchoolEvents(at(tenant, first, 1), DISTRICT, schoolsOf(k), { start: START, end: END })
  // A blank sourcedId is a missing one (docs/sync-semantics.md): Skipped, naming the field.
  if (k === 0) s.upsert('user', '   ', student('Blank', 'Id', schoolsOf(0)[0]!, 'blank'))
  night1.push(...s.end())
  const delta = at(tenant, second, 2, DELTA)
  for (const id of deletedOf(k)) delta.delete('enrollment', id)
  for (const id of retaggedOf(k)) delta.upsert('user', id, student('Sam', `Student ${id}`, id, id), { metadata: hostileMetadata(id, true) })
  night2.push(...delta.end())
}

let dir = ''
let data = ''
let ingest1: CliRun
let ingest2: CliRun
const cli = (args: readonly string[]): Promise<CliRun> => synclog([...args, '--data', data])
const counts = outcomeCounts

beforeAll(async () => {
  dir = await tempDir('hostile-ingest')
  data = join(dir, 'data')
  const lines = night1.map((e) => JSON.stringify(e))
  // A line with an empty tenant is refused by line number and field; the rest are folded.
  lines.splice(1, 0, JSON.stringify({ ...night1[1], tenant: '' }))
  await writeFile(join(dir, 'night1.ndjson'), `${lines.join('\n')}\n`)
  await writeFile(join(dir, 'night2.ndjson'), `${night2.map((e) => JSON.stringify(e)).join('\n')}\n`)
  ingest1 = await cli(['ingest', join(dir, 'night1.ndjson')])
  ingest2 = await cli(['ingest', join(dir, 'night2.ndjson')])
}, 120_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('ingesting change events whose tenants, sync ids and ids are hostile', () => {
  it('folds both files, refusing only the line with an empty tenant, by number and field', () => {
    expect(ingest1.code, ingest1.stderr).toBe(0)
    expect(ingest1.stderr.trim().split('\n')).toEqual([expect.stringMatching(/night1\.ndjson:2: tenant: /)])
    expect(ingest2.code, ingest2.stderr).toBe(0)
    expect(ingest2.stderr).toBe('')
    for (const [, first, second] of TENANTS) {
      expect(ingest1.stdout).toContain(`${first}\t`)
      expect(ingest2.stdout).toContain(`${second}\tCompleted\n`)
    }
  })

  it('lists every sync under its own tenant with the documented status', async () => {
    const run = await cli(['syncs', '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    const syncs = JSON.parse(run.stdout) as { tenant: string; syncId: string; status: string }[]
    const expected = TENANTS.flatMap(([tenant, first, second], k) => [
      `${tenant}|${first}|${k === 0 ? 'Completed with Errors' : 'Completed'}`,
      `${tenant}|${second}|Completed`,
    ])
    expect(syncs.map((s) => `${s.tenant}|${s.syncId}|${s.status}`).sort()).toEqual(expected.sort())
  })

  it('logs every hostile id whole, under its own tenant, and the blank one as Skipped naming sourcedId', async () => {
    const run = await cli(['log', '--from', '2000-01-01', '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    const rows = jsonLines(run.stdout)
    for (const [k, [, first, second]] of TENANTS.entries()) {
      const created = rows.filter((r) => r.syncId === first && r.action === 'Created Roster')
      expect(new Set(created.map((r) => r.sourcedId)), first).toEqual(new Set(schoolsOf(k)))
      for (const r of created)
        expect(r).toMatchObject({ studentNumber: r.sourcedId, sectionNumber: r.sourcedId, servingSchoolId: r.sourcedId })
      const deleted = rows.filter((r) => r.syncId === second && r.action === 'Deleted Roster')
      expect(new Set(deleted.map((r) => r.sourcedId)), second).toEqual(deletedOf(k))
      const retagged = rows.filter((r) => r.syncId === second && r.entity === 'user' && r.field === 'metadata.__proto__')
      expect(new Set(retagged.map((r) => r.sourcedId)), second).toEqual(retaggedOf(k))
    }
    const blank = rows.filter((r) => r.syncId === TENANTS[0][1] && r.outcome === 'Skipped')
    expect(blank).toEqual([
      expect.objectContaining({ entity: 'user', field: 'sourcedId', message: expect.stringContaining('sourcedId is required') }),
    ])
  })

  it('summarises a hostile tenant’s sync by school from the command line', async () => {
    for (const k of [0, TENANTS.length - 1]) {
      const run = await cli(['summary', TENANTS[k]![2], '--by-school', '--format', 'json'])
      expect(run.code, run.stderr).toBe(0)
      const summary = JSON.parse(run.stdout) as Summary
      expect(summary.tenant).toBe(TENANTS[k]![0])
      expect(summary.counts.enrollment).toEqual(counts({ deleted: deletedOf(k).size }))
      expect(new Set(Object.keys(summary.bySchool!))).toEqual(new Set([...deletedOf(k), ...retaggedOf(k)]))
    }
  })

  it('exports every tenant’s rows per school', async () => {
    const out = join(dir, 'exports')
    const run = await cli(['export', '--name', 'ingest', '--out', out, '--per-school', '--format', 'csv', '--since', '2000-01-01'])
    expect(run.code, run.stderr).toBe(0)
    const schools = TENANTS.reduce((n, _, k) => n + schoolsOf(k).length + 1, 0)
    expect((await readdir(out)).length).toBe(schools)
  })
})

describe('the HTTP API over those syncs', () => {
  let serve: RunningServe
  let operator = ''
  const q = (params: Record<string, string>): string => new URLSearchParams(Object.entries(params)).toString()
  const syncPath = (syncId: string, rest: string): string => `/api/v1/syncs/${encodeURIComponent(syncId)}/${rest}`
  /** Throws unless the answer is 200. */
  const get = (path: string): Promise<Response> => apiGet(serve.base, path, operator)
  const getJson = <T>(path: string): Promise<T> => apiJson<T>(serve.base, path, operator)

  beforeAll(async () => {
    operator = await createToken(data, 'operator')
    serve = await startServe(data)
  }, 90_000)

  afterAll(async () => {
    await serve?.stop()
  })

  it('answers each sync’s summary by school with the counts of its events', async () => {
    for (const [k, [tenant, first, second]] of TENANTS.entries()) {
      const s1 = await getJson<Summary>(syncPath(first, 'summary?bySchool=true'))
      const n = schoolsOf(k).length
      expect(s1).toMatchObject({ tenant, syncId: first })
      expect(s1.counts.enrollment, first).toEqual(counts({ new: 2 * n }))
      expect(s1.counts.user, first).toEqual(counts({ new: 2 * n, ...(k === 0 ? { skipped: 1 } : {}) }))
      expect(new Set(Object.keys(s1.bySchool!)), first).toEqual(new Set([...schoolsOf(k), '(district)']))
      const s2 = await getJson<Summary>(syncPath(second, 'summary?bySchool=true'))
      expect(s2.counts.enrollment, second).toEqual(counts({ deleted: deletedOf(k).size }))
      expect(s2.counts.user, second).toEqual(counts({ updated: retaggedOf(k).size }))
    }
  })

  it('drills into each deleted enrollment’s school and downloads each sync’s report', async () => {
    for (const [k, [, first, second]] of TENANTS.entries()) {
      for (const id of deletedOf(k)) {
        const drill = await getJson<{ count: number; rows: { sourcedId: string }[] }>(
          syncPath(second, `drilldown?${q({ entity: 'enrollment', outcome: 'Deleted', school: id })}`),
        )
        expect(drill.count, id).toBe(1)
        expect(
          drill.rows.map((r) => r.sourcedId),
          id,
        ).toEqual([id])
      }
      await get(syncPath(first, 'report.csv'))
      await get(syncPath(second, 'report.csv'))
    }
  })

  it('filters the log and the schools by a hostile tenant', async () => {
    const schools = await getJson<{ schools: { tenant: string; schoolId: string }[] }>('/api/v1/schools')
    for (const [k, [tenant, first]] of TENANTS.entries()) {
      expect(new Set(schools.schools.filter((s) => s.tenant === tenant).map((s) => s.schoolId)), tenant).toEqual(new Set(schoolsOf(k)))
      const page = await getJson<{ rows: { tenant: string; syncId: string }[] }>(
        `/api/v1/log?${q({ tenant, sync: first, limit: '10000' })}`,
      )
      expect(page.rows.length, tenant).toBeGreaterThan(0)
      for (const r of page.rows) expect(r).toMatchObject({ tenant, syncId: first })
      await get(`/api/v1/log.csv?${q({ tenant })}`)
    }
  })
})
