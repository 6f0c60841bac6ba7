/**
 * The ClickHouse adapter against embedded chDB. One process, one data directory
 * (vitest pool 'forks'); expected results are computed from the fixtures in JS,
 * never by re-running SQL.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  BLANK_LOG_COLUMNS,
  type LogColumn,
  type LogRow,
  type OutcomeCounts,
  type SyncCounts,
  type SyncLogEvent,
  type SyncStatus,
  type SyncStatusChanged,
} from '../../src/events/sync-log-event.js'
import { isSynclogError } from '../../src/errors.js'
import { silentLogger } from '../support/silent-logger.js'
import { MIGRATIONS } from '../../src/clickhouse/ddl.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { FULL, Given, SyncScript, smallDistrict, student } from '../support/sis.js'
import {
  MAX_INSERT_ROWS,
  SyncLogStore,
  UNSCOPED,
  type LogFilter,
  type LogRecord,
  type OutcomeCountsJson,
} from '../../src/clickhouse/sync-log-store.js'

// ---- fixtures ---------------------------------------------------------------------

const BLANK_ROW: Omit<LogRow, 'tenant' | 'syncId' | 'seq' | 'date' | 'action' | 'app'> = {
  kind: 'LogRow',
  ...BLANK_LOG_COLUMNS,
}

interface SyncFixture {
  tenant: string
  syncId: string
  app: string
  startedAt: string
}

const A1: SyncFixture = { tenant: 'district-a', syncId: 'a-2024-09-01', app: 'sis-nightly', startedAt: '2024-09-01T06:00:00.000Z' }
const A2: SyncFixture = { tenant: 'district-a', syncId: 'a-2024-09-03', app: 'oneroster-csv', startedAt: '2024-09-03T06:00:00.000Z' }
const B1: SyncFixture = { tenant: 'district-b', syncId: 'b-2024-09-02', app: 'sis-nightly', startedAt: '2024-09-02T06:00:00.000Z' }
const A3: SyncFixture = { tenant: 'district-a', syncId: 'a-2024-10-01', app: 'sis-nightly', startedAt: '2024-10-01T06:00:00.000Z' }

/** Row `seq` of a sync, dated `seq` minutes after its start. */
function row(s: SyncFixture, seq: number, fields: Partial<LogRow> & Pick<LogRow, 'action'>): LogRow {
  const date = new Date(Date.parse(s.startedAt) + seq * 60_000).toISOString()
  return { ...BLANK_ROW, tenant: s.tenant, syncId: s.syncId, app: s.app, seq, date, ...fields }
}

const roster = (school: { home: string; serving: string }) => ({
  homeSchoolId: school.home,
  homeSchool: `School ${school.home}`,
  servingSchoolId: school.serving,
  servingSchool: `School ${school.serving}`,
  homeDistrictId: 'd1',
  homeDistrict: 'Emerson Unified',
  servingDistrictId: 'd1',
  servingDistrict: 'Emerson Unified',
})

