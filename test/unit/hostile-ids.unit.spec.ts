/**
 * Ids are data, never keys of plain objects: the fold, the readers and the state
 * snapshots given hundreds of hostile ids (every built-in property name,
 * numeric strings, non-ASCII, quotes, separators) as sourcedIds, tenants, sync
 * ids, student and section numbers and metadata column names.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { EntityType, SyncMode } from '../../src/events/change-event.js'
import type { SyncCounts } from '../../src/events/sync-log-event.js'
import { parseNdjsonLine } from '../../src/ndjson/read-ndjson.js'
import { Columns } from '../../src/oneroster/columns.js'
import { DEFAULT_FOLD_OPTIONS } from '../../src/processor/fold.js'
import { changedFields, type UserRecord } from '../../src/processor/records.js'
import { StateSnapshots } from '../../src/state/state-snapshots.js'
import { HOSTILE_METADATA_NAMES, hostileIds, hostileSchoolEvents, teacherIdOf } from '../support/hostile-ids.js'
import { FULL, DELTA, Given, SyncScript, section, student, teacher } from '../support/sis.js'

/** Every hostile id, commas and outer spaces included: change events carry lists as arrays. */
const IDS = hostileIds()
const DISTRICT = 'toString'
const SCHOOLS = IDS.filter((id) => id !== DISTRICT)
const START = '2024-08-15'
const END = '2025-06-15'

let day = 0
function nextSync(tenant: string, syncId: string, modes: Partial<Record<EntityType, SyncMode>> = FULL): SyncScript {
  day += 1
  return new SyncScript(tenant, syncId, 'sis-nightly', `2024-10-${String(day).padStart(2, '0')}T02:00:00.000Z`, modes)
}

const hostileSchools = (s: SyncScript, opts: { without?: ReadonlySet<string>; retagged?: ReadonlySet<string> } = {}): SyncScript =>
  hostileSchoolEvents(s, DISTRICT, SCHOOLS, opts)

const DELETED = new Set(SCHOOLS.filter((_, i) => i % 20 === 3))
const RETAGGED = new Set(SCHOOLS.filter((id, i) => i % 7 === 2 && !DELETED.has(id)))

describe('folding a district whose every id is a JavaScript property name or an odd string', () => {
  const given = new Given()
  const first = given.when(hostileSchools(nextSync('__proto__', 'constructor')).end())

  it('uses hundreds of distinct ids, the reported ones among them', () => {
    expect(SCHOOLS.length).toBeGreaterThan(300)
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty', 'valueOf', 'length', 'then', 'toJSON', 'a,b', ' both '])
      expect(SCHOOLS).toContain(id)
  })

  it('completes the first sync with every record New and every id whole in its roster row', () => {
    expect(first.rejections).toEqual([])
    expect(first.status).toMatchObject({ status: 'Completed', tenant: '__proto__', syncId: 'constructor' })
    expect(first.counts('enrollment')).toMatchObject({ total: 2 * SCHOOLS.length, new: 2 * SCHOOLS.length })
    expect(first.counts('org')).toMatchObject({ total: SCHOOLS.length + 1, new: SCHOOLS.length + 1 })
    const created = first.rowsWith('Created Roster')
    expect(new Set(created.map((r) => r.sourcedId))).toEqual(new Set(SCHOOLS))
    for (const r of created) {
      expect(r).toMatchObject({
        studentNumber: r.sourcedId,
        sectionNumber: r.sourcedId,
        courseNumber: r.sourcedId,
        servingSchoolId: r.sourcedId,
        homeSchoolId: r.sourcedId,
      })
    }
  })

  it('counts each record under its own hostile school', () => {
    const bySchool = new Map<string, SyncCounts[]>()
    for (const e of first.events) if (e.kind === 'SyncCounts') bySchool.set(e.schoolId, [...(bySchool.get(e.schoolId) ?? []), e])
    expect(new Set(bySchool.keys())).toEqual(new Set([...SCHOOLS, '']))
    for (const id of SCHOOLS) {
      const totals = new Map(bySchool.get(id)!.map((c) => [c.entity, c.counts.total]))
      expect(Object.fromEntries(totals), id).toEqual({ org: 1, course: 1, class: 1, user: 2, enrollment: 2 })
      expect(bySchool.get(id)![0]!.schoolName).toBe(`School ${id}`)
    }
  })

  it('deletes and updates such records the next night, each counted once', () => {
    const second = given.when(hostileSchools(nextSync('__proto__', 'hasOwnProperty'), { without: DELETED, retagged: RETAGGED }).end())
    expect(second.status?.status).toBe('Completed')
    expect(new Set(second.rowsWith('Deleted Roster').map((r) => r.sourcedId))).toEqual(DELETED)
    const updated = second.rows.filter((r) => r.entity === 'user' && r.outcome === 'Updated')
    expect(new Set(updated.map((r) => r.sourcedId))).toEqual(RETAGGED)
    for (const r of updated)
      expect(r).toMatchObject({ field: 'metadata.__proto__', newValue: `metadata.__proto__: changed ${r.sourcedId}` })
    expect(second.counts('user')).toMatchObject({
      deleted: DELETED.size,
      updated: RETAGGED.size,
      noChange: 2 * SCHOOLS.length - DELETED.size - RETAGGED.size,
    })
    expect(second.counts('enrollment')).toMatchObject({ deleted: DELETED.size, new: 0 })
  })

  it('deletes such records by id in a delta sync', () => {
    const gone = SCHOOLS.filter((id, i) => i % 11 === 5 && !DELETED.has(id))
    const delta = nextSync('__proto__', 'valueOf', DELTA)
    for (const id of gone) delta.delete('enrollment', id)
    const out = given.when(delta.end())
    expect(new Set(out.rowsWith('Deleted Roster').map((r) => r.sourcedId))).toEqual(new Set(gone))
    expect(out.counts('enrollment')).toMatchObject({ total: gone.length, deleted: gone.length })
  })
})

