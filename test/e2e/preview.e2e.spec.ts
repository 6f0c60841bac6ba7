/**
 * Previews: `synclog import --preview` and `POST /api/v1/imports?preview=true` compute a
 * whole sync (counts, actions, errors) and apply nothing; the preview is then applied
 * (`approve`, only while no other sync of the tenant was applied since) or discarded
 * (`reject`), each with a reason. Expected counts come from the bundles' own tables, not
 * from synclog's SQL; "nothing applied" is shown by the applied log staying the same and
 * by night 1 imported again finding every record unchanged.
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EntityType } from '../../src/events/change-event.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import type { OneRosterTables } from '../../src/demo/district.js'
import { createToken, startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { demoNights } from '../support/demo-data-set.js'
import { writeZip } from '../support/zip-builder.js'

interface Summary {
  readonly syncId: string
  readonly status: string
  readonly message: string
  readonly endedAt: string
  readonly reviewedBy: string
  readonly reviewedAt: string
  readonly reviewReason: string
  readonly counts: Record<string, { total: number; deleted: number; noChange: number }>
}

const nights = demoNights()
let dir = ''
let data = ''

const cli = async (args: readonly string[]) => synclog([...args, '--data', data], { timeoutMs: 120_000 })

async function importJson(bundle: string, ...extra: string[]): Promise<{ code: number | null; summary: Summary }> {
  const run = await cli(['import', join(dir, bundle), '--tenant', 'district-a', '--format', 'json', ...extra])
  if (run.stdout.trim() === '') throw new Error(`synclog import exited with ${run.code}: ${run.stderr}`)
  return { code: run.code, summary: JSON.parse(run.stdout) as Summary }
}

/** Every applied row of the tenant's log (the default view), as JSON lines. */
async function appliedLog(): Promise<Record<string, string>[]> {
  const run = await cli(['log', '--tenant', 'district-a', '--from', '2000-01-01', '--format', 'json'])
  expect(run.code).toBe(0)
  return jsonLines(run.stdout)
}

const FILES: Readonly<Record<EntityType, keyof OneRosterTables>> = {
  org: 'orgs',
  academicSession: 'academicSessions',
  course: 'courses',
  user: 'users',
  class: 'classes',
  enrollment: 'enrollments',
}

/**
 * What a full sync of `next` over `prev` counts per entity, from the bundles' own tables:
 * every row it carries, plus every record of `prev` it no longer carries (deleted by absence).
 */
function totalsOf(next: OneRosterTables, prev: OneRosterTables): Record<string, number> {
  const totals: Record<string, number> = {}
  for (const [entity, file] of Object.entries(FILES)) {
    const carried = new Set(next[file].map((r) => r['sourcedId']))
    totals[entity] = next[file].length + prev[file].filter((r) => !carried.has(r['sourcedId'])).length
  }
  return totals
}

/** Enrollments of night 1 that night 2 no longer carries: what a full night 2 deletes over night 1. */
function droppedEnrollments(): number {
  const kept = new Set(nights.night2.enrollments.map((e) => e['sourcedId']))
  return nights.night1.enrollments.filter((e) => !kept.has(e['sourcedId'])).length
}

beforeAll(async () => {
  dir = await tempDir('preview')
  data = join(dir, 'data')
  await writeOneRosterBundle(join(dir, 'night1'), nights.night1)
  await writeOneRosterBundle(join(dir, 'night2'), nights.night2)
  const first = await importJson('night1')
  expect(first.summary.status).toBe('Completed')
}, 240_000)

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('synclog import --preview', () => {
  let before: Record<string, string>[] = []
  let preview: Summary

  it('computes the whole sync, counted as the bundle says, and exits 0 with the status Preview', async () => {
    before = await appliedLog()
    const run = await importJson('night2', '--preview')
    expect(run.code).toBe(0)
    preview = run.summary
    expect(preview.status).toBe('Preview')
    expect(preview.endedAt).toBe('')
    const totals = totalsOf(nights.night2, nights.night1)
    for (const [entity, total] of Object.entries(totals)) expect(preview.counts[entity]?.total, entity).toBe(total)
    expect(preview.counts['enrollment']?.deleted).toBe(droppedEnrollments())
  }, 120_000)

  it('leaves the applied log as it was and shows the proposal only when asked, marked Proposed', async () => {
    expect(await appliedLog()).toEqual(before)
    const proposed = await cli(['log', '--sync', preview.syncId, '--include-proposed', '--format', 'json'])
    const rows = jsonLines(proposed.stdout)
    expect(rows.length).toBeGreaterThan(0)
    expect(new Set(rows.map((r) => r['state']))).toEqual(new Set(['Proposed']))
    expect(rows.filter((r) => r['entity'] === 'enrollment' && r['outcome'] === 'Deleted')).toHaveLength(droppedEnrollments())
  }, 120_000)

  it('discards the preview with a reason, and the roster is still night 1: importing night 1 again changes nothing', async () => {
    const refused = await cli(['reject', preview.syncId])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/--reason/)
    const discarded = await cli(['reject', preview.syncId, '--reason', 'wrong term exported'])
    expect(discarded.code).toBe(0)
    expect(discarded.stdout).toMatch(/is now Rejected/)
    const again = await importJson('night1')
    for (const [entity, total] of Object.entries(totalsOf(nights.night1, nights.night1))) {
      expect(again.summary.counts[entity], entity).toMatchObject({ total, noChange: total })
    }
  }, 240_000)

  it('applies a preview approved with a reason, and records who, when and why', async () => {
    const { summary } = await importJson('night2', '--preview')
    const approved = await cli(['approve', summary.syncId, '--reason', 'checked with the registrar', '--by', 'dana'])
    expect(approved.code).toBe(0)
    const shown = JSON.parse((await cli(['summary', summary.syncId, '--format', 'json'])).stdout) as Summary
    expect(shown).toMatchObject({ status: 'Completed with Errors', reviewedBy: 'dana', reviewReason: 'checked with the registrar' })
    expect(Date.parse(shown.reviewedAt)).toBeGreaterThanOrEqual(Date.parse(shown.endedAt))
    const applied = (await appliedLog()).filter((r) => r['syncId'] === summary.syncId)
    expect(applied.filter((r) => r['entity'] === 'enrollment' && r['outcome'] === 'Deleted')).toHaveLength(droppedEnrollments())
    expect(new Set(applied.map((r) => r['state']))).toEqual(new Set(['Applied']))
  }, 240_000)

  it('refuses to apply a preview once another sync of the tenant was applied, saying why', async () => {
    const { summary } = await importJson('night1', '--preview')
    await importJson('night2')
    const late = await cli(['approve', summary.syncId, '--reason', 'too late'])
    expect(late.code).toBe(1)
    expect(late.stderr).toMatch(/out of date: 1 sync was applied to tenant district-a since it was computed/)
    const still = JSON.parse((await cli(['summary', summary.syncId, '--format', 'json'])).stdout) as Summary
    expect(still.status).toBe('Preview')
  }, 240_000)
})