const LOG_ROWS: LogRow[] = [
  row(A1, 1, {
    action: 'Created Roster',
    studentNumber: 'S001',
    studentName: 'Ünal, Zoë',
    courseNumber: 'M101',
    courseName: 'Algebra I',
    sectionNumber: '101',
    ...roster({ home: 'hs-1', serving: 'sch-1' }),
    entity: 'enrollment',
    sourcedId: 'e1',
    outcome: 'New',
  }),
  row(A1, 2, {
    action: 'Created Roster',
    studentNumber: 'S002',
    studentName: "O'Brien, Seán",
    courseNumber: 'B200',
    courseName: 'Biology',
    sectionNumber: '7',
    ...roster({ home: 'sch-2', serving: 'sch-1' }),
    entity: 'enrollment',
    sourcedId: 'e2',
    outcome: 'New',
  }),
  row(A1, 3, {
    action: 'Skipped',
    studentName: 'Back\\slash, Bob',
    field: 'email',
    message: 'Email is required for users with teacher or administrator roles',
    ...roster({ home: 'sch-2', serving: '' }),
    entity: 'user',
    sourcedId: 'u3',
    outcome: 'Skipped',
  }),
  row(A1, 4, {
    action: 'Invalid',
    studentName: 'Smith, Anna',
    field: 'email',
    oldValue: '',
    newValue: 'anna@',
    message: "email 'anna@' is not an address",
    ...roster({ home: 'sch-1', serving: '' }),
    entity: 'user',
    sourcedId: 'u4',
    outcome: 'Invalid',
  }),
  row(A1, 5, {
    action: 'Updated Section Data',
    courseNumber: 'M101',
    courseName: 'Algebra I',
    sectionNumber: '101',
    field: 'Room',
    oldValue: 'Room: 101',
    newValue: 'Room: 202',
    ...roster({ home: '', serving: 'sch-1' }),
    entity: 'class',
    sourcedId: 'k1',
    outcome: 'Updated',
  }),
  row(A1, 6, {
    action: 'Merged',
    studentName: 'Smith, Anna',
    message: 'identical duplicate of u4',
    ...roster({ home: 'sch-1', serving: '' }),
    entity: 'user',
    sourcedId: 'u4',
    outcome: 'Merged',
  }),
  row(A1, 7, {
    action: 'Excluded',
    studentName: "Robert'); DROP TABLE sync_log;--",
    message: 'conflicting duplicate; the first record wins',
    ...roster({ home: 'sch-3', serving: '' }),
    entity: 'user',
    sourcedId: 'u7',
    outcome: 'Excluded',
  }),
  row(A1, 8, {
    action: 'Deleted Roster',
    studentName: "') OR 1=1 --",
    courseName: 'Chemistry',
    message: 'student deleted',
    ...roster({ home: 'sch-3', serving: 'sch-3' }),
    entity: 'enrollment',
    sourcedId: 'e8',
    outcome: 'Deleted',
  }),
  row(A1, 9, {
    action: 'Skipped',
    field: 'teacher',
    message: 'primary teacher is required',
    courseName: 'Tab\there "quoted" {tenant:String}',
    ...roster({ home: '', serving: 'sch-2' }),
    entity: 'class',
    sourcedId: 'k9',
    outcome: 'Skipped',
  }),
  row(A2, 1, {
    action: 'Created Roster',
    studentName: 'Ünal, Zoë',
    courseName: 'Geometry',
    ...roster({ home: 'hs-1', serving: 'sch-1' }),
    entity: 'enrollment',
    sourcedId: 'e20',
    outcome: 'New',
  }),
  row(A2, 2, {
    action: 'Skipped',
    studentName: 'Nguyen, Tam',
    field: 'grades',
    message: "grade '14' is not in the vocabulary",
    ...roster({ home: 'sch-1', serving: '' }),
    entity: 'user',
    sourcedId: 'u21',
    outcome: 'Skipped',
  }),
  row(B1, 1, {
    action: 'Created Roster',
    studentName: 'Ünal, Zoë',
    courseName: 'Algebra I',
    ...roster({ home: 'sch-1', serving: 'b-sch' }),
    entity: 'enrollment',
    sourcedId: 'e1',
    outcome: 'New',
  }),
  row(B1, 2, {
    action: 'Deleted Roster',
    studentName: 'García, Lucía',
    courseName: 'Art',
    message: 'section invalidated',
    ...roster({ home: 'b-sch', serving: 'b-sch' }),
    entity: 'enrollment',
    sourcedId: 'e5',
    outcome: '',
  }),
  row(A3, 1, {
    action: 'Updated Roster End Date',
    studentName: 'Li, Wei',
    courseName: 'Algebra I',
    field: 'endDate',
    oldValue: '2025-06-01',
    newValue: '2025-05-30',
    ...roster({ home: 'sch-1', serving: 'sch-2' }),
    entity: 'enrollment',
    sourcedId: 'e30',
    outcome: 'Updated',
  }),
]

function status(s: SyncFixture, version: number, st: SyncStatus, endedAt = '', message = ''): SyncStatusChanged {
  return {
    kind: 'SyncStatusChanged',
    tenant: s.tenant,
    syncId: s.syncId,
    app: s.app,
    status: st,
    version,
    startedAt: s.startedAt,
    endedAt,
    message,
    modes: 'user:full,enrollment:delta',
    reviewedBy: '',
    reviewedAt: '',
    reviewReason: '',
  }
}

const STATUSES: SyncStatusChanged[] = [
  status(A1, 0, 'Running'),
  status(A1, 1, 'Completed with Errors', '2024-09-01T06:30:00.000Z'),
  status(A2, 0, 'Running'),
  status(A2, 1, 'On Hold', '2024-09-03T06:20:00.000Z', 'would delete 40 % of users'),
  status(A2, 2, 'Rejected', '2024-09-03T09:00:00.000Z', 'rejected by admin@district-a'),
  status(B1, 0, 'Running'),
  status(B1, 1, 'Completed', '2024-09-02T06:05:00.000Z'),
  status(A3, 0, 'Running'),
]

/** Counts obeying Total = New+Updated+NoChange+Deleted+Skipped+Invalid+Merged+Excluded and Duplicates = Merged+Excluded. */
function counts(c: Partial<OutcomeCounts>): OutcomeCounts {
  const k = { new: 0, updated: 0, noChange: 0, deleted: 0, skipped: 0, invalid: 0, merged: 0, excluded: 0, ...c }
  const total = k.new + k.updated + k.noChange + k.deleted + k.skipped + k.invalid + k.merged + k.excluded
  return { ...k, total, duplicates: k.merged + k.excluded }
}

