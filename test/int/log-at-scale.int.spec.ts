/**
 * The store at scale: a generated log of three million rows in embedded chDB,
 * read back through every filter, scope, drill-down, history, rollup and export,
 * each answer checked against the oracle (test/support/scale/log-oracle.ts):
 * plain TypeScript over the generated columns, never the store's SQL.
 *
 * One data directory, loaded once in beforeAll (the slow part: the load is
 * timed and printed). Queries over the whole log are compared by first page and
 * total (countLog); narrower ones row by row, every column.
 */
import { execFile, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOG_COLUMN_HEADERS, LOG_COLUMNS, type LogColumn } from '../../src/events/sync-log-event.js'
import { isSynclogError } from '../../src/errors.js'
import { silentLogger } from '../support/silent-logger.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import {
  SyncLogStore,
  UNSCOPED,
  type CountCell,
  type LogFilter,
  type LogRecord,
  type RecordKey,
  type Scope,
} from '../../src/clickhouse/sync-log-store.js'
import { writeCsv } from '../../src/export/csv-writer.js'
import { LOG_EXPORT_COLUMNS } from '../../src/export/log-columns.js'
import { writeLogXlsx } from '../../src/export/xlsx-log-writer.js'
import { ENTITY_CODES, FAMOUS_SECTION, OUTCOME_CODES, GeneratedLog, type GeneratedSync } from '../support/generated-log.js'
import { LogOracle, icontains } from '../support/scale/log-oracle.js'
import { ENROLLMENTS_PER_STUDENT } from '../support/scale/roster-pools.js'

/** Rows asked of the generator; it makes about as many (3,057,572 with the default seed). */
const ROWS = 3_050_000
const WRITE_BATCH = 50_000

const timings: Record<string, number> = {}
const started = performance.now()
const log = new GeneratedLog({ rows: ROWS })
const oracle = new LogOracle(log)
timings['generate + order (ms)'] = Math.round(performance.now() - started)

const logger = silentLogger()
let dataDir: string
let ch: ClickHouse
let store: SyncLogStore

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'synclog-at-scale-'))
  ch = await openClickHouse({ dataDir, logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)
  const loading = performance.now()
  // A bulk load: merges wait until it is done (two cores go to the inserts), then run
  // in the background while the tests read. FINAL answers the same with 60 parts or 6.
  await ch.client.command({ query: 'SYSTEM STOP MERGES sync_log' })
  for (const batch of log.logBatches(WRITE_BATCH)) await store.write(batch)
  await store.write([...log.countEvents(), ...log.statusEvents()])
  await ch.client.command({ query: 'SYSTEM START MERGES sync_log' })
  timings['load (ms)'] = Math.round(performance.now() - loading)
  timings['rows'] = log.size
  timings['JS heap after load (MB)'] = Math.round(process.memoryUsage().heapUsed / 1e6)
}, 15 * 60_000)

afterAll(async () => {
  await ch?.close()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  timings['file total (ms)'] = Math.round(performance.now() - started)
  timings['peak RSS (MB)'] = Math.round(process.resourceUsage().maxRSS / 1024)
  console.info(`log at scale: ${JSON.stringify(timings)}`)
})

// ---- fixtures (chosen from the generated data, which is deterministic) -------------------------

const T = log.tenants.map((t) => t.name)
const [EMERSON, LINCOLN_COUNTY, LINCOLN_USD, SIERRA] = T as [string, string, string, string]

function syncWhere(what: string, keep: (s: GeneratedSync) => boolean): GeneratedSync {
  const s = log.syncs.find(keep)
  if (s === undefined) throw new Error(`the generated log has no ${what}`)
  return s
}
const nightly = (tenant: number, day: string) =>
  syncWhere(
    `nightly of ${T[tenant]} on ${day}`,
    (s) => s.tenant === tenant && s.app === 'sis-nightly' && new Date(s.startedMs).toISOString().startsWith(day),
  )
const REJECTED = syncWhere('rejected sync', (s) => s.status === 'Rejected')
const ON_HOLD = syncWhere('sync on hold', (s) => s.status === 'On Hold')
const FAILED = syncWhere('failed sync', (s) => s.status === 'Failed')
const APPROVED = syncWhere('approved hold', (s) => s.kind === 'approved')
const MONTH_END = syncWhere('month-end sync', (s) => s.kind === 'month-end')
const TWINS = log.syncs.filter((s) => s.kind === 'twin')
const INITIAL = syncWhere('initial sync', (s) => s.kind === 'initial' && s.tenant === 2)
const CLEAN = syncWhere('sync without errors', (s) => s.kind === 'regular' && s.status === 'Completed' && s.tenant === 3)
const N_EM = nightly(0, '2024-10-02')
const N_LC = nightly(1, '2024-09-18')
const N_LU = nightly(2, '2024-10-21')
const N_SV = nightly(3, '2024-09-03')

/** A school of Lincoln County (its id exists in Emerson too) some of whose students take a section at another school. */
const SCOPE_SCHOOL = 'sch-04'
/** The school most of those sections are at. */
const SERVED_ELSEWHERE = (() => {
  const seen = new Map<string, number>()
  for (const s of log.syncs.filter((sync) => sync.tenant === 1)) {
    for (let i = s.firstRow; i < s.firstRow + s.rowCount; i++) {
      const serving = log.value(i, 'servingSchoolId')
      if (log.value(i, 'homeSchoolId') === SCOPE_SCHOOL && serving !== '' && serving !== SCOPE_SCHOOL)
        seen.set(serving, (seen.get(serving) ?? 0) + 1)
    }
  }
  const [top] = [...seen].sort((a, b) => b[1] - a[1])
  if (top === undefined) throw new Error(`no student homed at ${SCOPE_SCHOOL} is served elsewhere`)
  return top[0]
})()

const studentNumber = (tenant: number, s: number) => log.tenants[tenant]?.students[s]?.number ?? ''

// ---- helpers -------------------------------------------------------------------------------

const keyOf = (r: Pick<LogRecord, 'tenant' | 'syncId' | 'seq'>) => `${r.tenant}|${r.syncId}|${r.seq}`
const RECORD_KEYS = [
  'tenant',
  'syncId',
  'seq',
  'date',
  ...LOG_COLUMNS.filter((c) => c !== 'date' && c !== 'syncId'),
  'recordSchoolId',
] as const

function describeFilter(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'string' && v.length > 60 ? `${v.slice(0, 30)}…(${v.length} chars)` : v,
  )
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

/** The store's rows equal the oracle's, in order, every column. */
function expectRecords(got: readonly LogRecord[], rows: readonly number[], label: string): void {
  const expected = oracle.records(rows)
  expect(got.map(keyOf), label).toEqual(expected.map(keyOf))
  got.forEach((g, k) => {
    const e = expected[k]
    if (e === undefined) return
    const same = Object.keys(g).length === RECORD_KEYS.length && RECORD_KEYS.every((c) => g[c] === e[c])
    if (!same) expect(g, `${label}: row ${k}`).toEqual(e)
  })
}

async function readAll(scope: Scope, filter: LogFilter, pageRows = 5_000): Promise<LogRecord[]> {
  const rows: LogRecord[] = []
  for await (const r of store.streamLog(scope, filter, pageRows)) rows.push(r)
  return rows
}

/** Every row in the scope matching the filter, compared in full. Returns how many. */
async function expectLog(scope: Scope, filter: LogFilter): Promise<number> {
  const rows = oracle.select(scope, filter)
  expect(rows.length, 'a full comparison is kept to results a test can stream').toBeLessThan(120_000)
  expectRecords(await readAll(scope, filter), rows, `${describeFilter(scope)} ${describeFilter(filter)}`)
  return rows.length
}

