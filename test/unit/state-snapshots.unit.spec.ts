import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serialize } from 'node:v8'
import { afterAll, describe, expect, it } from 'vitest'
import { ENTITY_TYPES } from '../../src/events/change-event.js'
import { DEFAULT_FOLD_OPTIONS, type ProcessorState, type TenantState } from '../../src/processor/index.js'
import type { Indexes } from '../../src/processor/roster-store.js'
import { StateSnapshots } from '../../src/state/state-snapshots.js'
import { FULL, Given, SyncScript, smallDistrict, sync } from '../support/sis.js'

const THRESHOLDS = { ...DEFAULT_FOLD_OPTIONS, holdThresholds: { deletePercent: 10, updatePercent: 75 } }

/** A district of ten students, then a night dropping two of them, On Hold. */
function districtWithAHold(): Given {
  const given = new Given(THRESHOLDS)
  given.when(smallDistrict(sync(), { students: 10 }).end())
  given.when(smallDistrict(sync(FULL, 'big-drop'), { students: 8 }).end())
  return given
}

function tenantOf(state: ProcessorState): TenantState {
  const t = state.tenants.get('district-a')
  if (!t) throw new Error('no district-a in the state')
  return t
}

/** Each index as key → sorted ids: what the index says, whatever order its groups were filled in. */
function indexContent(indexes: Indexes): Record<string, [string, string[]][]> {
  const out: Record<string, [string, string[]][]> = {}
  for (const [name, index] of Object.entries(indexes)) {
    out[name] = [...index].map(([key, ids]): [string, string[]] => [key, [...ids].sort()]).sort(([a], [b]) => (a < b ? -1 : 1))
  }
  return out
}

function expectSameTenant(loaded: TenantState, saved: TenantState): void {
  for (const entity of ENTITY_TYPES) expect(loaded.tables[entity]).toEqual(saved.tables[entity])
  expect(indexContent(loaded.indexes)).toEqual(indexContent(saved.indexes))
  expect(loaded.syncs).toEqual(saved.syncs)
  expect([...loaded.held.keys()]).toEqual([...saved.held.keys()])
  expect([...loaded.pending.keys()]).toEqual([...saved.pending.keys()])
}

describe('state snapshots', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  async function dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'synclog-state-snapshots-'))
    dirs.push(dir)
    return dir
  }

  it('loads a saved tenant with the same roster, indexes, syncs and holds, and folds on from it the same', async () => {
    const given = districtWithAHold()
    expect(tenantOf(given.state).held.size).toBe(1)
    const snapshots = new StateSnapshots(await dataDir())
    await snapshots.save(tenantOf(given.state))
    const loaded = await snapshots.loadAll()
    expectSameTenant(tenantOf(loaded), tenantOf(given.state))

    const restored = new Given(THRESHOLDS)
    for (const [tenant, t] of loaded.tenants) restored.state.tenants.set(tenant, t)
    const approve = (g: Given) =>
      g.when([
        {
          type: 'SyncApproved',
          eventId: 'a1',
          tenant: 'district-a',
          syncId: 'big-drop',
          app: 'cli',
          occurredAt: '2024-11-01T00:00:00.000Z',
          by: 'registrar',
        },
      ])
    const approved = approve(given).events
    expect(approved.length).toBeGreaterThan(0)
    expect(approve(restored).events).toEqual(approved)
    const next = smallDistrict(sync(), { students: 9 }).end()
    expect(restored.when(next).events).toEqual(given.when(next).events)
  })

  it('reads a snapshot in the format older versions wrote, and saves it in the current one', async () => {
    const given = districtWithAHold()
    const dir = await dataDir()
    const snapshots = new StateSnapshots(dir)
    await mkdir(join(dir, 'state'), { recursive: true })
    await writeFile(join(dir, 'state', 'district-a.v8'), serialize({ format: 'synclog-state/1', tenant: tenantOf(given.state) }))
    const loaded = await snapshots.loadAll()
    expectSameTenant(tenantOf(loaded), tenantOf(given.state))

    await snapshots.save(tenantOf(loaded))
    expect((await readFile(join(dir, 'state', 'district-a.v8'))).subarray(0, 16).toString()).toBe('synclog-state/2\n')
    expect(await readdir(join(dir, 'state'))).toEqual(['district-a.v8'])
  })

  it('finds a duplicate enrollment in a sync left open by an older version, which kept its enrollments by class, user and role', async () => {
    const given = new Given(THRESHOLDS)
    given.when(smallDistrict(sync(), { students: 3 }).end())
    // A night taken in up to its last enrollment when the older version saved its state.
    const night = smallDistrict(sync(FULL, 'open-night'), { students: 3 })
    given.when(night.events)
    const open = tenantOf(given.state).pending.get('open-night')!
    const older = { ...open, enrollmentKeys: new Map<string, string>() } as Record<string, unknown>
    for (const c of open.candidates.enrollment.values()) {
      const e = c.record as { classSourcedId: string; userSourcedId: string; role: string }
      ;(older.enrollmentKeys as Map<string, string>).set(JSON.stringify([e.classSourcedId, e.userSourcedId, e.role]), c.sourcedId)
    }
    delete older.enrollmentsByUser
    const saved: TenantState = { ...tenantOf(given.state), pending: new Map([['open-night', older as never]]) }
    const snapshots = new StateSnapshots(await dataDir())
    await snapshots.save(saved)

    const restored = new Given(THRESHOLDS)
    for (const [tenant, t] of await snapshots.loadAll().then((s) => s.tenants)) restored.state.tenants.set(tenant, t)
    // The rest of the night: the same student enrolled again under another id, then its end.
    const again = new SyncScript('district-a', 'open-night', night.app, night.at, FULL).upsert('enrollment', 'e-stu2-again', {
      classSourcedId: 'k1',
      schoolSourcedId: 'sch1',
      userSourcedId: 'stu2',
      role: 'student',
      beginDate: '2024-09-01',
      endDate: '2025-01-15',
    })
    const rest = [...again.events.slice(1).map((e) => ({ ...e, eventId: `late-${e.eventId}` })), ...night.end().slice(-1)]
    const out = restored.when(rest)
    expect(out.rowsWith('Excluded')).toEqual([
      expect.objectContaining({
        sourcedId: 'e-stu2-again',
        message: expect.stringMatching(/same class, user and role as enrollment 'e-stu2'/),
      }),
    ])
    expect(out.events).toEqual(given.when(rest).events)
  })

  it('refuses a snapshot cut short rather than loading part of a roster', async () => {
    const given = districtWithAHold()
    const dir = await dataDir()
    const snapshots = new StateSnapshots(dir)
    await snapshots.save(tenantOf(given.state))
    const path = join(dir, 'state', 'district-a.v8')
    const size = (await readFile(path)).length
    await truncate(path, size - 10)
    await expect(snapshots.loadAll()).rejects.toMatchObject({ code: 'STATE_CORRUPT' })
  })
})