describe('POST /api/v1/imports?preview=true', () => {
  let serve: RunningServe | undefined
  let token = ''
  let importer = ''

  beforeAll(async () => {
    // Night 1 applied, whatever ran before: the upload below previews night 2 over it.
    expect((await importJson('night1')).code).toBe(0)
    token = await createToken(data, 'reviewer-a', '--tenant', 'district-a', '--role', 'reviewer')
    importer = await createToken(data, 'sis-a', '--tenant', 'district-a', '--role', 'importer')
    serve = await startServe(data)
  }, 120_000)

  afterAll(async () => {
    await serve?.stop()
  })

  const api = async (method: string, path: string, body?: unknown, secret = token) => {
    const res = await fetch(`${serve!.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, json: (await res.json()) as Record<string, unknown> }
  }

  async function upload(folder: string): Promise<string> {
    const zip = join(dir, `${folder}-${Date.now()}.zip`)
    const names = (await readdir(join(dir, folder))).sort()
    await writeZip(zip, await Promise.all(names.map(async (name) => ({ name, content: await readFile(join(dir, folder, name)) }))))
    const body = await readFile(zip)
    const sent = await new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest(
        `${serve!.base}/api/v1/imports?preview=true`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${importer}`, 'content-type': 'application/zip', 'content-length': body.length },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8').on('data', (d: string) => (text += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }))
        },
      )
      req.on('error', reject)
      req.end(body)
    })
    expect(sent.status, JSON.stringify(sent.json)).toBe(202)
    for (let i = 0; i < 20; i++) {
      const got = await api('GET', `/api/v1/imports/${String(sent.json['importId'])}?wait=10`, undefined, importer)
      if (got.json['state'] === 'done') return String(got.json['syncId'])
      if (got.json['state'] === 'failed') throw new Error(`the import failed: ${JSON.stringify(got.json)}`)
    }
    throw new Error('the upload was not imported within 200 s')
  }

  it('previews an upload, hides its rows from the default log, and applies it on a reviewer’s approval with a reason', async () => {
    const syncId = await upload('night2')
    const run = await api('GET', `/api/v1/syncs/${encodeURIComponent(syncId)}`)
    expect(run.json).toMatchObject({ status: 'Preview', endedAt: '', reviewedBy: '' })

    const hidden = await api('GET', `/api/v1/log?sync=${encodeURIComponent(syncId)}`)
    expect(hidden.json['rows']).toEqual([])
    const shown = await api('GET', `/api/v1/log?sync=${encodeURIComponent(syncId)}&includeProposed=true&limit=10000`)
    const rows = shown.json['rows'] as { state: string; entity: string; outcome: string }[]
    expect(rows.filter((r) => r.entity === 'enrollment' && r.outcome === 'Deleted')).toHaveLength(droppedEnrollments())
    expect(new Set(rows.map((r) => r.state))).toEqual(new Set(['Proposed']))

    const noReason = await api('POST', `/api/v1/syncs/${encodeURIComponent(syncId)}/approve`, {})
    expect(noReason.status).toBe(400)
    expect(JSON.stringify(noReason.json)).toMatch(/reason/)
    const blank = await api('POST', `/api/v1/syncs/${encodeURIComponent(syncId)}/approve`, { reason: '   ' })
    expect(blank.status).toBe(400)

    const approved = await api('POST', `/api/v1/syncs/${encodeURIComponent(syncId)}/approve`, { reason: 'matches the SIS report' })
    expect(approved.status).toBe(200)
    expect(approved.json).toMatchObject({
      status: 'Completed with Errors',
      reviewedBy: 'token reviewer-a',
      reviewReason: 'matches the SIS report',
    })
    expect(Date.parse(String(approved.json['reviewedAt']))).not.toBeNaN()
    const applied = await api('GET', `/api/v1/log?sync=${encodeURIComponent(syncId)}&limit=10000`)
    expect(new Set((applied.json['rows'] as { state: string }[]).map((r) => r.state))).toEqual(new Set(['Applied']))
  }, 300_000)
})