/** For results too big to stream in a test: the first page, row for row, and the totals. */
async function expectFirstPageAndCount(scope: Scope, filter: LogFilter, limit = 500): Promise<number> {
  const label = `${describeFilter(scope)} ${describeFilter(filter)}`
  const page = await store.queryLog(scope, filter, { limit })
  const expected = oracle.count(scope, filter)
  expectRecords(page.rows, oracle.select(scope, filter, { limit }), label)
  expect(page.nextCursor === null, label).toBe(expected.rows <= limit)
  expect(await store.countLog(scope, filter), label).toEqual(expected)
  return expected.rows
}

function schoolScope(tenant: string, id: string, side: 'home' | 'serving' | 'either'): Scope {
  return { tenant, school: { id, side } }
}

// ---- the generated log -------------------------------------------------------------------------

describe('the generated log', () => {
  it(`holds at least three million rows (${log.size.toLocaleString('en')}), every count and every status`, async () => {
    expect(log.size).toBeGreaterThanOrEqual(3_000_000)
    expect(await store.countLog(UNSCOPED, { includeRejected: true })).toEqual(oracle.count(UNSCOPED, { includeRejected: true }))
    expect((await store.listSyncs(UNSCOPED, {})).length).toBe(log.syncs.length)
    const rs = await ch.client.query({ query: 'SELECT toUInt32(count()) AS n FROM sync_counts FINAL', format: 'JSONEachRow' })
    expect(await rs.json()).toEqual([{ n: log.countEvents().length }])
  })

  it('has every status, action, outcome, entity, interdistrict rows and cascades', () => {
    expect(new Set(log.syncs.map((s) => s.status))).toEqual(
      new Set(['Completed', 'Completed with Errors', 'Rejected', 'On Hold', 'Failed']),
    )
    const seen = (column: LogColumn) => {
      const values = new Set<string>()
      for (let i = 0; i < log.size; i += 7) values.add(log.value(i, column))
      return values
    }
    expect(seen('action').size).toBe(13)
    expect(seen('outcome')).toEqual(new Set(['', 'New', 'Updated', 'Deleted', 'Skipped', 'Invalid', 'Merged', 'Excluded']))
    expect(seen('entity')).toEqual(new Set(ENTITY_CODES))
    let interdistrict = 0
    let partnerHome = 0
    for (let i = 0; i < log.size; i += 13) {
      if (log.home[i]! >= 0 && log.serving[i]! >= 0 && log.home[i] !== log.serving[i]) interdistrict++
      if (log.value(i, 'homeDistrictId') === 'D900' && log.value(i, 'servingDistrictId') !== '') partnerHome++
    }
    expect(interdistrict).toBeGreaterThan(1000)
    expect(partnerHome).toBeGreaterThan(100)
    // A famous student has rows in every sync of their tenant that has rows.
    const withRows = log.syncs.filter((s) => s.tenant === 0 && s.kind !== 'initial' && s.rowCount > 0).length
    const history = oracle.select(UNSCOPED, { studentNumber: studentNumber(0, 0), tenant: EMERSON, includeRejected: true })
    expect(new Set(history.map((i) => log.syncOf(i).syncId)).size).toBeGreaterThanOrEqual(withRows)
  })

  it('counts are consistent with the rows: every counted record but No Change has a row under its school', () => {
    // The approved sync also counts 3 enrollment updates per school (its first three) that left no roster row.
    const unloggedSchools = log.tenants[3]!.schools.slice(0, 3).map((school) => school.id)
    const fields = [
      ['New', 'new'],
      ['Updated', 'updated'],
      ['Deleted', 'deleted'],
      ['Skipped', 'skipped'],
      ['Invalid', 'invalid'],
      ['Merged', 'merged'],
      ['Excluded', 'excluded'],
    ] as const
    for (const s of log.syncs) {
      /** entity × school × outcome → the records with a row there. */
      const records = new Map<number, Set<number>>()
      for (let i = s.firstRow; i < s.firstRow + s.rowCount; i++) {
        if (log.outcome[i] === 0) continue
        const key = (log.entity[i]! * 4096 + log.recSchool[i]! + 1) * 16 + log.outcome[i]!
        const set = records.get(key) ?? new Set<number>()
        set.add(log.rec[i]!)
        records.set(key, set)
      }
      const logged = new Map<string, number>()
      for (const [key, set] of records) {
        const [entity, school, outcome] = [Math.floor(key / 16 / 4096), (Math.floor(key / 16) % 4096) - 1, key % 16]
        const schoolId = school < 0 ? '' : log.tenants[s.tenant]!.schools[school]!.id
        logged.set(`${ENTITY_CODES[entity]}|${schoolId}|${OUTCOME_CODES[outcome]}`, set.size)
      }
      let counted = 0
      for (const c of s.counts) {
        for (const [outcome, field] of fields) {
          const rows = logged.get(`${c.entity}|${c.schoolId}|${outcome}`) ?? 0
          const unlogged =
            s === APPROVED && c.entity === 'enrollment' && outcome === 'Updated' && unloggedSchools.includes(c.schoolId) ? 3 : 0
          if (c.counts[field] !== rows + unlogged) {
            expect({ sync: s.syncId, entity: c.entity, school: c.schoolId, outcome, counted: c.counts[field] }).toEqual({
              sync: s.syncId,
              entity: c.entity,
              school: c.schoolId,
              outcome,
              counted: rows + unlogged,
            })
          }
          if (rows > 0) counted++
        }
        expect(c.counts.total).toBe(
          c.counts.new +
            c.counts.updated +
            c.counts.noChange +
            c.counts.deleted +
            c.counts.skipped +
            c.counts.invalid +
            c.counts.merged +
            c.counts.excluded,
        )
        expect(c.counts.duplicates).toBe(c.counts.merged + c.counts.excluded)
      }
      // Every cell with rows is counted.
      expect(counted, s.syncId).toBe(logged.size)
    }
    expect(log.syncs.some((s) => s.counts.some((c) => c.counts.noChange > 0 && c.counts.total === c.counts.noChange))).toBe(true)
  })

  it('gives every (tenant, entity, record) its own sourcedId, as the oracle counts records by index', () => {
    for (const [t, p] of log.tenants.entries()) {
      expect(new Set(p.enrollmentIds).size, T[t]).toBe(p.enrollmentIds.length)
      expect(new Set([...p.students.map((s) => s.sourcedId), ...p.teachers.map((s) => s.sourcedId)]).size).toBe(
        p.students.length + p.teachers.length,
      )
      expect(new Set(p.sections.map((s) => s.sourcedId)).size).toBe(p.sections.length)
      expect(new Set([...p.schools.slice(0, p.ownSchools).map((s) => s.id), p.districtId]).size).toBe(p.ownSchools + 1)
      expect(new Set(p.courses.map((c) => c.sourcedId)).size).toBe(p.courses.length)
      expect(new Set(p.terms).size).toBe(p.terms.length)
    }
  })
})

// ---- filters -----------------------------------------------------------------------------------