function countsEvent(s: SyncFixture, entity: SyncCounts['entity'], schoolId: string, c: Partial<OutcomeCounts>): SyncCounts {
  return {
    kind: 'SyncCounts',
    tenant: s.tenant,
    syncId: s.syncId,
    app: s.app,
    entity,
    schoolId,
    schoolName: schoolId === '' ? '' : `School ${schoolId}`,
    startedAt: s.startedAt,
    counts: counts(c),
  }
}

const COUNTS: SyncCounts[] = [
  countsEvent(A1, 'user', 'sch-1', { new: 4, noChange: 30, invalid: 1, merged: 1 }),
  countsEvent(A1, 'user', 'sch-2', { new: 2, noChange: 12, skipped: 1 }),
  countsEvent(A1, 'user', 'sch-3', { excluded: 1, noChange: 3 }),
  countsEvent(A1, 'user', '', { noChange: 5, updated: 1 }),
  countsEvent(A1, 'enrollment', 'sch-1', { new: 2, noChange: 80 }),
  countsEvent(A1, 'enrollment', 'sch-3', { deleted: 1 }),
  countsEvent(A1, 'class', 'sch-1', { updated: 1, noChange: 9 }),
  countsEvent(A1, 'class', 'sch-2', { skipped: 1 }),
  countsEvent(A2, 'enrollment', 'sch-1', { new: 1 }),
  countsEvent(A2, 'user', 'sch-1', { skipped: 1, noChange: 40 }),
  countsEvent(B1, 'enrollment', 'b-sch', { new: 1, deleted: 1, noChange: 7 }),
  // A3 is still running: no counts yet.
]

const EVENTS: SyncLogEvent[] = [...LOG_ROWS, ...COUNTS, ...STATUSES]
const SYNCS = [A1, A2, B1, A3]

// ---- independent expectations ---------------------------------------------------------

const newestFirst = (a: LogRow, b: LogRow) =>
  b.date.localeCompare(a.date) || b.syncId.localeCompare(a.syncId) || b.seq - a.seq || b.tenant.localeCompare(a.tenant)
const latestStatus = (s: SyncFixture) => STATUSES.filter((e) => e.syncId === s.syncId).reduce((a, b) => (b.version > a.version ? b : a))
const rejectedSyncs = new Set(SYNCS.filter((s) => latestStatus(s).status === 'Rejected').map((s) => s.syncId))
const proposedSyncs = new Set(SYNCS.filter((s) => ['On Hold', 'Preview'].includes(latestStatus(s).status)).map((s) => s.syncId))
const stateOf = (syncId: string) => (proposedSyncs.has(syncId) ? 'Proposed' : rejectedSyncs.has(syncId) ? 'Rejected' : 'Applied')
const record = ({ kind: _kind, ...rest }: LogRow): LogRecord => ({ ...rest, state: stateOf(rest.syncId) })
const icontains = (value: string, text: string) => value.toLowerCase().includes(text.toLowerCase())

/** The log as a reader expects it: rejected syncs hidden unless asked for, newest first. */
/** Every row of the log matching the filter, newest first (all pages). */
async function readLog(filter: LogFilter): Promise<LogRecord[]> {
  const rows: LogRecord[] = []
  for await (const r of store.streamLog(UNSCOPED, filter, 7)) rows.push(r)
  return rows
}

function expectedLog(keep: (r: LogRow) => boolean, includeRejected = false): LogRecord[] {
  return LOG_ROWS.filter((r) => !proposedSyncs.has(r.syncId) && (includeRejected || !rejectedSyncs.has(r.syncId)) && keep(r))
    .sort(newestFirst)
    .map(record)
}

function sumCounts(list: readonly OutcomeCounts[]): OutcomeCountsJson {
  const sum: OutcomeCountsJson = {
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
  for (const c of list) for (const k of Object.keys(sum) as (keyof OutcomeCountsJson)[]) sum[k] += c[k]
  return sum
}

function expectedRun(s: SyncFixture) {
  const st = latestStatus(s)
  const mine = COUNTS.filter((c) => c.syncId === s.syncId).map((c) => c.counts)
  const sum = sumCounts(mine)
  return {
    syncId: s.syncId,
    tenant: s.tenant,
    app: s.app,
    status: st.status,
    startedAt: st.startedAt,
    endedAt: st.endedAt,
    message: st.message,
    reviewedBy: st.reviewedBy,
    reviewedAt: st.reviewedAt,
    reviewReason: st.reviewReason,
    modes: st.modes,
    total: sum.total,
    errors: sum.skipped + sum.invalid + sum.excluded,
  }
}

// ---- setup --------------------------------------------------------------------------

const logger = silentLogger()
let dataDir: string
let ch: ClickHouse
let store: SyncLogStore

async function rowCount(table: string): Promise<number> {
  const rs = await ch.client.query({
    query: 'SELECT toUInt32(count()) AS n FROM {t:Identifier} FINAL',
    query_params: { t: table },
    format: 'JSONEachRow',
  })
  const [first] = await rs.json<{ n: number }>()
  return Number(first?.n)
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'synclog-ch-store-'))
  ch = await openClickHouse({ dataDir, logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)
  await store.write(EVENTS)
})

