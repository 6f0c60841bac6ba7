/**
 * The schema's life: upgrading a version-1 store to the current schema keeps its
 * rows and fills the new rollups, retention is a TTL set from configuration, and
 * the rollups stay exact when the same events are written again.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../../src/clickhouse/ddl.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { applyRetention, currentRetentionDays } from '../../src/clickhouse/retention.js'
import { SyncLogStore, UNSCOPED } from '../../src/clickhouse/sync-log-store.js'
import type { SyncCounts, SyncLogEvent, SyncStatusChanged } from '../../src/events/sync-log-event.js'
import { silentLogger } from '../support/silent-logger.js'

const logger = silentLogger()
const opened: { ch: ClickHouse; dir: string }[] = []

async function freshClickHouse(): Promise<ClickHouse> {
  const dir = await mkdtemp(join(tmpdir(), 'synclog-ch-schema-'))
  const ch = await openClickHouse({ dataDir: dir, logger })
  opened.push({ ch, dir })
  return ch
}

afterEach(async () => {
  for (const { ch, dir } of opened.splice(0)) {
    await ch.close()
    await rm(dir, { recursive: true, force: true })
  }
})

async function rows<T>(ch: ClickHouse, query: string): Promise<T[]> {
  const rs = await ch.client.query({ query, format: 'JSONEachRow' })
  return rs.json<T>()
}

const COUNT_ZERO = { total: 0, new: 0, updated: 0, noChange: 0, deleted: 0, skipped: 0, invalid: 0, duplicates: 0, merged: 0, excluded: 0 }

function countsEvent(syncId: string, startedAt: string, schoolId: string, c: Partial<typeof COUNT_ZERO>): SyncCounts {
  const counts = { ...COUNT_ZERO, ...c }
  counts.total =
    counts.new + counts.updated + counts.noChange + counts.deleted + counts.skipped + counts.invalid + counts.merged + counts.excluded
  counts.duplicates = counts.merged + counts.excluded
  return {
    kind: 'SyncCounts',
    tenant: 'd1',
    syncId,
    app: 'sis',
    entity: 'user',
    schoolId,
    schoolName: `School ${schoolId}`,
    startedAt,
    counts,
  }
}

function completed(syncId: string, startedAt: string): SyncStatusChanged {
  return {
    kind: 'SyncStatusChanged',
    tenant: 'd1',
    syncId,
    app: 'sis',
    status: 'Completed',
    version: 1,
    startedAt,
    endedAt: startedAt,
    message: '',
    modes: '',
    reviewedBy: '',
    reviewedAt: '',
    reviewReason: '',
  }
}

describe('upgrading a version-1 store', () => {
  it('keeps every row, blanks the new column and backfills sync_outcomes and sync_daily', async () => {
    const ch = await freshClickHouse()
    const v1 = MIGRATIONS.find((m) => m.version === 1)!
    await ch.client.command({
      query:
        'CREATE TABLE schema_migrations (version UInt32, name String, appliedAt DateTime) ENGINE = ReplacingMergeTree ORDER BY version',
    })
    for (const statement of v1.statements) await ch.client.command({ query: statement })
    await ch.client.command({ query: `INSERT INTO schema_migrations VALUES (1, '${v1.name}', now())` })
    await ch.client.command({
      query: `INSERT INTO sync_log (tenant, syncId, seq, date, action, studentName, entity, sourcedId, outcome)
              VALUES ('d1', 's1', 1, '2024-09-01 06:00:00.000', 'Skipped', 'Smith, Ann', 'user', 'u1', 'Skipped')`,
    })
    await ch.client.command({
      query: `INSERT INTO sync_counts (tenant, syncId, app, entity, schoolId, schoolName, total, skipped, noChange)
              VALUES ('d1', 's1', 'sis', 'user', 'sch1', 'One', 5, 1, 4)`,
    })

    await migrate(ch.client, logger)

    const versions = await rows<{ version: number }>(ch, 'SELECT version FROM schema_migrations FINAL ORDER BY version')
    expect(versions.map((v) => Number(v.version))).toEqual(MIGRATIONS.map((m) => m.version))
    expect(await rows(ch, 'SELECT syncId, studentName, recordSchoolId FROM sync_log FINAL')).toEqual([
      { syncId: 's1', studentName: 'Smith, Ann', recordSchoolId: '' },
    ])
    expect(await rows(ch, 'SELECT outcome, records FROM sync_outcomes FINAL ORDER BY outcome')).toEqual([
      { outcome: 'No Change', records: 4 },
      { outcome: 'Skipped', records: 1 },
    ])
    const store = new SyncLogStore(ch.client, logger)
    // Counts written before startedAt existed roll up under the epoch's day.
    expect(await store.dailyRollups(UNSCOPED, {})).toEqual([
      { tenant: 'd1', app: 'sis', day: '1970-01-01', syncs: 1, counts: { ...COUNT_ZERO, total: 5, skipped: 1, noChange: 4 } },
    ])
  })

  it("finds a student's rows written before the upgrade, and those written after it, in the student's history", async () => {
    const ch = await freshClickHouse()
    await ch.client.command({
      query:
        'CREATE TABLE schema_migrations (version UInt32, name String, appliedAt DateTime) ENGINE = ReplacingMergeTree ORDER BY version',
    })
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) {
      for (const statement of m.statements) await ch.client.command({ query: statement })
      await ch.client.command({ query: `INSERT INTO schema_migrations VALUES (${m.version}, '${m.name}', now())` })
    }
    const insertRow = (syncId: string, date: string, student: string, sourcedId: string): Promise<unknown> =>
      ch.client.command({
        query: `INSERT INTO sync_log (tenant, syncId, seq, date, action, studentNumber, entity, sourcedId, outcome)
                VALUES ('d1', '${syncId}', 1, '${date}', 'New', '${student}', 'enrollment', '${sourcedId}', 'New')`,
      })
    await insertRow('s1', '2024-09-01 06:00:00.000', '1001', 'e1')
    await insertRow('s1b', '2024-09-01 06:00:00.000', '1002', 'e2')
    await insertRow('s1c', '2024-09-01 06:00:00.000', '', 'c1')

    await migrate(ch.client, logger)
    await insertRow('s2', '2024-09-02 06:00:00.000', '1001', 'e3')
    await insertRow('s2', '2024-09-02 06:00:00.000', '1001', 'e3') // written twice: one row

    const store = new SyncLogStore(ch.client, logger)
    const history = await store.recordHistory(UNSCOPED, { kind: 'student', id: '1001' })
    expect(history.rows.map((r) => [r.syncId, r.sourcedId])).toEqual([
      ['s2', 'e3'],
      ['s1', 'e1'],
    ])
    // Rows that name no student are not copied.
    const [copied] = await rows<{ n: number | string }>(ch, "SELECT count() AS n FROM sync_log_by_student WHERE studentNumber = ''")
    expect(Number(copied?.n)).toBe(0)
  })

  it('a contains filter for a rare name reads only the granules its ngram index keeps', async () => {
    const ch = await freshClickHouse()
    await migrate(ch.client, logger)
    // 200,000 rows of common names, and one student with a rare one.
    const family = [
      'Smith',
      'Johnson',
      'Garcia',
      'Miller',
      'Davis',
      'Lopez',
      'Wilson',
      'Moore',
      'Taylor',
      'Thomas',
      'Lee',
      'Harris',
      'Clark',
      'Lewis',
      'Young',
    ]
    const given = ['Ann', 'Ben', 'Cara', 'Dev', 'Eli', 'Fay', 'Gus', 'Ida', 'Joe', 'Kim', 'Liv', 'Max', 'Noa', 'Pia', 'Ray']
    await ch.client.command({
      query: `INSERT INTO sync_log (tenant, syncId, seq, date, action, studentName)
              SELECT 'd1', 's1', number, toDateTime64('2024-09-01 06:00:00', 3, 'UTC') + number, 'Skipped',
                if(number = 123456, 'Vanderzwaag, Quincy', concat({family:Array(String)}[number % 15 + 1], ', ', {given:Array(String)}[intDiv(number, 15) % 15 + 1]))
              FROM numbers(200000)`,
      query_params: { family, given },
    })
    const store = new SyncLogStore(ch.client, logger)
    const filter = { contains: [{ column: 'studentName' as const, text: 'ZWAAG' }] }
    expect((await store.queryLog(UNSCOPED, filter)).rows.map((r) => r.seq)).toEqual([123456])
    const explain = await rows<{ explain: string }>(
      ch,
      `EXPLAIN indexes = 1 SELECT seq FROM sync_log
      WHERE multiSearchAny(lowerUTF8(studentName), ['zwaag']) AND positionCaseInsensitiveUTF8(studentName, 'zwaag') > 0`,
    )
    const text = explain.map((e) => e.explain).join('\n')
    const skip = /Name: ix_studentName_ngrams[\s\S]*?Granules: (\d+)\/(\d+)/.exec(text)
    expect(skip, text).not.toBeNull()
    expect(Number(skip![1])).toBeLessThanOrEqual(2)
    expect(Number(skip![2])).toBeGreaterThanOrEqual(20)
  })
})

describe('daily rollups', () => {
  it('sum each day’s syncs per tenant and app, and writing the same counts again changes nothing', async () => {
    const ch = await freshClickHouse()
    await migrate(ch.client, logger)
    const store = new SyncLogStore(ch.client, logger)
    const events: SyncLogEvent[] = [
      countsEvent('s1', '2024-09-01T06:00:00.000Z', 'sch1', { new: 3, skipped: 1 }),
      countsEvent('s1', '2024-09-01T06:00:00.000Z', 'sch2', { noChange: 7 }),
      countsEvent('s2', '2024-09-01T18:00:00.000Z', 'sch1', { updated: 2, excluded: 1 }),
      countsEvent('s3', '2024-09-02T06:00:00.000Z', 'sch2', { deleted: 4 }),
      completed('s1', '2024-09-01T06:00:00.000Z'),
      completed('s2', '2024-09-01T18:00:00.000Z'),
      completed('s3', '2024-09-02T06:00:00.000Z'),
    ]
    await store.write(events)
    const expected = [
      { tenant: 'd1', app: 'sis', day: '2024-09-02', syncs: 1, counts: { ...COUNT_ZERO, total: 4, deleted: 4 } },
      {
        tenant: 'd1',
        app: 'sis',
        day: '2024-09-01',
        syncs: 2,
        counts: { ...COUNT_ZERO, total: 14, new: 3, skipped: 1, noChange: 7, updated: 2, excluded: 1, duplicates: 1 },
      },
    ]
    expect(await store.dailyRollups(UNSCOPED, {})).toEqual(expected)
    await store.write(events)
    await store.write(events.slice(0, 2))
    expect(await store.dailyRollups(UNSCOPED, {})).toEqual(expected)
    expect(await store.dailyRollups(UNSCOPED, { from: '2024-09-02' })).toEqual(expected.slice(0, 1))
    expect(await store.dailyRollups(UNSCOPED, { to: '2024-09-01T23:00:00Z' })).toEqual(expected.slice(1))
    expect(await store.dailyRollups({ tenant: 'd2' }, {})).toEqual([])
    expect(await store.dailyRollups({ tenant: 'd1', school: { id: 'sch2', side: 'either' } }, {})).toEqual([
      { tenant: 'd1', app: 'sis', day: '2024-09-02', syncs: 1, counts: { ...COUNT_ZERO, total: 4, deleted: 4 } },
      { tenant: 'd1', app: 'sis', day: '2024-09-01', syncs: 1, counts: { ...COUNT_ZERO, total: 7, noChange: 7 } },
    ])
  })
})

describe('retention', () => {
  it('sets a TTL on the log from configuration, changes it, and removes it', async () => {
    const ch = await freshClickHouse()
    await migrate(ch.client, logger)
    expect(await currentRetentionDays(ch.client)).toBeNull()
    await applyRetention(ch.client, 400, logger)
    expect(await currentRetentionDays(ch.client)).toBe(400)
    await applyRetention(ch.client, 90, logger)
    expect(await currentRetentionDays(ch.client)).toBe(90)
    await applyRetention(ch.client, undefined, logger)
    expect(await currentRetentionDays(ch.client)).toBeNull()
  })

  it("keeps a student's rows as long as the log keeps them", async () => {
    const ch = await freshClickHouse()
    await migrate(ch.client, logger)
    const ttls = (): Promise<{ name: string; ttl: number }[]> =>
      rows(
        ch,
        "SELECT name, engine_full LIKE '%TTL toDateTime(date) + toIntervalDay(45)%' AS ttl FROM system.tables WHERE database = currentDatabase() AND name IN ('sync_log', 'sync_log_by_student') ORDER BY name",
      )
    await applyRetention(ch.client, 45, logger)
    expect(await ttls()).toEqual([
      { name: 'sync_log', ttl: 1 },
      { name: 'sync_log_by_student', ttl: 1 },
    ])
    await applyRetention(ch.client, undefined, logger)
    expect(await ttls()).toEqual([
      { name: 'sync_log', ttl: 0 },
      { name: 'sync_log_by_student', ttl: 0 },
    ])
  })

  it('drops rows older than the retention and keeps the rest', async () => {
    const ch = await freshClickHouse()
    await migrate(ch.client, logger)
    const now = Date.now()
    const at = (daysAgo: number): string => new Date(now - daysAgo * 86_400_000).toISOString().replace('T', ' ').replace('Z', '')
    await ch.client.command({
      query: `INSERT INTO sync_log (tenant, syncId, seq, date, action) VALUES ('d1', 'old', 1, '${at(40)}', 'Skipped'), ('d1', 'new', 1, '${at(5)}', 'Skipped')`,
    })
    await applyRetention(ch.client, 30, logger)
    await ch.client.command({ query: 'OPTIMIZE TABLE sync_log FINAL' })
    expect(await rows(ch, 'SELECT syncId FROM sync_log FINAL')).toEqual([{ syncId: 'new' }])
  })
})