describe('filters', () => {
  const ALONE: LogFilter[] = [
    { tenant: LINCOLN_USD },
    { syncId: N_EM.syncId },
    { school: 'sch-03', schoolSide: 'home' },
    { school: 'sch-03', schoolSide: 'serving' },
    { school: 'sch-03' },
    { actions: ['Updated Roster Start Date', 'Invalidated Section'] },
    { outcomes: ['Invalid', 'Excluded'] },
    { outcomes: [''] },
    { apps: ['sftp-drop'] },
    { entities: ['class', 'org'] },
    { from: '2024-11-03' },
    { to: '2024-08-26' },
    { from: '2024-10-01T04:00:00+02:00', to: '2024-10-01T02:00:05.5-00:00' },
    { contains: [{ column: 'studentName', text: 'ÑÚÑEZ' }] },
    { recordSchoolId: 'P-02' },
    { includeRejected: true },
  ]
  for (const filter of ALONE) {
    it(`${describeFilter(filter)} alone returns the oracle's first page and totals`, async () => {
      expect(await expectFirstPageAndCount(UNSCOPED, filter)).toBeGreaterThan(0)
    })
  }

  it('an empty list does not filter', async () => {
    const filter: LogFilter = { syncId: N_LC.syncId, actions: [], outcomes: [], apps: [], entities: [], contains: [] }
    expect(await expectLog(UNSCOPED, filter)).toBe(N_LC.rowCount)
  })

  const COMBINED: LogFilter[] = [
    {
      tenant: EMERSON,
      school: 'sch-05',
      schoolSide: 'home',
      actions: ['Created Roster', 'Deleted Roster'],
      from: '2024-10-01',
      to: '2024-10-07',
    },
    { syncId: N_LU.syncId, outcomes: ['Skipped', 'Invalid', 'Merged', 'Excluded'], entities: ['user', 'enrollment'] },
    { tenant: SIERRA, apps: ['oneroster-csv'], contains: [{ column: 'courseName', text: 'algebra' }], to: '2024-10-15' },
    {
      tenant: LINCOLN_COUNTY,
      school: 'sch-11',
      schoolSide: 'serving',
      outcomes: ['New'],
      contains: [{ column: 'sectionNumber', text: '52' }],
    },
    {
      tenant: LINCOLN_USD,
      contains: [
        { column: 'studentName', text: 'zoë' },
        { column: 'homeSchool', text: 'MÜLLER' },
      ],
      from: '2024-09-01',
      to: '2024-09-20',
    },
    { tenant: EMERSON, outcomes: [''], from: '2024-10-20' },
    { syncId: REJECTED.syncId, actions: ['Deleted Roster', 'Skipped'], includeRejected: true },
    { tenant: SIERRA, school: 'SV-07', entities: ['user'], outcomes: ['Skipped', 'Invalid'], from: '2024-09-01' },
    {
      apps: ['sis-nightly', 'sftp-drop'],
      entities: ['academicSession', 'course'],
      outcomes: ['Updated'],
      from: '2024-10-10',
      to: '2024-10-12T23:59:59.999Z',
    },
    {
      actions: ['Updated Section Data'],
      contains: [
        { column: 'oldValue', text: 'ROOM: GYM' },
        { column: 'newValue', text: 'salón' },
      ],
      to: '2024-09-10',
    },
  ]
  for (const filter of COMBINED) {
    it(`${describeFilter(filter)} returns exactly the oracle's rows`, async () => {
      expect(await expectLog(UNSCOPED, filter)).toBeGreaterThan(0)
    })
  }

  describe('contains', () => {
    const DAY: LogFilter = { tenant: LINCOLN_COUNTY, from: '2024-10-08', to: '2024-10-08' }
    const CONTAINS: { column: LogColumn; text: string }[] = [
      { column: 'studentName', text: 'ÑÚÑEZ' },
      { column: 'studentName', text: 'çelik' },
      { column: 'studentName', text: "O'BRIEN" },
      { column: 'studentName', text: 'zoË' },
      { column: 'studentName', text: 'NA' },
      { column: 'courseName', text: 'ESPAÑOL' },
      { column: 'homeSchool', text: 'ñandú' },
      { column: 'servingSchool', text: "O'CONNOR" },
      { column: 'message', text: 'IS NOT AN ADDRESS' },
      { column: 'oldValue', text: 'muller' },
      { column: 'newValue', text: 'MÜLLER@' },
      { column: 'action', text: 'roster end' },
      { column: 'outcome', text: 'XCLUD' },
      { column: 'entity', text: 'SESSION' },
      { column: 'syncId', text: 'lc-20241008t02' },
      { column: 'sourcedId', text: 'ENR-S0001' },
      { column: 'field', text: 'EMAIL' },
      { column: 'homeDistrictId', text: 'd900' },
      { column: 'studentNumber', text: 's0000' },
      { column: 'date', text: '2024-10-08t02:00:0' },
      { column: 'homeDistrict', text: 'VALLEY' },
    ]
    for (const c of CONTAINS) {
      it(`on ${c.column} '${c.text}' is a case-insensitive substring`, async () => {
        const n = await expectLog(UNSCOPED, { ...DAY, contains: [c] })
        expect(n).toBeGreaterThan(0)
      })
    }

    it('several contains filters are ANDed', async () => {
      const contains = [
        { column: 'studentName' as const, text: 'ü' },
        { column: 'courseName' as const, text: 'ALGEBRA' },
        { column: 'action' as const, text: 'roster' },
      ]
      const n = await expectLog(UNSCOPED, { tenant: EMERSON, from: '2024-09-01', to: '2024-09-15', contains })
      expect(n).toBeGreaterThan(0)
      const rows = oracle.select(UNSCOPED, { tenant: EMERSON, from: '2024-09-01', to: '2024-09-15', contains })
      expect(rows.every((i) => icontains(log.value(i, 'studentName'), 'ü') && icontains(log.value(i, 'courseName'), 'algebra'))).toBe(true)
    })

    it('text that appears nowhere matches nothing', async () => {
      expect(await expectLog(UNSCOPED, { tenant: SIERRA, contains: [{ column: 'studentName', text: 'Nobody, Nowhere' }] })).toBe(0)
    })
  })

  describe('dates', () => {
    it('from and to equal to one instant return the rows of that instant (ties across tenants)', async () => {
      const at = '2024-10-01T02:00:00.040Z'
      expect(await expectLog(UNSCOPED, { from: at, to: at })).toBe(4)
      expect(await expectLog(UNSCOPED, { from: '2024-10-01T04:00:00.040+02:00', to: '2024-09-30T21:00:00.040-05:00' })).toBe(4)
    })

    it('a bare date covers its whole UTC day, across midnight and the month end', async () => {
      const filter = { tenant: LINCOLN_USD, apps: ['sftp-drop'] }
      const before = await expectLog(UNSCOPED, { ...filter, from: '2024-09-30', to: '2024-09-30' })
      const after = await expectLog(UNSCOPED, { ...filter, from: '2024-10-01', to: '2024-10-01' })
      expect(before).toBeGreaterThan(0)
      expect(after).toBeGreaterThan(0)
      const sync = oracle.select(UNSCOPED, { syncId: MONTH_END.syncId })
      expect(sync.filter((i) => log.value(i, 'date').startsWith('2024-09-30')).length).toBe(before)
    })

    it('from alone and to alone are inclusive bounds', async () => {
      const last = oracle.select(UNSCOPED, { tenant: SIERRA }, { limit: 1 })[0]!
      const newest = log.value(last, 'date')
      expect(await expectLog(UNSCOPED, { tenant: SIERRA, from: newest })).toBeGreaterThan(0)
      const first = log.value(oracle.select(UNSCOPED, { syncId: N_SV.syncId }).at(-1)!, 'date')
      expect(await expectLog(UNSCOPED, { syncId: N_SV.syncId, to: first })).toBe(1)
    })
  })

  describe('rejected syncs', () => {
    it('hides the rows of a sync whose latest status is Rejected unless asked for', async () => {
      expect(await expectLog(UNSCOPED, { syncId: REJECTED.syncId })).toBe(0)
      expect(await expectLog(UNSCOPED, { syncId: REJECTED.syncId, includeRejected: true })).toBe(REJECTED.rowCount)
      const day = new Date(REJECTED.startedMs).toISOString().slice(0, 10)
      const without = await expectLog(UNSCOPED, { tenant: EMERSON, from: day, to: day })
      const withRejected = await expectLog(UNSCOPED, { tenant: EMERSON, from: day, to: day, includeRejected: true })
      expect(withRejected - without).toBe(REJECTED.rowCount)
    })

    it('shows the rows of a sync approved after a hold, and those of a sync on hold only when proposed rows are asked for', async () => {
      expect(await expectFirstPageAndCount(UNSCOPED, { syncId: APPROVED.syncId }, 200)).toBe(APPROVED.rowCount)
      expect(await expectFirstPageAndCount(UNSCOPED, { syncId: ON_HOLD.syncId }, 200)).toBe(0)
      expect(await expectFirstPageAndCount(UNSCOPED, { syncId: ON_HOLD.syncId, includeProposed: true }, 200)).toBe(ON_HOLD.rowCount)
    })
  })
})