afterAll(async () => {
  await ch?.close()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

// ---- opening and migrating --------------------------------------------------------------

/** The checkout this test runs from, wherever it was cloned: the child imports its sources by relative path. */
const CHECKOUT = resolve(import.meta.dirname, '../..')

describe('opening and migrating', () => {
  it('opens embedded chDB inside <dataDir>/clickhouse', () => {
    expect(ch.mode).toBe('embedded')
    expect(existsSync(join(dataDir, 'clickhouse'))).toBe(true)
  })

  it('migrating again and again is a no-op', async () => {
    const tablesBefore = await showTables()
    await migrate(ch.client, logger)
    await migrate(ch.client, logger)
    expect(await showTables()).toEqual(tablesBefore)
    expect(tablesBefore).toEqual([
      'alert_deliveries',
      'schema_migrations',
      'sync_counts',
      'sync_daily',
      'sync_daily_mv',
      'sync_log',
      'sync_log_by_student',
      'sync_log_by_student_mv',
      'sync_outcomes',
      'sync_outcomes_mv',
      'sync_runs',
    ])
    const rs = await ch.client.query({
      query: 'SELECT toUInt32(version) AS version, name FROM schema_migrations ORDER BY version',
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })))
    expect(await rowCount('sync_log')).toBe(LOG_ROWS.length)
  })

  it('a second process opening the same data directory is told it is locked', async () => {
    const script = `
      import { openClickHouse } from './src/clickhouse/open.ts'
      import { silentLogger } from './test/support/silent-logger.ts'
      try {
        const ch = await openClickHouse({ dataDir: process.argv[1], logger: silentLogger() })
        await ch.close()
        console.log(JSON.stringify({ opened: true }))
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, retriable: e.retriable, message: e.message }))
      }`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir], {
      cwd: CHECKOUT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
    })
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
    })
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve))
    // chDB itself reports the lock on stderr; what synclog says is on stdout.
    expect(exitCode, err).toBe(0)
    expect(JSON.parse(out.trim()), err).toEqual({
      code: 'DATA_DIR_LOCKED',
      retriable: true,
      message: `The data directory ${dataDir} is in use by another synclog process (chDB allows one process per directory). Wait for it to finish, or use --data to point at another directory.`,
    })
  })

  it('an unreachable server is STORE_UNAVAILABLE naming the URL without its password', async () => {
    const port = await freePort()
    const error = await openClickHouse({ dataDir, url: `http://synclog:s3cret@127.0.0.1:${port}`, logger }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(isSynclogError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toContain(`http://127.0.0.1:${port}/`)
    expect((error as Error).message).not.toContain('s3cret')
  })
})

