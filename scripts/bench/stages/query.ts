/**
 * query: latency of the typical reads over a synthetic log of N rows (10M at medium).
 *
 * The log is written first with SyncLogStore.write (its rate is a fact of the run), then
 * ClickHouse's background merges are let settle. Each query runs twice to warm up, then
 * `queryRuns` times with rotating parameters (tenant, window, school, name fragment, sync,
 * student), figure and baseline alternating.
 *
 * figure   = the SyncLogStore method the CLI and API call (FINAL, scope, ORDER BY, LIMIT, mapping);
 * baseline = the same WHERE predicate (built by the same query builder) as a bare
 *            `SELECT count()` without FINAL, through the same client: the cost of finding the
 *            rows the query reads. figure / baseline is what FINAL, sorting, reading every
 *            column and turning rows into records add on top.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { logConditions, logTable } from '../../../src/clickhouse/log-query.js'
import { whereClause } from '../../../src/clickhouse/filter-parts.js'
import type { LogFilter, Scope } from '../../../src/clickhouse/types.js'
import type { SyncLogEvent } from '../../../src/events/sync-log-event.js'
import { BENCH_SCALES } from '../bench-scales.js'
import { Stopwatch } from '../proc.js'
import { latencyMeasure, rateMeasure } from '../stats.js'
import { engineFacts, openBenchStore, scalar, settleMerges } from '../store.js'
import { SyntheticLog, type SyncPlan } from '../synthetic-log.js'
import type { ChildResult, ChildSpec, RowPart } from '../types.js'
import { WRITE_BATCH } from './projection.js'

const DAY_MS = 86_400_000
const WARMUP_RUNS = 2
/** Name fragments users type into the search box (some common, some rare). */
const NAME_FRAGMENTS = ['smi', 'nguy', 'garc', 'son', 'lee', "o'b", 'patel', 'ann']

interface QueryCase {
  readonly key: string
  readonly label: string
  readonly figure: (run: number) => Promise<unknown>
  readonly baseline: (run: number) => Promise<number>
}

function dayBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * DAY_MS).toISOString().slice(0, 10)
}

async function countWhere(client: ClickHouseClient, scope: Scope, filter: LogFilter): Promise<number> {
  const params: Record<string, unknown> = {}
  const where = logConditions(scope, filter, params)
  // The table the figure reads (a student's rows have a copy sorted by student).
  return scalar(client, `SELECT count() FROM ${logTable(filter)} ${whereClause(where)}`, params)
}

/** In this process: the highest RSS seen while the queries ran (chDB runs them off the event loop, so timers fire). */
class OwnRss {
  peak = process.memoryUsage.rss()
  private readonly timer = setInterval(() => {
    this.peak = Math.max(this.peak, process.memoryUsage.rss())
  }, 50)

  stop(): number {
    clearInterval(this.timer)
    return Math.max(this.peak, process.memoryUsage.rss())
  }
}