// ---- pagination --------------------------------------------------------------------------------

describe('cursor pagination', () => {
  async function walk(scope: Scope, filter: LogFilter, limit: number): Promise<{ rows: LogRecord[]; pages: number[] }> {
    const rows: LogRecord[] = []
    const pages: number[] = []
    let cursor: string | undefined
    do {
      const page = await store.queryLog(scope, filter, { limit, cursor })
      rows.push(...page.rows)
      pages.push(page.rows.length)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return { rows, pages }
  }

  const sizes = (total: number, limit: number) =>
    Array.from({ length: Math.max(1, Math.ceil(total / limit)) }, (_, k) => Math.min(limit, total - k * limit))

  it('walking every page equals the full ordered result, with no gap or repeat, for several page sizes', async () => {
    const filter: LogFilter = { tenant: EMERSON, from: '2024-10-02', to: '2024-10-03' }
    const expected = oracle.select(UNSCOPED, filter)
    expect(expected.length).toBeGreaterThan(15_000)
    for (const limit of [10_000, 4_999, 1_000]) {
      const { rows, pages } = await walk(UNSCOPED, filter, limit)
      expect(pages, `pages of ${limit}`).toEqual(sizes(expected.length, limit))
      expectRecords(rows, expected, `pages of ${limit}`)
    }
  })

  it('pages cut through rows with the same date, ordered by syncId, seq and tenant', async () => {
    // Every tenant's nightly starts at 02:00:00.000 and spaces rows alike: each instant has one row per tenant.
    const ties: LogFilter = { from: '2024-10-01T02:00:00.000Z', to: '2024-10-01T02:00:00.200Z' }
    // Cascaded rows of a sync all carry its end.
    const cascades: LogFilter = { syncId: N_LU.syncId, outcomes: [''] }
    // The twins share sync id, start and dates: only the tenant orders them.
    const twins: LogFilter = { syncId: 'manual-2024-10-15', to: '2024-10-15T15:00:00.250Z' }
    for (const [filter, limits] of [
      [ties, [1, 3]],
      [cascades, [7]],
      [twins, [1, 3]],
    ] as const) {
      const expected = oracle.select(UNSCOPED, filter)
      expect(expected.length, describeFilter(filter)).toBeGreaterThan(4)
      for (const limit of limits) {
        const { rows, pages } = await walk(UNSCOPED, filter, limit)
        expect(pages).toEqual(sizes(expected.length, limit))
        expectRecords(rows, expected, `${describeFilter(filter)} pages of ${limit}`)
      }
    }
    const twinTenants = oracle
      .select(UNSCOPED, twins)
      .slice(0, 4)
      .map((i) => log.value(i, 'tenant'))
    expect(twinTenants).toEqual([LINCOLN_USD, LINCOLN_COUNTY, LINCOLN_USD, LINCOLN_COUNTY])
  })

  it('the first page of a query over the whole log is the newest rows of the whole log', async () => {
    const page = await store.queryLog(UNSCOPED, {}, { limit: 2_000 })
    expectRecords(page.rows, oracle.select(UNSCOPED, {}, { limit: 2_000 }), 'first page')
    expect(page.nextCursor).not.toBeNull()
    const next = await store.queryLog(UNSCOPED, {}, { limit: 2_000, cursor: page.nextCursor ?? undefined })
    expectRecords(
      next.rows,
      oracle.select(UNSCOPED, {}, { limit: 2_000, after: oracle.select(UNSCOPED, {}, { limit: 2_000 }).at(-1)! }),
      'second page',
    )
  })

  it('a cursor that was not handed out is a USAGE error', async () => {
    for (const cursor of ['nope', "' OR 1=1 --", Buffer.from('{"d":"2024-10-01","s":"x","q":-1,"t":"x"}').toString('base64url')]) {
      await expect(store.queryLog(UNSCOPED, {}, { cursor })).rejects.toMatchObject({ code: 'USAGE' })
    }
  })
})

// ---- scopes --------------------------------------------------------------------------------------

describe('scopes', () => {
  const WINDOW: LogFilter = { from: '2024-09-10', to: '2024-09-16' }
  const FILTERS: LogFilter[] = [
    WINDOW,
    { ...WINDOW, actions: ['Created Roster', 'Updated Roster End Date'], outcomes: ['New', 'Updated'] },
    { ...WINDOW, entities: ['user'], contains: [{ column: 'studentName', text: 'a' }] },
    { syncId: N_LC.syncId },
    { studentNumber: studentNumber(1, 63) },
    { tenant: EMERSON, ...WINDOW },
    { school: SERVED_ELSEWHERE, ...WINDOW },
    { school: SERVED_ELSEWHERE, schoolSide: 'serving', ...WINDOW },
    { school: SCOPE_SCHOOL, schoolSide: 'home', ...WINDOW },
    { syncId: N_EM.syncId },
  ]

  for (const side of ['home', 'serving', 'either'] as const) {
    it(`a school-scoped caller (${side} side) sees exactly its rows for every filter`, async () => {
      // The school's id exists in two tenants: the scope's tenant keeps the other one out.
      const scope = schoolScope(LINCOLN_COUNTY, SCOPE_SCHOOL, side)
      let seen = 0
      for (const filter of FILTERS) {
        seen += await expectLog(scope, filter)
        const rows = oracle.select(scope, filter)
        expect(
          rows.every(
            (i) =>
              log.value(i, 'tenant') === LINCOLN_COUNTY &&
              ((side !== 'serving' && log.value(i, 'homeSchoolId') === SCOPE_SCHOOL) ||
                (side !== 'home' && log.value(i, 'servingSchoolId') === SCOPE_SCHOOL)),
          ),
        ).toBe(true)
      }
      expect(seen).toBeGreaterThan(100)
    })
  }

  it("a partner district's school sees its interdistrict students on the home side only", async () => {
    const home = await expectLog(schoolScope(EMERSON, 'P-01', 'home'), { from: '2024-10-01', to: '2024-10-10' })
    expect(home).toBeGreaterThan(0)
    expect(await expectLog(schoolScope(EMERSON, 'P-01', 'serving'), { from: '2024-10-01', to: '2024-10-10' })).toBe(0)
  })

  it("a tenant-scoped caller sees exactly its tenant's rows for every filter", async () => {
    const scope: Scope = { tenant: LINCOLN_USD }
    let seen = 0
    const DAY: LogFilter = { from: '2024-09-12', to: '2024-09-12' }
    const filters: LogFilter[] = [
      DAY,
      { ...DAY, actions: ['Created Roster', 'Updated Roster End Date'], outcomes: ['New', 'Updated'] },
      { ...DAY, entities: ['user'], contains: [{ column: 'studentName', text: 'a' }] },
      { syncId: N_LC.syncId },
      { syncId: N_LU.syncId },
      { studentNumber: studentNumber(2, 63) },
      { tenant: EMERSON, ...DAY },
      { ...DAY, school: '103' },
      { tenant: LINCOLN_USD, from: '2024-09-01', to: '2024-09-30', apps: ['oneroster-csv'], outcomes: ['Skipped'] },
    ]
    for (const filter of filters) {
      seen += await expectLog(scope, filter)
    }
    expect(seen).toBeGreaterThan(1000)
  })

  it('a scope outside the log sees nothing', async () => {
    expect(await expectLog({ tenant: 'no-such-district' }, {})).toBe(0)
    expect(await expectLog(schoolScope(SIERRA, 'sch-03', 'either'), {})).toBe(0)
  })

  describe('hostile filter text', () => {
    const HOSTILE: string[] = [
      "'",
      '"',
      "' OR 1=1 --",
      "') OR ('1'='1",
      "' OR ''='",
      '\\',
      "\\'",
      'Back\\slash',
      '{scope_tenant:String}',
      '{scope_school:String}',
      "{f_tenant:String}' OR tenant = 'emerson-unified",
      '%',
      '_',
      '`',
      '\u0000',
      'a\u0000b',
      'ÑÚÑEZ',
      'é',
      '😀',
      '😀 Emoji',
      'ʼ',
      `${EMERSON}`,
      "Robert'); DROP TABLE sync_log;--",
      `${'x'.repeat(100 * 1024)}`,
      `${"'".repeat(50 * 1024)}`,
    ]
    /** A few of them for the filters that take whole values. */
    const HOSTILE_VALUES = ["' OR 1=1 --", '{scope_tenant:String}', '\u0000', EMERSON, 'sch-04', 'x'.repeat(100 * 1024)]
    const SCOPES: Scope[] = [schoolScope(LINCOLN_COUNTY, 'sch-03', 'either'), { tenant: LINCOLN_USD }]
    const MONTH: LogFilter = { from: '2024-09-01', to: '2024-09-30' }

    it('in contains filters never returns a row outside the scope, and never errors', async () => {
      let found = 0
      for (const scope of SCOPES) {
        for (const text of scope === SCOPES[0] ? HOSTILE : HOSTILE.filter((_, k) => k % 2 === 0)) {
          found += await expectLog(scope, { ...MONTH, contains: [{ column: 'studentName', text }] })
        }
        for (const text of HOSTILE.filter((_, k) => k % 4 === 0)) {
          await expectLog(scope, {
            ...MONTH,
            contains: [
              { column: 'message', text },
              { column: 'courseName', text: text.slice(0, 3) },
            ],
          })
        }
      }
      // The hostile names are in the data: the texts find them, and only inside the scope.
      expect(found).toBeGreaterThan(0)
    })

    it('in exact filters, lists and record keys never returns a row outside the scope, and never errors', async () => {
      const scope = SCOPES[0]!
      for (const text of HOSTILE_VALUES) {
        const filters: LogFilter[] = [
          { tenant: text, syncId: N_LC.syncId },
          { syncId: text },
          { ...MONTH, school: text },
          { actions: [text, 'Created Roster'], syncId: N_LC.syncId },
          { ...MONTH, outcomes: [text], apps: [text], entities: [text] },
          { sourcedId: text },
          { ...MONTH, recordSchoolId: text },
        ]
        for (const filter of filters) await expectLog(scope, filter)
        expect((await store.recordHistory(scope, { kind: 'student', id: text })).rows).toEqual([])
      }
    })

    it('a tenant filter naming another tenant, or a school filter naming another school, narrows to nothing or to the overlap', async () => {
      const scope = schoolScope(LINCOLN_COUNTY, SCOPE_SCHOOL, 'home')
      expect(await expectLog(scope, { tenant: EMERSON })).toBe(0)
      expect(await expectLog({ tenant: LINCOLN_USD }, { tenant: LINCOLN_COUNTY, syncId: N_LC.syncId })).toBe(0)
      expect(await expectLog({ tenant: LINCOLN_USD }, { syncId: N_LC.syncId })).toBe(0)
      // Students homed at the scope's school and served at another: the overlap of scope and filter.
      expect(await expectLog(scope, { school: SERVED_ELSEWHERE, schoolSide: 'serving', ...WINDOW })).toBeGreaterThan(0)
      expect(await expectLog(scope, { school: SERVED_ELSEWHERE, schoolSide: 'home', ...WINDOW })).toBe(0)
      expect(await expectLog(scope, { school: SERVED_ELSEWHERE, ...WINDOW })).toBeGreaterThan(0)
    })

    it('only bad dates, limits, columns and over-long text are errors, and they are USAGE errors', async () => {
      const scope = SCOPES[0]!
      for (const filter of [
        { from: "2024-01-01' OR 1=1 --" },
        { to: '{scope_tenant:String}' },
        { from: '2024-02-30' },
        { schoolSide: "home' OR 1=1" as 'home', school: 'x' },
      ]) {
        await expect(store.queryLog(scope, filter), describeFilter(filter)).rejects.toMatchObject({ code: 'USAGE' })
      }
      await expect(store.queryLog(scope, { contains: [{ column: 'tenant' as LogColumn, text: 'x' }] })).rejects.toMatchObject({
        code: 'USAGE',
      })
      await expect(store.queryLog(scope, { contains: [{ column: 'studentName', text: 'x'.repeat(200_001) }] })).rejects.toMatchObject({
        code: 'USAGE',
      })
      await expect(store.queryLog(scope, {}, { limit: 10_001 })).rejects.toMatchObject({ code: 'USAGE' })
      await expect(store.listSyncs(scope, { to: "2024' OR 1=1" })).rejects.toMatchObject({ code: 'USAGE' })
      await expect(store.dailyRollups(scope, { from: 'yesterday' })).rejects.toMatchObject({ code: 'USAGE' })
      const error = await store.queryLog({ tenant: '' }, {}).then(
        () => null,
        (e: unknown) => e,
      )
      expect(isSynclogError(error, 'USAGE')).toBe(true)
    })

    it("never reaches another tenant's syncs, summaries, drill-downs or reports", async () => {
      const scope = SCOPES[0]!
      for (const syncId of [N_EM.syncId, ...HOSTILE_VALUES]) {
        expect(await store.getSync(scope, syncId)).toBeNull()
        expect(await store.summary(scope, syncId, { bySchool: true })).toBeNull()
        expect(await store.drillDown(scope, { syncId, entity: 'enrollment', schoolId: 'sch-03', outcomes: ['New'] })).toBeNull()
        expect(await store.reportRows(scope, syncId)).toEqual([])
      }
      for (const text of HOSTILE_VALUES.slice(0, 4)) {
        const cell: CountCell = { syncId: N_LC.syncId, entity: 'enrollment', schoolId: text, outcomes: ['New'] }
        const got = await store.drillDown(scope, cell)
        const expected = oracle.drillDown(scope, cell)
        expect(got?.count).toBe(expected?.count)
        expectRecords(got?.rows ?? [], expected?.rows ?? [], `drill-down into school ${describeFilter(text)}`)
      }
    })
  })
})

// ---- syncs, summaries, drill-down, history, rollups, reports ---------------------------------------

describe('sync history', () => {
  const SCOPES: Scope[] = [
    UNSCOPED,
    { tenant: SIERRA },
    schoolScope(LINCOLN_COUNTY, 'sch-03', 'either'),
    schoolScope(EMERSON, 'P-02', 'home'),
  ]
  const FILTERS = [
    {},
    { app: 'oneroster-csv' },
    { tenant: LINCOLN_USD, from: '2024-09-30', to: '2024-10-31T23:59:10Z' },
    { from: '2024-10-15T17:00:00+02:00', to: '2024-10-15T15:00:00Z' },
    { limit: 7 },
    { app: 'sftp-drop', limit: 3 },
    { tenant: LINCOLN_COUNTY, from: '2024-11-04' },
  ]
  for (const scope of SCOPES) {
    it(`listSyncs in scope ${describeFilter(scope)} lists every run newest first, with totals and errors summed from its counts`, async () => {
      for (const filter of FILTERS) {
        const expected = oracle.listSyncs(scope, filter)
        expect(await store.listSyncs(scope, filter), describeFilter(filter)).toEqual(expected)
      }
      expect(oracle.listSyncs(scope, {}).length).toBeGreaterThan(50)
    })
  }

  it('a failed sync has no totals, a rejected sync keeps them, and a sync on hold shows its hold', async () => {
    expect(await store.getSync(UNSCOPED, FAILED.syncId)).toMatchObject({ status: 'Failed', total: 0, errors: 0 })
    expect(await store.getSync(UNSCOPED, REJECTED.syncId)).toEqual(oracle.getSync(UNSCOPED, REJECTED.syncId))
    expect(await store.getSync({ tenant: LINCOLN_COUNTY }, ON_HOLD.syncId)).toEqual(
      oracle.getSync({ tenant: LINCOLN_COUNTY }, ON_HOLD.syncId),
    )
    expect(await store.getSync({ tenant: LINCOLN_USD }, TWINS[0]!.syncId)).toEqual(
      oracle.getSync({ tenant: LINCOLN_USD }, TWINS[0]!.syncId),
    )
  })
})

describe('summaries', () => {
  const SYNCS = [INITIAL, REJECTED, ON_HOLD, FAILED, APPROVED, MONTH_END, CLEAN, N_LC, N_LU, ...TWINS]
  const SCOPES: Scope[] = [
    UNSCOPED,
    { tenant: LINCOLN_COUNTY },
    { tenant: LINCOLN_USD },
    schoolScope(LINCOLN_COUNTY, 'sch-03', 'serving'),
    schoolScope(LINCOLN_USD, '107', 'home'),
    schoolScope(SIERRA, 'SV-20', 'either'),
    schoolScope(EMERSON, 'P-03', 'home'),
  ]
  for (const scope of SCOPES) {
    it(`by entity and by school equal the oracle in scope ${describeFilter(scope)}`, async () => {
      let visible = 0
      for (const s of SYNCS) {
        for (const bySchool of scope === UNSCOPED ? [false, true] : [true]) {
          const expected = oracle.summary(scope, s.syncId, bySchool)
          expect(await store.summary(scope, s.syncId, { bySchool }), `${s.syncId} bySchool ${bySchool}`).toEqual(expected)
          if (expected !== null) visible++
        }
      }
      expect(visible).toBeGreaterThan(0)
    })
  }

  it('bySchool keys district-level counts under (district)', async () => {
    const summary = await store.summary({ tenant: LINCOLN_USD }, N_LU.syncId, { bySchool: true })
    expect(summary?.bySchool?.['(district)']?.counts['academicSession']?.total).toBeGreaterThan(0)
  })
})

describe('drill-down', () => {
  /** Cells of a sync: every outcome of every entity, a few schools each. */
  function sampleCells(s: GeneratedSync, perOutcome: number): CountCell[] {
    const byKind = new Map<string, CountCell[]>()
    for (const cell of oracle.cells(s)) {
      const key = `${cell.entity}|${cell.outcomes?.[0]}`
      const list = byKind.get(key) ?? []
      if (list.length < perOutcome) list.push(cell)
      byKind.set(key, list)
    }
    return [...byKind.values()].flat()
  }

  async function expectDrillDown(scope: Scope, cell: CountCell): Promise<number> {
    const expected = oracle.drillDown(scope, cell)
    const got = await store.drillDown(scope, cell, { limit: 10_000 })
    const label = `${describeFilter(scope)} ${describeFilter(cell)}`
    if (expected === null) {
      expect(got, label).toBeNull()
      return 0
    }
    expect(got, label).not.toBeNull()
    expect({ count: got?.count, note: got?.note, cell: got?.cell, more: got?.nextCursor }, label).toEqual({
      count: expected.count,
      note: expected.note,
      cell: { ...cell, schoolId: expected.schoolId },
      more: null,
    })
    expectRecords(got?.rows ?? [], expected.rows, label)
    return expected.rows.length
  }

  it('returns the records behind many cells of a nightly, with their count', async () => {
    let rows = 0
    for (const cell of sampleCells(N_LU, 1)) rows += await expectDrillDown(UNSCOPED, cell)
    expect(rows).toBeGreaterThan(100)
  })

  it('has a count and no rows for No Change, with a note saying why', async () => {
    const cell = oracle.cells(N_EM).find((c) => c.outcomes?.[0] === 'No Change' && c.entity === 'enrollment')!
    await expectDrillDown(UNSCOPED, cell)
    const got = await store.drillDown(UNSCOPED, cell)
    expect(got?.rows).toEqual([])
    expect(got?.count).toBeGreaterThan(0)
    expect(got?.note).toBe('No Change records are counted but not logged, so this count has no rows.')
  })

  it('explains enrollment updates counted without a roster row', async () => {
    const cell: CountCell = {
      syncId: APPROVED.syncId,
      entity: 'enrollment',
      schoolId: log.tenants[3]!.schools[1]!.id,
      outcomes: ['Updated'],
    }
    await expectDrillDown(UNSCOPED, cell)
    expect((await store.drillDown(UNSCOPED, cell))?.note).toMatch(
      /^3 of \d+ records have no row: a student enrollment is logged by its roster rows/,
    )
  })

  it('district-level cells (courses, orgs, terms) drill down with (district) or a blank school', async () => {
    for (const cell of oracle
      .cells(N_SV)
      .filter((c) => c.schoolId === '' && c.outcomes?.[0] !== 'No Change')
      .slice(0, 4)) {
      await expectDrillDown(UNSCOPED, cell)
      await expectDrillDown(UNSCOPED, { ...cell, schoolId: '(district)' })
    }
  })

  it('a school sees the rows of its cells that name it on its side, the count of its own cells, and no count of other schools', async () => {
    for (const side of ['home', 'serving'] as const) {
      const scope = schoolScope(LINCOLN_USD, '107', side)
      const own = oracle.cells(N_LU).filter((c) => c.schoolId === '107' && c.outcomes?.[0] !== 'No Change')
      expect(own.length).toBeGreaterThan(3)
      for (const cell of own.filter((_, k) => k % 3 === (side === 'home' ? 0 : 1))) await expectDrillDown(scope, cell)
      for (const cell of oracle
        .cells(N_LU)
        .filter((c) => c.schoolId === '108' && c.entity === 'enrollment')
        .slice(0, 2))
        await expectDrillDown(scope, cell)
    }
  })

  it('drills into a rejected sync, the twins (per tenant scope), a partner school and the initial load', async () => {
    for (const cell of sampleCells(REJECTED, 1).slice(0, 6)) await expectDrillDown(UNSCOPED, cell)
    for (const twin of TWINS) {
      const tenant = T[twin.tenant]!
      for (const cell of sampleCells(twin, 1).slice(0, 3)) await expectDrillDown({ tenant }, cell)
    }
    for (const cell of oracle
      .cells(N_EM)
      .filter((c) => (c.schoolId ?? '').startsWith('P-'))
      .slice(0, 3))
      await expectDrillDown(UNSCOPED, cell)
    for (const cell of sampleCells(INITIAL, 1)
      .filter((c) => c.outcomes?.[0] !== 'New')
      .slice(0, 4))
      await expectDrillDown(UNSCOPED, cell)
  })

  it('tells a home-side school that counted enrollment updates are outside its scope, not unlogged, when each has a roster row', async () => {
    // Store bug (found here): the note blames unlogged enrollment updates for every missing
    // record, even when each one has its roster row and only the scope hides it.
    //
    // The school of the nightly whose enrollment updates most often belong to students homed elsewhere:
    // each has its roster row (the nightly logs every update), the home-side scope hides it.
    const hiddenBySchool = new Map<string, Set<number>>()
    for (let i = N_LU.firstRow; i < N_LU.firstRow + N_LU.rowCount; i++) {
      const school = log.value(i, 'recordSchoolId')
      if (log.value(i, 'entity') !== 'enrollment' || log.value(i, 'outcome') !== 'Updated' || log.value(i, 'homeSchoolId') === school)
        continue
      hiddenBySchool.set(school, (hiddenBySchool.get(school) ?? new Set<number>()).add(log.rec[i]!))
    }
    const [school] = [...hiddenBySchool].sort((a, b) => b[1].size - a[1].size)[0] ?? []
    const cell = oracle.cells(N_LU).find((c) => c.entity === 'enrollment' && c.outcomes?.[0] === 'Updated' && c.schoolId === school)
    expect(cell, 'a cell whose missing rows are only outside a home-side scope').toBeDefined()
    const tenantWide = oracle.drillDown({ tenant: LINCOLN_USD }, cell!)!
    expect(oracle.distinctRecords(tenantWide.rows), 'every counted update has its roster row').toBe(tenantWide.count)
    const scope = schoolScope(LINCOLN_USD, cell!.schoolId!, 'home')
    const expected = oracle.drillDown(scope, cell!)!
    expect(expected.rows.length).toBeLessThan(expected.count)
    const got = await store.drillDown(scope, cell!, { limit: 10_000 })
    expect(got?.count).toBe(expected.count)
    expectRecords(got?.rows ?? [], expected.rows, 'rows')
    expect(got?.note).toMatch(/visible in this scope/)
    expect(got?.note).not.toMatch(/logged by its roster rows/)
  })

  it('pages through a big cell with its cursor', async () => {
    const cell = oracle.cells(INITIAL).find((c) => c.entity === 'enrollment' && c.outcomes?.[0] === 'New')!
    const expected = oracle.drillDown(UNSCOPED, cell)!
    expect(expected.rows.length).toBeGreaterThan(1000)
    const rows: LogRecord[] = []
    let cursor: string | undefined
    do {
      const page = await store.drillDown(UNSCOPED, cell, { limit: 700, cursor })
      expect(page?.count).toBe(expected.count)
      rows.push(...(page?.rows ?? []))
      cursor = page?.nextCursor ?? undefined
    } while (cursor !== undefined)
    expectRecords(rows, expected.rows, 'paged drill-down')
  })
})

describe('record history', () => {
  async function history(scope: Scope, key: RecordKey): Promise<LogRecord[]> {
    const rows: LogRecord[] = []
    let cursor: string | undefined
    do {
      const page = await store.recordHistory(scope, key, { limit: 1_000, cursor })
      rows.push(...page.rows)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return rows
  }

  async function expectHistory(scope: Scope, key: RecordKey): Promise<number> {
    const expected = oracle.recordHistory(scope, key)
    expectRecords(await history(scope, key), expected, `${describeFilter(scope)} ${describeFilter(key)}`)
    return expected.length
  }

  it("lists every row about a student across syncs, and the scope keeps other tenants' namesakes out", async () => {
    // S00001 is a student of two tenants.
    const key: RecordKey = { kind: 'student', id: studentNumber(0, 0) }
    const all = await expectHistory(UNSCOPED, key)
    const mine = await expectHistory({ tenant: EMERSON }, key)
    expect(mine).toBeGreaterThan(100)
    expect(all).toBeGreaterThan(mine)
    const home = log.tenants[0]!.schools[log.tenants[0]!.students[0]!.home]!.id
    expect(await expectHistory(schoolScope(EMERSON, home, 'home'), key)).toBe(mine)
    expect(await expectHistory(schoolScope(EMERSON, home === 'sch-02' ? 'sch-03' : 'sch-02', 'either'), key)).toBe(0)
    // An interdistrict student (homed at a partner school) seen from the school that serves them.
    const partnerStudent = 7
    const served = log.tenants[2]!.sections[log.tenants[2]!.enrollmentSection[partnerStudent * ENROLLMENTS_PER_STUDENT]!]!.school
    expect(
      await expectHistory(schoolScope(LINCOLN_USD, log.tenants[2]!.schools[served]!.id, 'serving'), {
        kind: 'student',
        id: studentNumber(2, partnerStudent),
      }),
    ).toBeGreaterThan(0)
  })

  it('lists every row about a section and about one record', async () => {
    const section = log.tenants[1]!.sections[FAMOUS_SECTION]!.number
    expect(await expectHistory({ tenant: LINCOLN_COUNTY }, { kind: 'section', id: section })).toBeGreaterThan(100)
    expect(await expectHistory(UNSCOPED, { kind: 'record', id: log.tenants[3]!.students[1]!.sourcedId })).toBeGreaterThan(50)
    expect(
      await expectHistory({ tenant: LINCOLN_USD }, { kind: 'record', id: log.tenants[2]!.enrollmentIds[2 * ENROLLMENTS_PER_STUDENT]! }),
    ).toBeGreaterThan(50)
    expect(
      await expectHistory(schoolScope(SIERRA, 'SV-05', 'serving'), { kind: 'record', id: log.tenants[3]!.sections[4 * 40 + 3]!.sourcedId }),
    ).toBeGreaterThan(0)
  })

  it('an empty id is a USAGE error', async () => {
    await expect(store.recordHistory(UNSCOPED, { kind: 'student', id: '' })).rejects.toMatchObject({ code: 'USAGE' })
  })
})

describe('reports', () => {
  it('reportRows lists the Skipped, Invalid, Excluded and Merged rows of a sync by entity, then seq', async () => {
    const cases: [Scope, GeneratedSync][] = [
      [UNSCOPED, N_LU],
      [UNSCOPED, REJECTED],
      [UNSCOPED, INITIAL],
      [{ tenant: SIERRA }, N_SV],
      [schoolScope(LINCOLN_COUNTY, 'sch-03', 'home'), N_LC],
      [{ tenant: LINCOLN_COUNTY }, TWINS.find((s) => s.tenant === 1)!],
      [UNSCOPED, CLEAN],
      [{ tenant: EMERSON }, N_LC],
    ]
    let rows = 0
    for (const [scope, s] of cases) {
      const expected = oracle.reportRows(scope, s.syncId)
      expectRecords(await store.reportRows(scope, s.syncId), expected, `${describeFilter(scope)} ${s.syncId}`)
      rows += expected.length
    }
    expect(rows).toBeGreaterThan(100)
  })
})

describe('daily rollups', () => {
  const CASES: [Scope, { tenant?: string; app?: string; from?: string; to?: string }][] = [
    [UNSCOPED, {}],
    [UNSCOPED, { tenant: LINCOLN_USD, app: 'sftp-drop' }],
    [UNSCOPED, { from: '2024-10-01T01:30:00+02:00', to: '2024-10-15' }],
    [{ tenant: LINCOLN_COUNTY }, { app: 'oneroster-csv' }],
    [{ tenant: LINCOLN_COUNTY }, { tenant: EMERSON }],
    [schoolScope(EMERSON, 'sch-07', 'home'), {}],
    [schoolScope(LINCOLN_USD, '100', 'serving'), { from: '2024-09-25', to: '2024-10-05' }],
    [schoolScope(SIERRA, 'P-04', 'home'), {}],
  ]

  async function expectRollups(): Promise<void> {
    for (const [scope, filter] of CASES) {
      expect(await store.dailyRollups(scope, filter), `${describeFilter(scope)} ${describeFilter(filter)}`).toEqual(
        oracle.dailyRollups(scope, filter),
      )
    }
  }

  it('sum the counts per tenant, app and start day; a school scope sums only its cells', async () => {
    await expectRollups()
    const all = oracle.dailyRollups(UNSCOPED, {})
    expect(all.reduce((n, r) => n + r.syncs, 0)).toBe(log.syncs.filter((s) => s.counts.length > 0).length)
    expect(oracle.dailyRollups(schoolScope(EMERSON, 'sch-07', 'home'), {}).length).toBeGreaterThan(50)
  })

  it('do not change when the same counts, statuses and some rows are written again', async () => {
    await store.write([...log.countEvents(), ...log.statusEvents()])
    await store.write(log.logBatches(5_000).next().value ?? [])
    await expectRollups()
    expect(await store.listSyncs(UNSCOPED, {})).toEqual(oracle.listSyncs(UNSCOPED, {}))
    expect(await store.countLog(UNSCOPED, { tenant: EMERSON, includeRejected: true })).toEqual(
      oracle.count(UNSCOPED, { tenant: EMERSON, includeRejected: true }),
    )
  })
})

// ---- exports -----------------------------------------------------------------------------------

/** Debian's python3-openpyxl lives in the system Python, which a pyenv shim may hide. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const openpyxl = spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0

/** A spreadsheet cell as a reader sees it: formula triggers (= + - @, leading tab or CR) are prefixed with an apostrophe. */
function asSpreadsheetText(value: string): string {
  return /^[\t\r]/.test(value) || /^\s*[=+\-@]/.test(value) ? `'${value}` : value
}

describe('exports', () => {
  const EXPORT_FILTER: LogFilter = { tenant: SIERRA, from: '2024-10-01', to: '2024-10-10' }
  let exportDir: string
  let expected: number[]
  /** The rows the Excel export streamed from the store, for the CSV of the same rows. */
  let streamed: LogRecord[] | undefined

  beforeAll(async () => {
    exportDir = await mkdtemp(join(tmpdir(), 'synclog-at-scale-export-'))
    expected = oracle.select(UNSCOPED, EXPORT_FILTER)
  })

  afterAll(async () => {
    if (exportDir !== undefined) await rm(exportDir, { recursive: true, force: true })
  })

  async function* keeping(rows: AsyncIterable<LogRecord>, into: LogRecord[]): AsyncGenerator<LogRecord> {
    for await (const r of rows) {
      into.push(r)
      yield r
    }
  }

  it.skipIf(!openpyxl)(
    `an Excel file of ~100k streamed rows opens in openpyxl with the header, row count, real datetimes and the oracle's rows${openpyxl ? '' : ' (skipped: python3-openpyxl is not installed)'}`,
    async () => {
      expect(expected.length).toBeGreaterThan(90_000)
      const path = join(exportDir, 'log.xlsx')
      const exporting = performance.now()
      const kept: LogRecord[] = []
      expect(await writeLogXlsx(path, keeping(store.streamLog(UNSCOPED, EXPORT_FILTER), kept))).toBe(expected.length)
      timings[`xlsx export of ${expected.length} rows (ms)`] = Math.round(performance.now() - exporting)
      streamed = kept
      const sample = 997
      const script = [
        'import datetime, json, sys, openpyxl',
        'wb = openpyxl.load_workbook(sys.argv[1], read_only=True)',
        'sample = int(sys.argv[2])',
        'epoch = datetime.datetime(1970, 1, 1)',
        'ws = wb.worksheets[0]',
        'out = {"sheets": [w.title for w in wb.worksheets], "keys": [], "rows": []}',
        '# Types and formats of the date cells of the first rows (cell objects are slow; values are enough after).',
        'out["formats"] = sorted({row[0].number_format for row in ws.iter_rows(min_row=2, max_row=201)})',
        'types = set()',
        'text = lambda v: "" if v is None else v',
        'for n, values in enumerate(ws.iter_rows(values_only=True)):',
        '    values = list(values) + [None] * (24 - len(values))',
        '    if n == 0:',
        '        out["header"] = values',
        '        continue',
        '    d = values[0]',
        '    types.add(type(d).__name__)',
        '    ms = round((d - epoch).total_seconds() * 1000) if isinstance(d, datetime.datetime) else d',
        '    out["keys"].append([ms, text(values[18]), text(values[21]), text(values[1]), text(values[22])])',
        '    if (n - 1) % sample == 0:',
        '        out["rows"].append([ms] + [text(v) for v in values[1:]])',
        'out["dateTypes"] = sorted(types)',
        'json.dump(out, sys.stdout)',
      ].join('\n')
      const reading = performance.now()
      const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, path, String(sample)], { maxBuffer: 512 * 1024 * 1024 })
      timings['openpyxl read (ms)'] = Math.round(performance.now() - reading)
      const book = JSON.parse(stdout) as {
        sheets: string[]
        header: string[]
        keys: unknown[][]
        rows: unknown[][]
        dateTypes: string[]
        formats: string[]
      }
      expect(book.sheets).toEqual(['Sync Log'])
      expect(book.header).toEqual(LOG_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c]))
      expect(book.keys.length).toBe(expected.length)
      expect(book.dateTypes).toEqual(['datetime'])
      expect(book.formats).toEqual(['yyyy-mm-dd hh:mm'])
      const cell = (i: number, c: LogColumn) => asSpreadsheetText(log.value(i, c))
      // Every row's key, in order: its date to the millisecond, sync, record, action and outcome.
      expect(book.keys).toEqual(
        expected.map((i) => [log.dateMs[i], cell(i, 'syncId'), cell(i, 'sourcedId'), cell(i, 'action'), cell(i, 'outcome')]),
      )
      // A sample of rows, every column.
      const sampled = expected.filter((_, k) => k % sample === 0)
      expect(book.rows).toEqual(sampled.map((i) => [log.dateMs[i], ...LOG_COLUMNS.slice(1).map((c) => cell(i, c))]))
      // The export carried formula-like text, and it arrived neutralized.
      expect(expected.some((i) => log.value(i, 'courseName') === '+Calculus')).toBe(true)
    },
    180_000,
  )

  it("a CSV of the same rows parses back to the oracle's rows, every column", async () => {
    const path = join(exportDir, 'log.csv')
    const out = createWriteStream(path)
    const exporting = performance.now()
    const written = await writeCsv(out, streamed ?? store.streamLog(UNSCOPED, EXPORT_FILTER), LOG_EXPORT_COLUMNS)
    out.end()
    await finished(out)
    timings['csv export (ms)'] = Math.round(performance.now() - exporting)
    expect(written).toBe(expected.length)
    const text = await readFile(path, 'utf8')
    expect(text.startsWith('\uFEFF')).toBe(true)
    const [header, ...rows] = parse(text, { bom: true, relax_column_count: false }) as string[][]
    expect(header).toEqual(LOG_EXPORT_COLUMNS.map(([, h]) => h))
    expect(rows.length).toBe(expected.length)
    const expectedRows = expected.map((i) => LOG_COLUMNS.map((c) => asSpreadsheetText(log.value(i, c))))
    for (let k = 0; k < rows.length; k += 10_000) {
      expect(rows.slice(k, k + 10_000), `rows ${k}..`).toEqual(expectedRows.slice(k, k + 10_000))
    }
    const hostile = expected.filter((i) => /^[=+\-@]/.test(log.value(i, 'studentName')) || /^[=+\-@]/.test(log.value(i, 'courseName')))
    expect(hostile.length).toBeGreaterThan(0)
  }, 180_000)
})