async function showTables(): Promise<string[]> {
  const rs = await ch.client.query({
    query: 'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    format: 'JSONEachRow',
  })
  return (await rs.json<{ name: string }>()).map((r) => r.name)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// ---- writing -------------------------------------------------------------------------

describe('writing', () => {
  it('writing the same events twice, in another order, leaves one copy of each', async () => {
    await store.write([...EVENTS].reverse())
    await store.write(EVENTS)
    expect(await rowCount('sync_log')).toBe(LOG_ROWS.length)
    expect(await rowCount('sync_counts')).toBe(COUNTS.length)
    expect(await rowCount('sync_runs')).toBe(SYNCS.length)
    expect(await readLog({ includeRejected: true })).toEqual(expectedLog(() => true, true))
  })

  it('the latest status version wins, whatever order the versions arrive in', async () => {
    const c1: SyncFixture = { tenant: 'district-c', syncId: 'c-versions', app: 'sftp', startedAt: '2024-09-05T00:00:00.000Z' }
    await store.write([status(c1, 1, 'On Hold', '2024-09-05T00:10:00.000Z', 'hold')])
    await store.write([status(c1, 0, 'Running')])
    expect((await store.getSync(UNSCOPED, c1.syncId))?.status).toBe('On Hold')
    await store.write([status(c1, 3, 'Completed', '2024-09-05T02:00:00.000Z', 'approved by ops'), status(c1, 2, 'Running')])
    const run = await store.getSync(UNSCOPED, c1.syncId)
    expect(run).toMatchObject({ status: 'Completed', endedAt: '2024-09-05T02:00:00.000Z', message: 'approved by ops' })
    // An old re-delivery after the fact changes nothing either.
    await store.write([status(c1, 0, 'Running'), status(c1, 1, 'On Hold', '2024-09-05T00:10:00.000Z', 'hold')])
    expect((await store.getSync(UNSCOPED, c1.syncId))?.status).toBe('Completed')
    expect((await store.getSync(UNSCOPED, 'a-2024-09-03'))?.status).toBe('Rejected')
  })

  it('an event with an unparsable date is rejected before anything is written', async () => {
    const bad = row(A3, 99, { action: 'Skipped', studentName: 'Never, Written' })
    await expect(store.write([{ ...bad, date: 'yesterday' }])).rejects.toMatchObject({ code: 'EVENT_REJECTED' })
    expect(await readLog({ contains: [{ column: 'studentName', text: 'Never, Written' }] })).toEqual([])
  })
})

// ---- syncs and summaries ------------------------------------------------------------------

describe('syncs and summaries', () => {
  it('lists runs newest first, with total and errors summed from counts', async () => {
    const runs = (await store.listSyncs(UNSCOPED, {})).filter((r) => SYNCS.some((s) => s.syncId === r.syncId))
    const expected = [...SYNCS].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).map(expectedRun)
    expect(runs).toEqual(expected)
  })

  it('filters runs by tenant, app and start time, and limits them', async () => {
    const byStart = (list: SyncFixture[]) => [...list].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).map(expectedRun)
    expect(await store.listSyncs(UNSCOPED, { tenant: 'district-a' })).toEqual(byStart(SYNCS.filter((s) => s.tenant === 'district-a')))
    expect(await store.listSyncs(UNSCOPED, { tenant: 'district-a', app: 'sis-nightly' })).toEqual(byStart([A1, A3]))
    expect(await store.listSyncs(UNSCOPED, { tenant: 'district-a', from: '2024-09-02', to: '2024-09-30' })).toEqual(byStart([A2]))
    expect(await store.listSyncs(UNSCOPED, { tenant: 'district-a', from: '2024-09-01T06:00:00Z', to: '2024-09-03T05:59:59Z' })).toEqual(
      byStart([A1]),
    )
    expect(await store.listSyncs(UNSCOPED, { tenant: 'district-a', limit: 1 })).toEqual(byStart([A3]))
    // By latest status: A2 was On Hold before it was rejected.
    expect(await store.listSyncs(UNSCOPED, { tenant: 'district-a', status: ['On Hold', 'Running'] })).toEqual(byStart([A3]))
    expect(await store.listSyncs(UNSCOPED, { status: ['Rejected', 'Completed with Errors'] })).toEqual(byStart([A1, A2]))
  })

  it('a running sync has a blank end and zero totals', async () => {
    expect(await store.getSync(UNSCOPED, A3.syncId)).toEqual({ ...expectedRun(A3), endedAt: '', total: 0, errors: 0 })
  })

  it('an unknown sync has no run and no summary', async () => {
    expect(await store.getSync(UNSCOPED, 'no-such-sync')).toBeNull()
    expect(await store.summary(UNSCOPED, 'no-such-sync', { bySchool: true })).toBeNull()
  })

  it('summary sums schools into entity totals, and bySchool keeps each school', async () => {
    const mine = COUNTS.filter((c) => c.syncId === A1.syncId)
    const byEntity = (list: SyncCounts[]) =>
      Object.fromEntries(
        [...new Set(list.map((c) => c.entity))].map((entity) => [
          entity,
          sumCounts(list.filter((c) => c.entity === entity).map((c) => c.counts)),
        ]),
      )
    const expectedBySchool = Object.fromEntries(
      [...new Set(mine.map((c) => c.schoolId))].map((id) => {
        const list = mine.filter((c) => c.schoolId === id)
        return [id === '' ? '(district)' : id, { schoolName: list[0]?.schoolName ?? '', counts: byEntity(list) }]
      }),
    )
    const st = latestStatus(A1)
    const head = {
      syncId: A1.syncId,
      tenant: A1.tenant,
      app: A1.app,
      status: st.status,
      startedAt: st.startedAt,
      endedAt: st.endedAt,
      message: st.message,
      reviewedBy: '',
      reviewedAt: '',
      reviewReason: '',
    }

    const summary = await store.summary(UNSCOPED, A1.syncId, { bySchool: true })
    expect(summary).toEqual({ ...head, counts: byEntity(mine), bySchool: expectedBySchool })
    expect(summary?.counts['user']?.total).toBe(4 + 30 + 1 + 1 + 2 + 12 + 1 + 1 + 3 + 5 + 1)

    const plain = await store.summary(UNSCOPED, A1.syncId, { bySchool: false })
    expect(plain).toEqual({ ...head, counts: byEntity(mine) })
  })
})

// ---- the log ------------------------------------------------------------------------------