describe('tenants and sync ids are data too', () => {
  const TENANTS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '0', 'NaN', 'a/b', 'ñandú', 'say "hi"']

  it('keeps each hostile tenant’s rosters apart in one state, with onboarded schools looked up by tenant', () => {
    const onboarded = new Map([
      ['constructor', ['sch1']],
      ['__proto__', ['sch1', 'sch2']],
    ])
    const given = new Given({ ...DEFAULT_FOLD_OPTIONS, onboardedSchools: onboarded })
    for (const [i, tenant] of TENANTS.entries()) {
      const s = new SyncScript(tenant, TENANTS[(i + 1) % TENANTS.length]!, 'sis', '2024-10-01T02:00:00.000Z', FULL)
        .upsert('org', 'd1', { name: 'D', type: 'district' })
        .upsert('org', 'sch1', { name: 'One', type: 'school', parentSourcedId: 'd1' })
        .upsert('org', 'sch2', { name: 'Two', type: 'school', parentSourcedId: 'd1' })
      const out = given.when(s.end())
      expect(out.status, tenant).toMatchObject({ tenant, status: tenant === 'constructor' ? 'Completed with Errors' : 'Completed' })
      const skipped = out.rowsWith('Skipped').map((r) => r.sourcedId)
      expect(skipped, tenant).toEqual(tenant === 'constructor' ? ['sch2'] : [])
    }
    expect(new Set(given.state.tenants.keys())).toEqual(new Set(TENANTS))
  })

  it('keeps two enrollments apart whose class and user ids differ only in where a separator falls', () => {
    const s = new SyncScript('t', 's', 'sis', '2024-10-01T02:00:00.000Z', FULL)
      .upsert('org', 'd1', { name: 'D', type: 'district' })
      .upsert('org', 'sch', { name: 'S', type: 'school', parentSourcedId: 'd1' })
      .upsert('academicSession', 't1', { title: 'Fall', type: 'term', startDate: START, endDate: END, schoolYear: '2025' })
    for (const [i, id] of ['a\u0000b', 'a', 'a","b'].entries()) {
      s.upsert('course', id, { title: id, courseCode: id, orgSourcedId: 'sch' })
        .upsert('user', teacherIdOf(id), teacher('T', `Teacher${i}`, 'sch'))
        .upsert('class', id, section(id, 'sch', id))
        .upsert('enrollment', teacherIdOf(id), {
          classSourcedId: id,
          schoolSourcedId: 'sch',
          userSourcedId: teacherIdOf(id),
          role: 'teacher',
          primary: 'true',
        })
    }
    for (const id of ['c', 'b\u0000c', 'b","c']) s.upsert('user', id, student('S', id, 'sch', id))
    s.upsert('enrollment', 'e1', { classSourcedId: 'a\u0000b', userSourcedId: 'c', schoolSourcedId: 'sch', role: 'student' })
      .upsert('enrollment', 'e2', { classSourcedId: 'a', userSourcedId: 'b\u0000c', schoolSourcedId: 'sch', role: 'student' })
      .upsert('enrollment', 'e3', { classSourcedId: 'a","b', userSourcedId: 'c', schoolSourcedId: 'sch', role: 'student' })
      .upsert('enrollment', 'e4', { classSourcedId: 'a', userSourcedId: 'b","c', schoolSourcedId: 'sch', role: 'student' })
    const out = new Given().when(s.end())
    expect(out.counts('enrollment')).toMatchObject({ total: 7, new: 7, duplicates: 0 })
    expect(
      out
        .rowsWith('Created Roster')
        .map((r) => r.sourcedId)
        .sort(),
    ).toEqual(['e1', 'e2', 'e3', 'e4'])
  })
})

