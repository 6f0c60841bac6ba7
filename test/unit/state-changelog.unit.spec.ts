/**
 * The processor's changelog of deltas, given/when/then without a broker: a processor
 * folds events (each at its input offset) and logs its state changes; the changelog
 * goes through real Avro (AvroSerde, an in-memory registry) and back; a restored
 * processor, completed from the input, must then fold what comes next exactly as the
 * original does.
 */
import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { SyncLogEvent } from '../../src/events/sync-log-event.js'
import { AvroSerde } from '../../src/kafka/avro-serde.js'
import { silentLogger } from '../support/silent-logger.js'
import {
  createProcessorState,
  createTenantState,
  decide,
  DEFAULT_FOLD_OPTIONS,
  evolve,
  type ProcessorState,
  type StateChange,
  type StepInput,
  type SyncInfo,
} from '../../src/processor/index.js'
import type { EnrollmentRecord } from '../../src/processor/records.js'
import { emptyOverlay, Overlay } from '../../src/processor/roster-store.js'
import { changelogValueFromAvro } from '../../src/stream/changelog-avro.js'
import {
  changelogMessages,
  CHUNK_CHANGES,
  CommittedChunks,
  firstInputOffset,
  restoreFromRecords,
  SNAPSHOT_FACTOR,
  takeInAgain,
  type ChangelogRecord,
} from '../../src/stream/state-changelog.js'
import { classroomRoster } from '../support/classroom-roster.js'
import { MemoryRegistry } from '../support/memory-registry.js'
import { DELTA, FULL, SyncScript, section, smallDistrict, student, sync, teacher } from '../support/sis.js'

const OPTIONS = DEFAULT_FOLD_OPTIONS
const TOPICS = { changeEvents: 't.change-events', syncLog: 't.sync-log', processorState: 't.processor-state' }

/** A stream processor without Kafka: every event at the next input offset, decided, logged, then evolved. */
class Processor {
  /** Its changelog, as it would write it. */
  readonly records: ChangelogRecord[] = []
  constructor(
    readonly state: ProcessorState = createProcessorState(),
    readonly input: StepInput[] = [],
    readonly chunks = new CommittedChunks(),
  ) {}

  when(events: readonly ChangeEvent[]): SyncLogEvent[] {
    const out: SyncLogEvent[] = []
    for (const event of events) {
      const input = { offset: String(this.input.length), event }
      this.input.push(input)
      const decision = decide(this.state, input, OPTIONS)
      this.given(decision.changes)
      for (const e of decision.events) out.push(e)
    }
    return out
  }

  /** Logs and applies state changes. */
  given(changes: readonly StateChange[]): void {
    for (const r of this.chunks.records(this.state, changes)) this.records.push(r)
    evolve(this.state, changes)
  }
}

/** The changelog entries of changes made on an empty state. */
const recordsOf = (changes: readonly StateChange[]): ChangelogRecord[] => new CommittedChunks().records(createProcessorState(), changes)

async function serde(): Promise<AvroSerde> {
  const s = new AvroSerde('http://unused', silentLogger(), { client: new MemoryRegistry() })
  await s.register(TOPICS)
  return s
}

/** The changelog as the broker would hold it: Kafka messages, read back through Avro. */
async function changelog(written: readonly ChangelogRecord[]): Promise<{ records: ChangelogRecord[]; sizes: number[] }> {
  const s = await serde()
  const messages = await changelogMessages(s, written, 3)
  const records: ChangelogRecord[] = []
  for (const m of messages) {
    expect(m.partition).toBe(3)
    records.push({
      key: m.key.toString('utf8'),
      value: m.value === null ? null : changelogValueFromAvro(await s.decodeProcessorState(m.value)),
    })
  }
  return { records, sizes: messages.map((m) => m.key.length + (m.value?.length ?? 0)) }
}

/** A processor restored from the changelog of `original` and completed from its input. */
async function restored(original: Processor, compact = (r: ChangelogRecord[]) => r): Promise<Processor> {
  const { records } = await changelog(original.records)
  const r = restoreFromRecords(compact(records))
  const from = firstInputOffset(r.open)
  if (from !== null)
    takeInAgain(
      r,
      original.input.filter((i) => BigInt(i.offset) >= BigInt(from)),
      OPTIONS,
    )
  return new Processor(r.state, [...original.input], r.chunks)
}