describe('reading the log', () => {
  it('returns every column, with seq a number and date an ISO instant with Z', async () => {
    const [newest] = (await store.queryLog(UNSCOPED, { syncId: A1.syncId }, { limit: 1 })).rows
    expect(newest).toEqual(record(LOG_ROWS.find((r) => r.syncId === A1.syncId && r.seq === 9) as LogRow))
    expect(newest?.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  })

  it('hides rows of rejected syncs by default and shows them when asked', async () => {
    expect(await readLog({ tenant: 'district-a' })).toEqual(expectedLog((r) => r.tenant === 'district-a'))
    expect(await readLog({ tenant: 'district-a', includeRejected: true })).toEqual(expectedLog((r) => r.tenant === 'district-a', true))
    expect((await readLog({ syncId: A2.syncId })).length).toBe(0)
    expect((await readLog({ syncId: A2.syncId, includeRejected: true })).length).toBe(2)
  })

  it('a school matches rows where it is the home OR the serving school', async () => {
    const got = await readLog({ tenant: 'district-a', school: 'sch-1' })
    const expected = expectedLog((r) => r.tenant === 'district-a' && (r.homeSchoolId === 'sch-1' || r.servingSchoolId === 'sch-1'))
    expect(got).toEqual(expected)
    expect(got.some((r) => r.homeSchoolId === 'sch-1' && r.servingSchoolId !== 'sch-1')).toBe(true)
    expect(got.some((r) => r.servingSchoolId === 'sch-1' && r.homeSchoolId !== 'sch-1')).toBe(true)
  })

  it('actions and outcomes keep only the listed values; an empty list does not filter', async () => {
    const actions = ['Created Roster', 'Deleted Roster']
    expect(await readLog({ actions })).toEqual(expectedLog((r) => actions.includes(r.action)))
    const outcomes = ['Skipped', 'Invalid']
    expect(await readLog({ outcomes })).toEqual(expectedLog((r) => outcomes.includes(r.outcome)))
    expect(await readLog({ tenant: 'district-b', actions: [], outcomes: [] })).toEqual(expectedLog((r) => r.tenant === 'district-b'))
  })

  it('contains is case-insensitive, and several contains are AND-ed', async () => {
    const one = await readLog({ contains: [{ column: 'studentName', text: 'ZOË' }] })
    expect(one).toEqual(expectedLog((r) => icontains(r.studentName, 'zoë')))
    expect(one.length).toBe(2)
    const both = await readLog({
      contains: [
        { column: 'studentName', text: 'ÜNAL' },
        { column: 'courseName', text: 'algebra' },
      ],
    })
    expect(both).toEqual(expectedLog((r) => icontains(r.studentName, 'ünal') && icontains(r.courseName, 'algebra')))
    expect(both.map((r) => r.syncId).sort()).toEqual([A1.syncId, B1.syncId])
    const ascii = await readLog({
      contains: [
        { column: 'studentName', text: 'SMITH, ANN' },
        { column: 'message', text: 'DUPLICATE' },
      ],
    })
    expect(ascii).toEqual(expectedLog((r) => icontains(r.studentName, 'smith, ann') && icontains(r.message, 'duplicate')))
    expect(ascii.length).toBe(1)
  })

  it('contains on date matches the date as shown (ISO with Z)', async () => {
    const got = await readLog({ contains: [{ column: 'date', text: '2024-09-02t06:01' }] })
    expect(got).toEqual(expectedLog((r) => icontains(r.date, '2024-09-02t06:01')))
    expect(got.length).toBe(1)
  })

  it('from and to bound the date, inclusive; a bare date covers its whole UTC day', async () => {
    const inRange = (lo: string, hi: string) => (r: LogRow) => r.date >= lo && r.date <= hi
    expect(await readLog({ from: '2024-09-02', to: '2024-09-30' })).toEqual(
      expectedLog(inRange('2024-09-02T00:00:00.000Z', '2024-09-30T23:59:59.999Z')),
    )
    expect(await readLog({ to: '2024-09-01' })).toEqual(expectedLog(inRange('0000', '2024-09-01T23:59:59.999Z')))
    expect(await readLog({ from: '2024-09-01T06:03:00Z', to: '2024-09-01T08:05:00+02:00' })).toEqual(
      expectedLog(inRange('2024-09-01T06:03:00.000Z', '2024-09-01T06:05:00.000Z')),
    )
    expect((await readLog({ from: '2024-09-01T06:03:00Z', to: '2024-09-01T08:05:00+02:00' })).map((r) => r.seq)).toEqual([5, 4, 3])
  })

  it('tenant and syncId narrow, and cursor pages walk the newest rows first without gaps or repeats', async () => {
    const all = expectedLog((r) => r.tenant === 'district-a' && r.syncId === A1.syncId)
    expect(await readLog({ tenant: 'district-a', syncId: A1.syncId })).toEqual(all)
    const pages: LogRecord[][] = []
    let cursor: string | undefined
    do {
      const page = await store.queryLog(UNSCOPED, { tenant: 'district-a', syncId: A1.syncId }, { limit: 3, cursor })
      pages.push(page.rows)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3].slice(0, Math.ceil(all.length / 3)).map((n, i) => Math.min(n, all.length - 3 * i)))
    expect(pages.flat()).toEqual(all)
    expect(await readLog({ tenant: 'district-b', syncId: A1.syncId })).toEqual([])
  })

  it('a cursor that was not handed out is a USAGE error', async () => {
    for (const cursor of ['nope', Buffer.from('{"d":"x"}').toString('base64url'), "' OR 1=1 --"]) {
      await expect(store.queryLog(UNSCOPED, {}, { cursor })).rejects.toMatchObject({ code: 'USAGE' })
    }
  })

  it('reportRows lists the Skipped, Invalid, Excluded and Merged rows of a sync by entity, then seq', async () => {
    const expected = LOG_ROWS.filter((r) => r.syncId === A1.syncId && ['Skipped', 'Invalid', 'Excluded', 'Merged'].includes(r.outcome))
      .sort((a, b) => a.entity.localeCompare(b.entity) || a.seq - b.seq)
      .map(record)
    expect(await store.reportRows(UNSCOPED, A1.syncId)).toEqual(expected)
    expect(expected.map((r) => `${r.entity}:${r.seq}`)).toEqual(['class:9', 'user:3', 'user:4', 'user:6', 'user:7'])
    expect(await store.reportRows(UNSCOPED, 'no-such-sync')).toEqual([])
  })
})