export async function runQuery(spec: ChildSpec): Promise<ChildResult> {
  const bs = BENCH_SCALES[spec.scale]
  const log = new SyntheticLog({ rows: bs.queryRows, tenants: bs.queryTenants })
  const opened = await openBenchStore(spec.workDir)
  const { client, store } = opened
  try {
    // Load.
    const load = new Stopwatch()
    let batch: SyncLogEvent[] = []
    let events = 0
    let rows = 0
    const loadStarted = performance.now()
    for (const e of log.events()) {
      batch.push(e)
      if (e.kind === 'LogRow') rows++
      if (batch.length === WRITE_BATCH) {
        const b = batch
        batch = []
        events += b.length
        await load.time(() => store.write(b))
      }
    }
    if (batch.length > 0) {
      events += batch.length
      await load.time(() => store.write(batch))
    }
    const loadWall = (performance.now() - loadStarted) / 1000
    const settled = await settleMerges(client, 'sync_log', 600_000)
    const stored = await scalar(client, 'SELECT count() FROM sync_log')
    if (stored !== rows) throw new Error(`query: ${rows} log rows written, ${stored} in sync_log`)
    const loadRate = rateMeasure(events, load.seconds)

    // Queries.
    const tenantOf = (run: number) => log.tenants[run % log.tenants.length]!
    const last = log.lastDay
    const syncOf = (run: number): SyncPlan => {
      const t = tenantOf(run)
      const day = 5 + ((run * 11) % 110)
      return log.syncs.find((s) => s.tenant === t.index && s.day === day && s.app === 'sis-nightly')!
    }
    const scopeOf = (run: number): Scope => ({ tenant: tenantOf(run).tenant })
    const windowFilter = (run: number): LogFilter => {
      const to = dayBefore(last, (run % 8) * 7)
      return { from: dayBefore(to, 6), to }
    }
    const last30: LogFilter = { from: dayBefore(last, 29), to: last }
    const schoolScope = (run: number): Scope => ({
      tenant: tenantOf(run).tenant,
      school: { id: tenantOf(run).schools[(run * 3) % 20]!.id, side: 'either' },
    })
    const containsFilter = (run: number): LogFilter => ({
      ...last30,
      contains: [{ column: 'studentName', text: NAME_FRAGMENTS[run % NAME_FRAGMENTS.length]! }],
    })
    const cellOf = (run: number) => ({
      syncId: syncOf(run).syncId,
      entity: 'enrollment' as const,
      schoolId: tenantOf(run).schools[(run * 7) % 20]!.id,
      outcomes: ['New'] as const,
    })
    const studentOf = (run: number): string => {
      const t = tenantOf(run)
      return t.students[(run * 7919) % t.students.length]!.number
    }

    const cases: QueryCase[] = [
      {
        key: 'query-window',
        label: 'query: tenant + 7-day window, first page',
        figure: (r) => store.queryLog(scopeOf(r), windowFilter(r), { limit: 100 }),
        baseline: (r) => countWhere(client, scopeOf(r), windowFilter(r)),
      },
      {
        key: 'query-school',
        label: 'query: school scope, last 30 days, first page',
        figure: (r) => store.queryLog(schoolScope(r), last30, { limit: 100 }),
        baseline: (r) => countWhere(client, schoolScope(r), last30),
      },
      {
        key: 'query-contains',
        label: 'query: studentName contains, last 30 days, first page',
        figure: (r) => store.queryLog(scopeOf(r), containsFilter(r), { limit: 100 }),
        baseline: (r) => countWhere(client, scopeOf(r), containsFilter(r)),
      },
      {
        key: 'query-count',
        label: "query: count of matching rows, studentName contains, last 30 days (the web page's total)",
        figure: (r) => store.countLog(scopeOf(r), containsFilter(r)),
        baseline: (r) => countWhere(client, scopeOf(r), containsFilter(r)),
      },
      {
        key: 'query-drilldown',
        label: 'query: drill-down (sync x entity x school x outcome)',
        figure: (r) => store.drillDown(scopeOf(r), cellOf(r), { limit: 100 }),
        baseline: (r) => {
          const c = cellOf(r)
          return countWhere(client, scopeOf(r), {
            tenant: tenantOf(r).tenant,
            syncId: c.syncId,
            entities: [c.entity],
            outcomes: [...c.outcomes],
            recordSchoolId: c.schoolId,
            includeRejected: true,
          })
        },
      },
      {
        key: 'query-history',
        label: "query: a student's history, first page",
        figure: (r) => store.recordHistory(scopeOf(r), { kind: 'student', id: studentOf(r) }, { limit: 100 }),
        baseline: (r) => countWhere(client, scopeOf(r), { studentNumber: studentOf(r) }),
      },
      {
        key: 'query-summary',
        label: 'query: sync summary by school',
        figure: (r) => store.summary(scopeOf(r), syncOf(r).syncId, { bySchool: true }),
        baseline: (r) =>
          scalar(client, 'SELECT count() FROM sync_counts WHERE tenant = {t:String} AND syncId = {s:String}', {
            t: tenantOf(r).tenant,
            s: syncOf(r).syncId,
          }),
      },
      {
        key: 'query-rollups',
        label: 'query: daily rollups, last 30 days',
        figure: (r) => store.dailyRollups(scopeOf(r), last30),
        baseline: (r) =>
          scalar(
            client,
            'SELECT count() FROM sync_daily WHERE tenant = {t:String} AND day >= toDate({f:String}) AND day <= toDate({to:String})',
            { t: tenantOf(r).tenant, f: last30.from, to: last30.to },
          ),
      },
    ]

    const rss = new OwnRss()
    const out: RowPart[] = []
    for (const q of cases) {
      for (let w = 0; w < WARMUP_RUNS; w++) {
        await q.figure(w)
        await q.baseline(w)
      }
      const fig: number[] = []
      const base: number[] = []
      for (let r = 0; r < bs.queryRuns; r++) {
        let t = performance.now()
        await q.figure(r)
        fig.push(performance.now() - t)
        t = performance.now()
        await q.baseline(r)
        base.push(performance.now() - t)
      }
      out.push({ key: q.key, label: q.label, kind: 'latency', unit: 'ms', figure: latencyMeasure(fig), baseline: latencyMeasure(base) })
    }
    const peak = rss.stop()
    return {
      rows: out.map((r) => ({ ...r, figureRss: peak, baselineRss: peak })),
      facts: {
        ...(await engineFacts(client)),
        'query log': `${stored} rows (${log.tenants.length} tenants x 20 schools, ${log.syncs.length} syncs over ${log.firstDay}..${log.lastDay}), ${events} events written`,
        'query log load':
          `SyncLogStore.write ${Math.round(loadRate.rate ?? 0)} events/s (${load.seconds.toFixed(1)} s in writes, ${loadWall.toFixed(1)} s wall incl. generating rows); ` +
          `merges settled after ${(settled.waitedMs / 1000).toFixed(1)} s, ${settled.parts} active parts of sync_log`,
      },
      notes: [
        `query: peak RSS is the query phase only (${bs.queryRuns} runs per query after ${WARMUP_RUNS} warm-ups), sampled in-process; loading is not included.`,
      ],
    }
  } finally {
    await opened.close()
  }
}