const json = (events: readonly SyncLogEvent[]): string => JSON.stringify(events)

const approve = (syncId: string, tenant = 'district-a'): ChangeEvent => ({
  type: 'SyncApproved',
  eventId: `${syncId}:ok`,
  tenant,
  syncId,
  app: 'cli',
  occurredAt: '2024-11-01T00:00:00Z',
  by: 'reviewer',
})

describe('the changelog of deltas', () => {
  it('restores a state that folds the next sync exactly as the original does', async () => {
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 12 }).end())
    original.when(
      sync(DELTA)
        .upsert('user', 'tch1', teacher('Jordan', 'Staff', 'sch1'))
        .delete('user', 'stu3')
        .end(),
    )
    const copy = await restored(original)
    const next = smallDistrict(sync(), { students: 10 })
      .upsert('user', 'stu99', student('New', 'Kid', 'sch1', 'S99'))
      .end()
    expect(json(copy.when(next))).toBe(json(original.when(next)))
  })

  it('logs nothing for the records an open sync takes in: the restore reads them again from the input', async () => {
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 4 }).end())
    const open = smallDistrict(sync(FULL, 'open-sync'), { students: 3 }).end()
    const ending = open.pop()!
    const before = original.records.length
    original.when(open)
    expect(original.records.slice(before).map((r) => JSON.parse(r.key)[0])).toEqual(['s', 'o'])

    const copy = await restored(original)
    expect(json(copy.when([ending]))).toBe(json(original.when([ending])))
  })

  it('does not take in again a record that came before its sync started (it was refused then)', async () => {
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 2 }).end())
    const early = sync(DELTA, 'late-start')
      .upsert('user', 'stu7', student('Early', 'Bird', 'sch1', 'S07'))
      .events.slice(1)
    original.when(early)
    const late = new SyncScript('district-a', 'late-start', 'sis-nightly', '2024-10-30T02:00:00.000Z', DELTA)
      .upsert('user', 'stu8', student('On', 'Time', 'sch1', 'S08'))
      .end()
    const ending = late.pop()!
    original.when(late)
    const copy = await restored(original)
    const [theirs, ours] = [copy.when([ending]), original.when([ending])]
    expect(json(theirs)).toBe(json(ours))
    expect(ours.filter((e) => e.kind === 'LogRow').map((e) => (e.kind === 'LogRow' ? e.sourcedId : ''))).not.toContain('stu7')
  })

  it('restores a sync On Hold, which can then be approved', async () => {
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 10 }).end())
    original.when(smallDistrict(sync(FULL, 'held-sync'), { students: 2 }).end())
    const copy = await restored(original)
    expect(json(copy.when([approve('held-sync')]))).toBe(json(original.when([approve('held-sync')])))
    const after = smallDistrict(sync(), { students: 2 }).end()
    expect(json(copy.when(after))).toBe(json(original.when(after)))
  })

  it('keeps only the latest value of each key, as a compacted topic does', async () => {
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 3 }).end())
    original.when(sync(DELTA).delete('user', 'stu1').end())
    const latestOnly = (records: ChangelogRecord[]): ChangelogRecord[] => {
      const compacted = [...new Map(records.map((r) => [r.key, r])).values()].filter((r) => r.value !== null)
      expect(compacted.length).toBeLessThan(records.length)
      return compacted
    }
    const copy = await restored(original, latestOnly)
    expect(copy.state.tenants.get('district-a')?.tables.user.has('stu1')).toBe(false)
    expect(copy.state.tenants.get('district-a')?.tables.user.has('stu2')).toBe(true)
  })

  it('writes Confluent-framed Avro under the subject <processor-state topic>-value', async () => {
    const registry = new MemoryRegistry()
    const s = new AvroSerde('http://unused', silentLogger(), { client: registry })
    const ids = await s.register(TOPICS)
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 1 }).end())
    const values = (await changelogMessages(s, original.records, 0)).flatMap((m) => (m.value ? [m.value] : []))
    expect(registry.subjects.get('t.processor-state-value')).toEqual([ids.processorState])
    for (const v of values) expect([v[0], v.readInt32BE(1)]).toEqual([0, ids.processorState])
  })

  it('refuses an entry of an older format with a message that says how to rebuild the state', () => {
    const old = { key: 's\u0000district-a\u0000sync-1', value: null }
    expect(restoreFromRecords([old]).state.tenants.size).toBe(0)
    expect(() => restoreFromRecords([{ ...old, value: { kind: 'open', inputOffset: '0' } }])).toThrow(
      /not a JSON array.*delete it and reset the processor's consumer group/,
    )
  })

  it('leaves no entry of a hold once it is decided: its header and every chunk are tombstoned', async () => {
    const original = new Processor()
    original.when(smallDistrict(sync(), { students: 10 }).end())
    original.when(smallDistrict(sync(FULL, 'held-then-rejected'), { students: 2 }).end())
    original.when([{ ...approve('held-then-rejected'), type: 'SyncRejected' } as ChangeEvent])
    const latest = new Map(original.records.map((r) => [r.key, r.value]))
    const live = [...latest].filter(([key, value]) => value !== null && ['h', 'hc'].includes(JSON.parse(key)[0]))
    expect(live).toEqual([])
  })
})