// ---- hostile input ---------------------------------------------------------------------------

describe('hostile filter input', () => {
  const HOSTILE = [
    "'",
    '"',
    "') OR 1=1 --",
    "' OR ''='",
    '\\',
    "\\'",
    'Back\\slash',
    "o'brien",
    "Robert'); DROP TABLE sync_log;--",
    '%',
    '_',
    '*',
    '{tenant:String}',
    '{c0_text:String}',
    '`',
    '\t',
    'Tab\there',
    '\n',
    '\u0000',
    'é',
    'ÜNAL, ZOË',
    '🙂',
    'ʼ',
    'x'.repeat(100 * 1024),
    "'".repeat(100 * 1024),
    'ü'.repeat(50 * 1024),
  ]
  const columns = ['studentName', 'courseName', 'message'] as const satisfies readonly LogColumn[]

  it('returns exactly the rows containing the text, and never errors', async () => {
    for (const text of HOSTILE) {
      for (const column of columns) {
        const got = await readLog({ contains: [{ column, text }], includeRejected: true })
        expect(got, `${column} contains ${JSON.stringify(text.slice(0, 40))}`).toEqual(expectedLog((r) => icontains(r[column], text), true))
      }
    }
    expect(await readLog({ contains: [{ column: 'studentName', text: "') OR 1=1 --" }] })).toEqual(
      expectedLog((r) => r.studentName === "') OR 1=1 --"),
    )
  })

  it('never widens a tenant or school scope', async () => {
    for (const text of HOSTILE) {
      const filter: LogFilter = { tenant: 'district-b', school: 'b-sch', contains: [{ column: 'studentName', text }] }
      const got = await readLog(filter)
      expect(got.every((r) => r.tenant === 'district-b' && (r.homeSchoolId === 'b-sch' || r.servingSchoolId === 'b-sch'))).toBe(true)
      expect(got).toEqual(
        expectedLog(
          (r) =>
            r.tenant === 'district-b' && (r.homeSchoolId === 'b-sch' || r.servingSchoolId === 'b-sch') && icontains(r.studentName, text),
        ),
      )
    }
    for (const tenant of ["district-b' OR 1=1 --", 'district-b\\', '%']) {
      expect(await readLog({ tenant })).toEqual([])
      expect(await readLog({ school: tenant })).toEqual([])
      expect(await readLog({ actions: [tenant], outcomes: [tenant] })).toEqual([])
    }
  })

  it('an unknown contains column is a USAGE error listing the columns', async () => {
    const filter = { contains: [{ column: 'studentName) OR (1' as LogColumn, text: 'x' }] }
    const error = await readLog(filter).then(
      () => null,
      (e: unknown) => e,
    )
    expect(isSynclogError(error, 'USAGE')).toBe(true)
    expect((error as Error).message).toBe(
      `unknown column 'studentName) OR (1'; columns are: date, action, studentNumber, studentName, courseNumber, courseName, sectionNumber, field, oldValue, newValue, servingDistrictId, servingDistrict, servingSchoolId, servingSchool, homeDistrictId, homeDistrict, homeSchoolId, homeSchool, syncId, app, entity, sourcedId, outcome, message, cause, state`,
    )
    await expect(readLog({ contains: [{ column: 'tenant' as LogColumn, text: 'x' }] })).rejects.toMatchObject({ code: 'USAGE' })
  })

  it('an unreadable from, to or limit is a USAGE error', async () => {
    await expect(readLog({ from: 'last tuesday' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/^from must be a date .*last tuesday/),
    })
    await expect(readLog({ to: '2024-02-30' })).rejects.toMatchObject({ code: 'USAGE' })
    await expect(store.queryLog(UNSCOPED, {}, { limit: -1 })).rejects.toMatchObject({ code: 'USAGE' })
    await expect(store.queryLog(UNSCOPED, {}, { limit: 10_001 })).rejects.toMatchObject({ code: 'USAGE' })
    await expect(store.listSyncs(UNSCOPED, { from: "2024-01-01' OR 1=1" })).rejects.toMatchObject({ code: 'USAGE' })
  })
})

