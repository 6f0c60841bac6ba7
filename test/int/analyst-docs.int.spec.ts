/**
 * docs/analysts.md and sql/clickhouse-server/analyst-access.sql against a chDB store
 * holding real data: two nights of the demo district folded by the real fold
 * (tenant `emerson`), and the first night again as a second tenant (`lakeside`)
 * whose school ids are the same, so a scope that leaked across tenants would show.
 *
 * Every ```sql block of the page runs (or, for server-only statements, parses) as
 * its `<!-- expect: … -->` comment says. The row policies cannot be created in chDB
 * (no CREATE ROLE / ROW POLICY there), so each policy's USING expression runs as a
 * WHERE clause instead, its custom settings bound as query parameters, and must
 * return exactly the rows the store returns for the equivalent Scope.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { SyncLogEvent } from '../../src/events/sync-log-event.js'
import { silentLogger } from '../support/silent-logger.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { COUNT_FIELDS, SYNC_LOG_COLUMNS, toLogRecord, type SyncLogTableRow } from '../../src/clickhouse/rows.js'
import { SyncLogStore, type LogRecord, type OutcomeCountsJson, type Scope } from '../../src/clickhouse/sync-log-store.js'
import { DISTRICT_KEY } from '../../src/clickhouse/types.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { readOneRosterBundle } from '../../src/oneroster/read-bundle.js'
import { Given } from '../support/sis.js'

const ROOT = resolve(import.meta.dirname, '../..')
const DOC = readFileSync(join(ROOT, 'docs/analysts.md'), 'utf8')
const ACCESS_SQL = readFileSync(join(ROOT, 'sql/clickhouse-server/analyst-access.sql'), 'utf8')

// ---- the page's SQL blocks ----------------------------------------------------------------

interface Expectation {
  kind: 'rows' | 'runs' | 'server-only'
  mentions: string[]
}
interface SqlBlock {
  line: number
  heading: string
  sql: string
  expect: Expectation | null
}

function parseExpectation(text: string): Expectation {
  const [kind, ...options] = text.split(';').map((s) => s.trim())
  if (kind !== 'rows' && kind !== 'runs' && kind !== 'server-only') throw new Error(`unknown expectation '${text}'`)
  const mentions = options.filter((o) => o.startsWith('mentions:')).map((o) => o.slice('mentions:'.length).trim())
  return { kind, mentions }
}

/** Every ```sql block, with the heading above it and the `<!-- expect: … -->` comment right before it. */
function sqlBlocks(markdown: string): SqlBlock[] {
  const lines = markdown.split('\n')
  const blocks: SqlBlock[] = []
  let heading = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '')
    if (line.trim() !== '```sql') continue
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```')
    if (end < 0) throw new Error(`unclosed sql block at line ${i + 1}`)
    let k = i - 1
    while (k >= 0 && (lines[k] ?? '').trim() === '') k--
    const comment = /^<!--\s*expect:\s*(.+?)\s*-->$/.exec((lines[k] ?? '').trim())
    blocks.push({
      line: i + 1,
      heading,
      sql: lines.slice(i + 1, end).join('\n'),
      expect: comment?.[1] === undefined ? null : parseExpectation(comment[1]),
    })
    i = end
  }
  return blocks
}

/** SQL text without `--` comment lines, split into statements (the files here have no ';' inside strings). */
function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

const BLOCKS = sqlBlocks(DOC)
const RUNNABLE = BLOCKS.filter((b) => b.expect?.kind === 'rows' || b.expect?.kind === 'runs')
const SERVER_ONLY = BLOCKS.filter((b) => b.expect?.kind === 'server-only')

// ---- the row policies of analyst-access.sql ------------------------------------------------

const SCOPED_TABLES = ['sync_log', 'sync_log_by_student', 'sync_runs', 'sync_counts', 'sync_outcomes', 'sync_daily'] as const
type ScopedTable = (typeof SCOPED_TABLES)[number]

interface Policy {
  name: string
  table: string
  using: string
  to: string
}

const POLICY = /^CREATE ROW POLICY (?:OR REPLACE )?(\w+) ON synclog\.(\w+) FOR SELECT\s+USING\s+([\s\S]+?)\s+TO\s+([\s\S]+)$/

const POLICIES: Policy[] = statements(ACCESS_SQL)
  .filter((s) => s.startsWith('CREATE ROW POLICY'))
  .map((s) => {
    const m = POLICY.exec(s)
    if (m === null) throw new Error(`cannot read the row policy: ${s}`)
    return { name: m[1]!, table: m[2]!, using: m[3]!, to: m[4]!.trim() }
  })

/** The analyst policy's USING expression on a table, exactly as the file has it. */
function analystUsing(table: ScopedTable): string {
  const found = POLICIES.filter((p) => p.table === table && p.to === 'synclog_analyst')
  if (found.length !== 1) throw new Error(`expected one synclog_analyst policy on ${table}, found ${found.length}`)
  return found[0]!.using
}

const SETTING = /getSettingOrDefault\('SQL_synclog_(tenant|school|side)', ''\)/g

/** The expression with its custom settings as query parameters (chDB has no SQL_ custom-settings prefix). */
function withParameters(using: string): string {
  const bound = using.replace(SETTING, (_, name: string) => `{synclog_${name}:String}`)
  if (/getSetting/i.test(bound)) throw new Error(`a setting other than SQL_synclog_tenant/school/side: ${using}`)
  return bound
}

/** The custom settings an analyst with this scope has in their profile. */
function settingsOf(scope: Scope): Record<string, string> {
  return { synclog_tenant: scope.tenant ?? '', synclog_school: scope.school?.id ?? '', synclog_side: scope.school?.side ?? 'either' }
}

// ---- data: the demo district, folded by the real fold ---------------------------------------

const logger = silentLogger()
let dataDir: string
let ch: ClickHouse
let store: SyncLogStore
/** The demo district's nights in this school year; a high school of it, one of its students and one of its sections. */
const DEMO = generateDemoNights({ seed: 7, schoolYear: currentSchoolYear(new Date()) })
const HIGH_SCHOOL = DEMO.night1.orgs.find((o) => o.type === 'school' && o.name?.endsWith('High School'))!.sourcedId!
const STUDENT = DEMO.night1.users.find((u) => u.role === 'student' && u.orgSourcedIds === HIGH_SCHOOL)!.identifier!
const SECTION = DEMO.night1.classes.find((c) => c.schoolSourcedId === HIGH_SCHOOL)!.classCode!
/** The high school of the neighbouring district some demo students visit from. */
const NEIGHBOUR_SCHOOL = DEMO.night1.orgs.filter((o) => o.type === 'school').at(-1)!.sourcedId!
/** Values of the page's named parameters, all present in the data. */
const PARAMS: Record<string, string> = {
  tenant: 'emerson',
  school: HIGH_SCHOOL,
  sync: 'emerson-night-2',
  student: STUDENT,
  section: SECTION,
}

async function bundleEvents(path: string, tenant: string, syncId: string, occurredAt: string): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = []
  for await (const e of readOneRosterBundle({ path, tenant, syncId, occurredAt })) events.push(e)
  return events
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'synclog-analyst-docs-'))
  ch = await openClickHouse({ dataDir, logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)

  // The page asks about "last night", "the last 30 days" and "this month": the second
  // night is a few minutes ago (but in this month), the first a day before it.
  const now = Date.now()
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1)
  const night2 = Math.max(now - 5 * 60_000, monthStart)
  const night1 = night2 - 24 * 3_600_000
  const iso = (ms: number) => new Date(ms).toISOString()
  const { night1: tables1, night2: tables2 } = DEMO
  await writeOneRosterBundle(join(dataDir, 'input', 'night1'), tables1)
  await writeOneRosterBundle(join(dataDir, 'input', 'night2'), tables2)

  const given = new Given()
  const events: SyncLogEvent[] = []
  for (const [night, tenant, syncId, at] of [
    ['night1', 'emerson', 'emerson-night-1', night1],
    ['night2', 'emerson', 'emerson-night-2', night2],
    ['night1', 'lakeside', 'lakeside-night-1', night2],
  ] as const) {
    events.push(...given.when(await bundleEvents(join(dataDir, 'input', night), tenant, syncId, iso(at))).events)
  }
  // Written twice, as a re-delivery would: FINAL and the rollup's sets must not double-count.
  await store.write(events)
  await store.write(events)
})

afterAll(async () => {
  await ch?.close()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

async function select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: { session_timezone: 'UTC' } })
  return rs.json<T>()
}

/** The named parameters a query uses, from PARAMS; an unknown one fails the test. */
function paramsOf(sql: string): Record<string, string> {
  const names = [...sql.matchAll(/\{(\w+):[A-Za-z0-9()]+\}/g)].map((m) => m[1]!)
  return Object.fromEntries(
    names.map((n) => {
      const value = PARAMS[n]
      if (value === undefined) throw new Error(`the page uses a parameter {${n}} that the test has no value for`)
      return [n, value]
    }),
  )
}

// ---- the page --------------------------------------------------------------------------------

describe('docs/analysts.md', () => {
  it('marks every sql block with what it should do, and has 10 to 15 example queries', () => {
    expect(BLOCKS.filter((b) => b.expect === null).map((b) => `line ${b.line}`)).toEqual([])
    expect(RUNNABLE.length).toBeGreaterThanOrEqual(10)
    expect(RUNNABLE.length).toBeLessThanOrEqual(16)
    expect(SERVER_ONLY.length).toBeGreaterThan(0)
  })

  it.each(RUNNABLE.map((b) => [`${b.heading} (line ${b.line})`, b] as const))('runs the query of "%s"', async (_, block) => {
    const sql = block.sql.trim().replace(/;$/, '')
    expect(statements(sql)).toHaveLength(1)
    const rows = await select<Record<string, unknown>>(sql, paramsOf(sql))
    if (block.expect?.kind === 'rows') expect(rows.length, sql).toBeGreaterThan(0)
    const text = JSON.stringify(rows)
    for (const m of block.expect?.mentions ?? []) expect(text, sql).toContain(m)
  })

  it.each(SERVER_ONLY.map((b) => [`${b.heading} (line ${b.line})`, b] as const))(
    'server-only statements of "%s" parse',
    async (_, block) => {
      for (const s of statements(block.sql)) await expect(parses(s), s).resolves.toBe(true)
    },
  )
})

async function parses(statement: string): Promise<boolean> {
  const [row] = await select<{ f: string }>('SELECT formatQuery({s:String}) AS f', { s: statement })
  return typeof row?.f === 'string' && row.f.length > 0
}

// ---- the server's role and row policies --------------------------------------------------

describe('sql/clickhouse-server/analyst-access.sql', () => {
  it('every statement parses', async () => {
    const all = statements(ACCESS_SQL)
    expect(all.length).toBeGreaterThan(15)
    for (const s of all) await expect(parses(s), s).resolves.toBe(true)
  })

  it('grants SELECT on the seven synclog tables and nothing else', () => {
    const grants = statements(ACCESS_SQL).filter((s) => /^(GRANT|REVOKE)\b/.test(s))
    expect(grants).toEqual([
      'REVOKE ALL ON *.* FROM synclog_analyst',
      ...[...SCOPED_TABLES, 'schema_migrations'].map((t) => `GRANT SELECT ON synclog.${t} TO synclog_analyst`),
    ])
  })

  it('has one scope policy for the analyst role and one unrestricted policy for everyone else on each scoped table', () => {
    for (const table of SCOPED_TABLES) {
      expect(analystUsing(table)).toMatch(/SQL_synclog_tenant/)
      expect(POLICIES.filter((p) => p.table === table && p.to === 'ALL EXCEPT synclog_analyst').map((p) => p.using)).toEqual(['1'])
    }
    expect(new Set(POLICIES.map((p) => p.table))).toEqual(new Set(SCOPED_TABLES))
  })

  it('an analyst whose profile lacks the settings sees nothing (the policies fail closed)', async () => {
    for (const table of SCOPED_TABLES) {
      const [row] = await select<{ n: number }>(`SELECT toUInt32(count()) AS n FROM ${table} WHERE ${analystUsing(table)}`)
      expect(row?.n, table).toBe(0)
    }
  })

  it('a school scope with a side that is not home, serving or either sees nothing', async () => {
    const params = { synclog_tenant: 'emerson', synclog_school: HIGH_SCHOOL, synclog_side: 'Home' }
    for (const table of SCOPED_TABLES) {
      const [row] = await select<{ n: number }>(
        `SELECT toUInt32(count()) AS n FROM ${table} WHERE ${withParameters(analystUsing(table))}`,
        params,
      )
      expect(row?.n, table).toBe(0)
    }
  })
})

// ---- each policy returns what the store returns for the same scope ------------------------------

const SCOPES: { name: string; scope: Scope; nonEmptyLog: boolean }[] = [
  { name: 'district emerson', scope: { tenant: 'emerson' }, nonEmptyLog: true },
  { name: 'district lakeside', scope: { tenant: 'lakeside' }, nonEmptyLog: true },
  { name: 'a high school, home side', scope: { tenant: 'emerson', school: { id: HIGH_SCHOOL, side: 'home' } }, nonEmptyLog: true },
  { name: 'a high school, serving side', scope: { tenant: 'emerson', school: { id: HIGH_SCHOOL, side: 'serving' } }, nonEmptyLog: true },
  { name: 'a high school, either side', scope: { tenant: 'emerson', school: { id: HIGH_SCHOOL, side: 'either' } }, nonEmptyLog: true },
  {
    name: 'Garrison Valley HS (another district), home side',
    scope: { tenant: 'emerson', school: { id: NEIGHBOUR_SCHOOL, side: 'home' } },
    nonEmptyLog: true,
  },
  {
    name: 'Garrison Valley HS, serving side',
    scope: { tenant: 'emerson', school: { id: NEIGHBOUR_SCHOOL, side: 'serving' } },
    nonEmptyLog: true,
  },
  {
    name: 'a high school of the other tenant',
    scope: { tenant: 'lakeside', school: { id: HIGH_SCHOOL, side: 'either' } },
    nonEmptyLog: true,
  },
  { name: 'a tenant name with SQL in it', scope: { tenant: "emerson' OR '1'='1" }, nonEmptyLog: false },
]

const logKey = (r: Pick<LogRecord, 'tenant' | 'syncId' | 'seq'>) => `${r.tenant}\u0000${r.syncId}\u0000${String(r.seq).padStart(10, '0')}`
const byLogKey = (a: LogRecord, b: LogRecord) => logKey(a).localeCompare(logKey(b))

type Counts = Record<(typeof COUNT_FIELDS)[number], number>
interface CountRow extends Counts {
  tenant: string
  syncId: string
  entity: string
  schoolId: string
}

const OUTCOME_OF: Record<Exclude<(typeof COUNT_FIELDS)[number], 'total' | 'duplicates'>, string> = {
  new: 'New',
  updated: 'Updated',
  noChange: 'No Change',
  deleted: 'Deleted',
  skipped: 'Skipped',
  invalid: 'Invalid',
  merged: 'Merged',
  excluded: 'Excluded',
}

const numbers = (r: Record<string, unknown>): Counts => Object.fromEntries(COUNT_FIELDS.map((f) => [f, Number(r[f])])) as Counts

/** The store's count rows in the scope: every sync it lists, summed by school. */
async function storeCounts(scope: Scope): Promise<CountRow[]> {
  const rows: CountRow[] = []
  for (const run of await store.listSyncs(scope, {})) {
    const summary = await store.summary(scope, run.syncId, { bySchool: true })
    for (const [school, { counts }] of Object.entries(summary?.bySchool ?? {})) {
      for (const [entity, c] of Object.entries(counts)) {
        rows.push({
          tenant: run.tenant,
          syncId: run.syncId,
          entity,
          schoolId: school === DISTRICT_KEY ? '' : school,
          ...numbers(c as unknown as Record<string, unknown>),
        })
      }
    }
  }
  return rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

describe.each(SCOPES)('the row policies for $name', ({ scope, nonEmptyLog }) => {
  const params = () => settingsOf(scope)
  const where = (table: ScopedTable) => withParameters(analystUsing(table))

  it('sync_log: the rows of store.streamLog with includeRejected and includeProposed', async () => {
    // The row's state is read from its sync's status, not stored: compared apart from the columns.
    const expected: LogRecord[] = []
    for await (const r of store.streamLog(scope, { includeRejected: true, includeProposed: true }))
      expected.push({ ...r, state: 'Applied' })
    const got = (
      await select<SyncLogTableRow>(`SELECT ${SYNC_LOG_COLUMNS.join(', ')} FROM sync_log FINAL WHERE ${where('sync_log')}`, params())
    ).map((row) => toLogRecord({ ...row, state: 'Applied' }))
    expect(got.sort(byLogKey)).toEqual(expected.sort(byLogKey))
    expect(got.length > 0).toBe(nonEmptyLog)
  })

  it('sync_log_by_student: the rows of store.streamLog that name a student', async () => {
    const expected: LogRecord[] = []
    for await (const r of store.streamLog(scope, { includeRejected: true, includeProposed: true }))
      if (r.studentNumber !== '') expected.push({ ...r, state: 'Applied' })
    const got = (
      await select<SyncLogTableRow>(
        `SELECT ${SYNC_LOG_COLUMNS.join(', ')} FROM sync_log_by_student FINAL WHERE ${where('sync_log_by_student')}`,
        params(),
      )
    ).map((row) => toLogRecord({ ...row, state: 'Applied' }))
    expect(got.sort(byLogKey)).toEqual(expected.sort(byLogKey))
    // A district's log names students; a school's serving side may hold only its sections' rows.
    if (scope.school === undefined) expect(got.length > 0).toBe(nonEmptyLog)
  })

  it('sync_runs: the syncs of store.listSyncs, at their current status', async () => {
    const expected = (await store.listSyncs(scope, {})).map((r) => `${r.tenant}/${r.syncId}/${r.status}`).sort()
    const got = (
      await select<{ k: string }>(
        `SELECT concat(tenant, '/', syncId, '/', status) AS k FROM sync_runs FINAL WHERE ${where('sync_runs')}`,
        params(),
      )
    )
      .map((r) => r.k)
      .sort()
    expect(got).toEqual(expected)
  })

  it('sync_counts: the counts of store.summary by school, for every sync in the scope', async () => {
    const expected = await storeCounts(scope)
    const got = (
      await select<Record<string, unknown>>(
        `SELECT tenant, syncId, entity, schoolId, ${COUNT_FIELDS.join(', ')} FROM sync_counts FINAL WHERE ${where('sync_counts')}`,
        params(),
      )
    )
      .map((r) => ({
        tenant: String(r.tenant),
        syncId: String(r.syncId),
        entity: String(r.entity),
        schoolId: String(r.schoolId),
        ...numbers(r),
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    expect(got).toEqual(expected)
  })

  it('sync_outcomes: one cell per non-zero outcome of those counts', async () => {
    const expected = (await storeCounts(scope))
      .flatMap((c) =>
        Object.entries(OUTCOME_OF)
          .filter(([field]) => c[field as keyof Counts] > 0)
          .map(([field, outcome]) => `${c.tenant}/${c.syncId}/${c.entity}/${c.schoolId}/${outcome}/${c[field as keyof Counts]}`),
      )
      .sort()
    const got = (
      await select<{ k: string }>(
        `SELECT concat(tenant, '/', syncId, '/', entity, '/', schoolId, '/', outcome, '/', toString(records)) AS k FROM sync_outcomes FINAL WHERE ${where('sync_outcomes')}`,
        params(),
      )
    )
      .map((r) => r.k)
      .sort()
    expect(got).toEqual(expected)
  })

  it('sync_daily: store.dailyRollups for a district; nothing for a school, whose days come from sync_counts', async () => {
    const expected = await store.dailyRollups(scope, {})
    const daily = await select<{ tenant: string; app: string; day: string; syncs: number; cells: Record<string, unknown>[] }>(
      `SELECT tenant, app, toString(day) AS day, toUInt32(uniqExactMerge(syncs)) AS syncs, groupUniqArrayMerge(cells) AS cells
       FROM sync_daily WHERE ${where('sync_daily')} GROUP BY tenant, app, day`,
      params(),
    )
    const fromDaily = daily.map((d) => ({
      tenant: d.tenant,
      app: d.app,
      day: d.day,
      syncs: Number(d.syncs),
      counts: sumCounts(d.cells.map(numbers)),
    }))
    const fromCounts = (
      await select<Record<string, unknown>>(
        `SELECT tenant, app, toString(toDate(startedAt)) AS day, toUInt32(uniqExact(syncId)) AS syncs,
         ${COUNT_FIELDS.map((f) => `toUInt32(sum(${f})) AS ${f}`).join(', ')}
       FROM sync_counts FINAL WHERE ${where('sync_counts')} GROUP BY tenant, app, day`,
        params(),
      )
    ).map((r) => ({ tenant: String(r.tenant), app: String(r.app), day: String(r.day), syncs: Number(r.syncs), counts: numbers(r) }))
    const order = (a: { tenant: string; app: string; day: string }, b: typeof a) =>
      `${a.day}/${a.tenant}/${a.app}`.localeCompare(`${b.day}/${b.tenant}/${b.app}`)
    if (scope.school === undefined) expect(fromDaily.sort(order)).toEqual([...expected].sort(order))
    else expect(fromDaily).toEqual([])
    expect(fromCounts.sort(order)).toEqual([...expected].sort(order))
  })
})

function sumCounts(list: readonly Counts[]): OutcomeCountsJson {
  const sum = Object.fromEntries(COUNT_FIELDS.map((f) => [f, 0])) as Counts
  for (const c of list) for (const f of COUNT_FIELDS) sum[f] += c[f]
  return sum
}