describe('identifiers are opaque in the changelog', () => {
  const ODD = ['urn:sis:42', 'district/school', 'a b', 'nul\u0000inside', 'ñandú 学生 😀', '["r","x"]', '__proto__']
  const tenant = 'urn:tenant/a b\u0000ü'

  function oddDistrict(s: SyncScript): SyncScript {
    s.upsert('org', 'd1', { name: 'Odd District', type: 'district' })
      .upsert('org', 'sch:1', { name: 'Odd School', type: 'school', parentSourcedId: 'd1' })
      .upsert('academicSession', 't/1', {
        title: 'Fall',
        type: 'semester',
        startDate: '2024-08-15',
        endDate: '2025-01-15',
        schoolYear: '2025',
      })
      .upsert('course', 'c 1', { title: 'English', orgSourcedId: 'sch:1' })
      .upsert('user', 'tch/1', teacher('Odd', 'Teacher', 'sch:1'))
      .upsert('class', 'k\u00001', section('c 1', 'sch:1', '101', { termSourcedIds: ['t/1'] }))
      .upsert('enrollment', 'enr tch/1', {
        classSourcedId: 'k\u00001',
        schoolSourcedId: 'sch:1',
        userSourcedId: 'tch/1',
        role: 'teacher',
        primary: 'true',
      })
    for (const id of ODD) {
      s.upsert('user', id, student('Odd', id, 'sch:1', id), {
        metadata: Object.fromEntries([
          ['__proto__', id],
          ['constructor', 'c'],
          ['a:b/c d', 'ü'],
        ]),
      })
      s.upsert('enrollment', `enr ${id}`, { classSourcedId: 'k\u00001', schoolSourcedId: 'sch:1', userSourcedId: id, role: 'student' })
    }
    return s
  }

  it('a tenant, a sync id and sourcedIds with colons, slashes, spaces, NUL and non-ASCII come back whole', async () => {
    const original = new Processor()
    original.when(oddDistrict(new SyncScript(tenant, 'sync:1/ä b\u0000', 'sis', '2024-10-01T02:00:00.000Z', FULL)).end())
    const { records } = await changelog(original.records)
    const keys = records.map((r) => JSON.parse(r.key) as unknown[])
    const changed = records.flatMap((r) => (r.value?.kind === 'rosterChunk' ? r.value.changes.map((c) => [c.entity, c.sourcedId]) : []))
    expect(keys).toContainEqual(['c', tenant, 0])
    for (const id of ODD) expect(changed).toContainEqual(['user', id])
    expect(keys).toContainEqual(['s', tenant, 'sync:1/ä b\u0000'])

    const copy = await restored(original)
    const [ours, theirs] = [original.state.tenants.get(tenant)!, copy.state.tenants.get(tenant)!]
    expect([...theirs.tables.user.keys()]).toEqual([...ours.tables.user.keys()])
    for (const [id, user] of ours.tables.user) {
      expect(theirs.tables.user.get(id)).toEqual(user)
      expect(Object.keys(theirs.tables.user.get(id)!.metadata)).toEqual(Object.keys(user.metadata))
      if (id !== 'tch/1') expect(Object.hasOwn(theirs.tables.user.get(id)!.metadata, '__proto__')).toBe(true)
    }
    expect([...theirs.tables.enrollment.keys()]).toEqual([...ours.tables.enrollment.keys()])
    expect([...theirs.syncs.keys()]).toEqual(['sync:1/ä b\u0000'])
  })

  it('an open sync and a held sync of such ids are restored and end as in the original', async () => {
    const original = new Processor()
    original.when(oddDistrict(new SyncScript(tenant, 'night:1', 'sis', '2024-10-01T02:00:00.000Z', FULL)).end())
    const heldNight = new SyncScript(tenant, 'night:2/held', 'sis', '2024-10-02T02:00:00.000Z', { enrollment: 'full' }).end()
    original.when(heldNight)
    expect(original.state.tenants.get(tenant)?.held.has('night:2/held')).toBe(true)
    const copy = await restored(original)
    expect(json(copy.when([approve('night:2/held', tenant)]))).toBe(json(original.when([approve('night:2/held', tenant)])))

    const open = oddDistrict(new SyncScript(tenant, 'night:3 ü\u0000', 'sis', '2024-10-03T02:00:00.000Z', FULL)).end()
    const ending = open.pop()!
    original.when(open)
    const reopened = await restored(original)
    expect(json(reopened.when([ending]))).toBe(json(original.when([ending])))
  })
})