// ---- the real fold -----------------------------------------------------------------------------

describe('events of the real fold', () => {
  it('round-trip: the log holds every row the fold emitted, and the summary its counts', async () => {
    const given = new Given()
    const first = smallDistrict(new SyncScript('district-fold', 'fold-1', 'oneroster-csv', '2024-12-01T07:00:00.000Z', FULL), {
      students: 3,
    })
    const second = smallDistrict(new SyncScript('district-fold', 'fold-2', 'oneroster-csv', '2024-12-02T07:00:00.000Z', FULL), {
      students: 2,
    })
      .upsert('user', 'stu9', student('Nine', "D'Arcy", 'sch1', 'S009'))
      .upsert('user', 'bad', { role: 'teacher', givenName: 'No', familyName: 'Email', orgSourcedIds: ['sch1'], enabledUser: 'true' })
    const events = [...given.when(first.end()).events, ...given.when(second.end()).events]
    const rows = events.filter((e): e is LogRow => e.kind === 'LogRow')
    expect(rows.length).toBeGreaterThan(3)

    await store.write(events)
    await store.write(events)

    // fold-2 deletes a third of the users: it is held, so its rows are proposed, shown only when asked for.
    const statusOf = (syncId: string) =>
      events.filter((e): e is SyncStatusChanged => e.kind === 'SyncStatusChanged' && e.syncId === syncId).at(-1)?.status
    expect(statusOf('fold-2')).toBe('On Hold')
    const asRead = (r: LogRow) => ({ ...record(r), state: statusOf(r.syncId) === 'On Hold' ? 'Proposed' : 'Applied' })
    expect(await readLog({ tenant: 'district-fold', includeProposed: true })).toEqual([...rows].sort(newestFirst).map(asRead))
    expect(await readLog({ tenant: 'district-fold' })).toEqual(
      rows
        .filter((r) => r.syncId === 'fold-1')
        .sort(newestFirst)
        .map(asRead),
    )
    for (const syncId of ['fold-1', 'fold-2']) {
      const mine = events.filter((e): e is SyncCounts => e.kind === 'SyncCounts' && e.syncId === syncId)
      const summary = await store.summary(UNSCOPED, syncId, { bySchool: false })
      const entities = [...new Set(mine.map((c) => c.entity))]
      expect(summary?.counts).toEqual(
        Object.fromEntries(entities.map((en) => [en, sumCounts(mine.filter((c) => c.entity === en).map((c) => c.counts))])),
      )
      const last = events.filter((e): e is SyncStatusChanged => e.kind === 'SyncStatusChanged' && e.syncId === syncId).at(-1)
      expect(summary?.status).toBe(last?.status)
    }
  })
})

// ---- large writes (last: these rows would show up in unscoped queries above) ------------------

describe('large writes', () => {
  it(`splits a large write into inserts of at most ${MAX_INSERT_ROWS} rows`, async () => {
    const big: SyncFixture = { tenant: 'district-big', syncId: 'big-1', app: 'sis-nightly', startedAt: '2024-11-01T00:00:00.000Z' }
    const rows = Array.from({ length: MAX_INSERT_ROWS + 1234 }, (_, i) =>
      row(big, i + 1, { action: 'Created Roster', studentName: `Student ${i}`, entity: 'enrollment', outcome: 'New' }),
    )
    const insert = vi.spyOn(ch.client, 'insert')
    try {
      await store.write(rows)
      const sizes = insert.mock.calls.map(([params]) => (Array.isArray(params.values) ? params.values.length : -1))
      expect(sizes).toEqual([MAX_INSERT_ROWS, 1234])
    } finally {
      insert.mockRestore()
    }
    expect((await store.queryLog(UNSCOPED, { tenant: big.tenant }, { limit: 1 })).rows[0]?.seq).toBe(MAX_INSERT_ROWS + 1234)
    const rs = await ch.client.query({
      query: `SELECT toUInt32(count()) AS n FROM sync_log FINAL WHERE tenant = 'district-big'`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([{ n: MAX_INSERT_ROWS + 1234 }])
  })
})