describe('reading hostile field names', () => {
  it('keeps every metadata.* column of a OneRoster file, __proto__ included, as an own entry', () => {
    const names = HOSTILE_METADATA_NAMES.map((n) => `metadata.${n}`)
    const columns = new Columns('users.csv', ['sourcedId', ...names])
    const meta = columns.metadata(['u1', ...HOSTILE_METADATA_NAMES.map((n) => `value of ${n}`)])
    expect(Object.getPrototypeOf(meta)).toBe(null)
    expect(Object.keys(meta)).toEqual(expect.arrayContaining([...HOSTILE_METADATA_NAMES]))
    for (const n of HOSTILE_METADATA_NAMES) expect(Object.getOwnPropertyDescriptor(meta, n)?.value, n).toBe(`value of ${n}`)
  })

  it('keeps every metadata key of an NDJSON change event, __proto__ included', () => {
    const metadata = Object.fromEntries(HOSTILE_METADATA_NAMES.map((n) => [n, `value of ${n}`]))
    const line = JSON.stringify({
      type: 'RecordChanged',
      eventId: 'e1',
      tenant: '__proto__',
      syncId: 'constructor',
      app: 'sis',
      occurredAt: '2024-10-01T02:00:00Z',
      entity: 'user',
      sourcedId: 'hasOwnProperty',
      op: 'upsert',
      metadata,
    }).replace('"metadata":{', '"metadata":{"__proto__":"value of __proto__",')
    const item = parseNdjsonLine(line, 1)
    expect(item.kind).toBe('event')
    if (item.kind !== 'event' || item.event.type !== 'RecordChanged') return
    expect(item.event).toMatchObject({ tenant: '__proto__', syncId: 'constructor', sourcedId: 'hasOwnProperty' })
    expect(Object.keys(item.event.metadata).sort()).toEqual([...HOSTILE_METADATA_NAMES].sort())
    expect(Object.getOwnPropertyDescriptor(item.event.metadata, '__proto__')?.value).toBe('value of __proto__')
  })

  it('refuses a metadata value that is not a string, naming the key', () => {
    const item = parseNdjsonLine(
      JSON.stringify({
        type: 'RecordChanged',
        eventId: 'e1',
        tenant: 't',
        syncId: 's',
        app: 'sis',
        occurredAt: '2024-10-01T02:00:00Z',
        entity: 'user',
        sourcedId: 'u',
        op: 'upsert',
        metadata: { constructor: 1 },
      }),
      3,
    )
    expect(item).toMatchObject({ kind: 'issue', line: 3, field: 'metadata.constructor' })
  })

  it('diffs records field by field whatever the metadata names', () => {
    const user = (meta: Record<string, string>): UserRecord =>
      ({
        sourcedId: 'u',
        dateLastModified: null,
        metadata: meta,
        enabledUser: true,
        orgSourcedIds: [],
        role: 'student',
        username: '',
        givenName: '',
        familyName: '',
        middleName: null,
        identifier: null,
        email: null,
        grades: [],
      }) as unknown as UserRecord
    const before = user(Object.fromEntries(HOSTILE_METADATA_NAMES.map((n) => [n, 'a'])))
    const after = user(Object.fromEntries(HOSTILE_METADATA_NAMES.map((n) => [n, 'b'])))
    expect(
      changedFields(before, after)
        .map((c) => c.field)
        .sort(),
    ).toEqual(HOSTILE_METADATA_NAMES.map((n) => `metadata.${n}`).sort())
  })
})

describe('state snapshots of hostile tenants', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('saves and loads each tenant whatever its id, a 300-character one included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synclog-snapshots-'))
    dirs.push(dir)
    const tenants = [...IDS.slice(0, 40), '..', '.', 'a/b', 'x'.repeat(300), 'é'.repeat(200), `sha256-${'0'.repeat(64)}`]
    const given = new Given()
    for (const tenant of tenants) {
      given.when(
        new SyncScript(tenant, 's', 'sis', '2024-10-01T02:00:00.000Z', FULL).upsert('org', 'd1', { name: tenant, type: 'district' }).end(),
      )
    }
    const snapshots = new StateSnapshots(dir)
    for (const t of given.state.tenants.values()) await snapshots.save(t)
    const loaded = await snapshots.loadAll()
    expect(new Set(loaded.tenants.keys())).toEqual(new Set(tenants))
    for (const tenant of tenants) expect(loaded.tenants.get(tenant)?.tenant).toBe(tenant)
  })
})