describe('a held full sync is stored in chunks', () => {
  const roster = (syncId: string, at: string, endDate: string, classes: number, students: number): ChangeEvent[] =>
    classroomRoster({ syncId, at, endDate, classes, students })

  it('a folded full sync that moves every end date is held in chunks and, restored, is approved identically', async () => {
    const original = new Processor()
    original.when(roster('night-1', '2024-10-01T02:00:00.000Z', '2025-01-15', 2, 1200))
    original.when(roster('night-2', '2024-10-02T02:00:00.000Z', '2025-01-31', 2, 1200))
    expect(original.state.tenants.get('district-a')?.held.get('night-2')?.changes.enrollment.size).toBe(2400)
    const { sizes } = await changelog(original.records.filter((r) => ['h', 'hc'].includes(JSON.parse(r.key)[0])))
    expect(sizes.length).toBe(1 + 3)

    const copy = await restored(original)
    expect(json(copy.when([approve('night-2')]))).toBe(json(original.when([approve('night-2')])))
    const after = sync(DELTA)
      .delete('enrollment', 'e-1-7')
      .upsert('enrollment', 'e-0-0', { classSourcedId: 'k0', schoolSourcedId: 'sch1', userSourcedId: 'stu0', role: 'student' })
      .end()
    expect(json(copy.when(after))).toBe(json(original.when(after)))
  })

  it('200,000 enrollment changes On Hold make records far below 1 MiB and restore to a state that approves them identically', async () => {
    const ENROLLMENTS = 200_000
    const enrollment = (i: number, endDate: string): EnrollmentRecord => ({
      sourcedId: `e-${i}`,
      dateLastModified: null,
      metadata: {},
      classSourcedId: `k${i % 100}`,
      schoolSourcedId: 'sch1',
      userSourcedId: `stu${Math.floor(i / 100)}`,
      role: 'student',
      primary: false,
      beginDate: '2024-08-15',
      endDate,
    })
    const info = (syncId: string, status: SyncInfo['status']): SyncInfo => ({
      syncId,
      app: 'sis-nightly',
      startEventId: `${syncId}:start`,
      startedAt: '2024-10-02T02:00:00.000Z',
      modes: 'enrollment=full',
      status,
      version: 2,
      endedAt: '2024-10-02T02:10:00.000Z',
      message: '',
      statusOnApproval: 'Completed',
      decision: '',
    })
    // Given a full sync of enrollments On Hold (built directly: folding 200,000 events takes a minute).
    const original = new Processor()
    const held = new Overlay(createTenantState('district-a'), emptyOverlay())
    for (let i = 0; i < ENROLLMENTS; i++) held.set('enrollment', enrollment(i, '2025-01-31'))
    const given: StateChange[] = [
      { kind: 'sync', tenant: 'district-a', info: info('night-2', 'On Hold') },
      { kind: 'held', tenant: 'district-a', syncId: 'night-2', overlay: held.data },
    ]
    original.given(given)

    const { sizes } = await changelog(recordsOf(given))
    expect(sizes.length).toBe(1 + 1 + ENROLLMENTS / CHUNK_CHANGES)
    expect(Math.max(...sizes)).toBeLessThan(256 * 1024)

    const copy = await restored(original)
    const [theirs, ours] = [copy.when([approve('night-2')]), original.when([approve('night-2')])]
    expect(json(theirs)).toBe(json(ours))
    expect(ours.map((e) => e.kind === 'SyncStatusChanged' && e.status)).toEqual(['Completed'])
    const enrollments = copy.state.tenants.get('district-a')!.tables.enrollment
    expect(enrollments.size).toBe(ENROLLMENTS)
    expect(enrollments.get('e-77777')).toEqual(enrollment(77777, '2025-01-31'))
  }, 120_000)
})

describe('committed syncs are logged in chunks of changes', () => {
  const chunkKeys = (records: readonly ChangelogRecord[]): ChangelogRecord[] => records.filter((r) => JSON.parse(r.key)[0] === 'c')
  /** A delta sync moving the end date of `count` student enrollments of the classroom roster. */
  const endDates = (night: number, count: number): ChangeEvent[] => {
    const s = sync(DELTA, `delta-${night}`)
    for (let u = 0; u < count; u++)
      s.upsert('enrollment', `e-${u % 2}-${Math.floor(u / 2)}`, {
        classSourcedId: `k${u % 2}`,
        schoolSourcedId: 'sch1',
        userSourcedId: `stu${Math.floor(u / 2)}`,
        role: 'student',
        beginDate: '2024-08-15',
        endDate: `2025-02-${String((night % 28) + 1).padStart(2, '0')}`,
      })
    return s.end()
  }
  const liveChanges = (records: readonly ChangelogRecord[]): number => {
    const latest = new Map(chunkKeys(records).map((r) => [r.key, r.value]))
    return [...latest.values()].reduce((n, v) => n + (v?.kind === 'rosterChunk' ? v.changes.length : 0), 0)
  }

  it('a full sync of 2,400 enrollments and their roster is logged as a handful of messages, not one per record', () => {
    const original = new Processor()
    original.when(classroomRoster({ syncId: 'night-1', at: '2024-10-01T02:00:00.000Z', classes: 2, students: 1200 }))
    const records = original.state.tenants.get('district-a')!
    const size = Object.values(records.tables).reduce((n, table) => n + table.size, 0)
    expect(size).toBeGreaterThan(3600)
    expect(chunkKeys(original.records).length).toBe(Math.ceil(size / CHUNK_CHANGES))
    expect(original.records.length).toBeLessThan(10)
  })

  it('stays bounded: once its chunks hold far more changes than the roster has records, a snapshot replaces them', async () => {
    const original = new Processor()
    original.when(classroomRoster({ syncId: 'night-1', at: '2024-10-01T02:00:00.000Z', classes: 2, students: 1200 }))
    const size = Object.values(original.state.tenants.get('district-a')!.tables).reduce((n, table) => n + table.size, 0)
    for (let night = 2; night < 14; night++) {
      original.when(endDates(night, 900))
      expect(liveChanges(original.records)).toBeLessThanOrEqual(SNAPSHOT_FACTOR * size + CHUNK_CHANGES + 900)
    }
    expect(original.records.some((r) => JSON.parse(r.key)[0] === 'c' && r.value === null)).toBe(true)

    // Restored from the compacted topic, it folds and logs the next syncs as the original does.
    const latestOnly = (records: ChangelogRecord[]): ChangelogRecord[] =>
      [...new Map(records.map((r) => [r.key, r])).values()].filter((r) => r.value !== null)
    const copy = await restored(original, latestOnly)
    for (let night = 14; night < 24; night++) {
      const next = endDates(night, 900)
      expect(json(copy.when(next))).toBe(json(original.when(next)))
    }
    expect(copy.records).toEqual(original.records.slice(-copy.records.length))
    const [ours, theirs] = [original.state.tenants.get('district-a')!, copy.state.tenants.get('district-a')!]
    expect([...theirs.tables.enrollment]).toEqual([...ours.tables.enrollment])
  })

  it('refuses an entry of the older format, one per record, with a message that says how to rebuild the state', () => {
    const old = { key: JSON.stringify(['r', 'district-a', 'user', 'stu1']), value: { kind: 'open', inputOffset: '0' } } as const
    expect(() => restoreFromRecords([old])).toThrow(/not a key of the processor state.*delete it and reset the processor's consumer group/)
  })
})
