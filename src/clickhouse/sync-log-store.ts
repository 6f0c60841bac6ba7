/**
 * The sync-log store: writes sync-log events into their three tables and reads
 * runs, summaries and log rows back. Idempotency is structural: every table is
 * a ReplacingMergeTree keyed by the event's identity and every read uses FINAL,
 * so writing the same events again leaves one copy.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { SyncLogEvent } from '../events/sync-log-event.js'
import type { Logger } from '../logging/logger.js'
import { buildLogQuery, buildReportQuery } from './log-query.js'
import { buildCountsQuery, buildRunsQuery, type CountsQueryRow, type RunQueryRow } from './run-query.js'
import {
  COUNT_FIELDS, addCounts, isoFromTable, toLogRecord, toSyncStatus, toTableRows, zeroCounts, type SyncLogTableRow,
} from './rows.js'
import type { BuiltQuery } from './filter-parts.js'
import { toStoreError } from './store-errors.js'
import {
  DISTRICT_KEY, type LogFilter, type LogRecord, type OutcomeCountsJson, type SyncListFilter, type SyncRun, type SyncSummary,
} from './types.js'

export type { LogFilter, LogRecord, OutcomeCountsJson, SyncListFilter, SyncRun, SyncSummary } from './types.js'

/** Rows per INSERT: big enough for few parts, small enough for chDB, which builds each insert as one string. */
export const MAX_INSERT_ROWS = 50_000

function* chunks<T>(rows: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size)
}

function toSyncRun(r: RunQueryRow): SyncRun {
  return {
    syncId: r.syncId, tenant: r.tenant, app: r.app, status: toSyncStatus(r.status),
    startedAt: isoFromTable(r.startedAt), endedAt: isoFromTable(r.endedAt),
    message: r.message, modes: r.modes, total: Number(r.total), errors: Number(r.errors),
  }
}

function countsOf(r: CountsQueryRow): OutcomeCountsJson {
  const c = zeroCounts()
  for (const f of COUNT_FIELDS) c[f] = Number(r[f])
  return c
}

function addInto(target: Record<string, OutcomeCountsJson>, entity: string, counts: OutcomeCountsJson): void {
  const sum = target[entity] ?? zeroCounts()
  addCounts(sum, counts)
  target[entity] = sum
}

export class SyncLogStore {
  private readonly log: Logger

  constructor(private readonly client: ClickHouseClient, logger: Logger) {
    this.log = logger.child({ component: 'sync-log-store' })
  }

  /** Idempotent: writing the same events twice leaves one copy of each. Log and counts land before the status. */
  async write(events: readonly SyncLogEvent[]): Promise<void> {
    const rows = toTableRows(events)
    await this.insert('sync_log', rows.log)
    await this.insert('sync_counts', rows.counts)
    await this.insert('sync_runs', rows.runs)
    this.log.debug({ events: events.length, log: rows.log.length, counts: rows.counts.length, runs: rows.runs.length }, 'wrote sync-log events')
  }

  /** Runs at their latest status, newest start first. */
  async listSyncs(filter: SyncListFilter): Promise<SyncRun[]> {
    const rows = await this.select<RunQueryRow>(buildRunsQuery(filter), 'list syncs')
    return rows.map(toSyncRun)
  }

  /** The run with this id, or null. (If two tenants used the same id, the latest started.) */
  async getSync(syncId: string): Promise<SyncRun | null> {
    const rows = await this.select<RunQueryRow>(buildRunsQuery({ syncId, limit: 1 }), `read sync ${syncId}`)
    const row = rows[0]
    return row === undefined ? null : toSyncRun(row)
  }

  /** Per-entity counts summed over schools, and per school when asked; null if the sync is unknown. */
  async summary(syncId: string, opts: { bySchool: boolean }): Promise<SyncSummary | null> {
    const run = await this.getSync(syncId)
    if (run === null) return null
    const rows = await this.select<CountsQueryRow>(buildCountsQuery(run.tenant, run.syncId), `read counts of sync ${syncId}`)
    const counts: Record<string, OutcomeCountsJson> = {}
    const bySchool: NonNullable<SyncSummary['bySchool']> = {}
    for (const row of rows) {
      const c = countsOf(row)
      addInto(counts, row.entity, c)
      const key = row.schoolId === '' ? DISTRICT_KEY : row.schoolId
      const school = bySchool[key] ?? { schoolName: row.schoolName, counts: {} }
      addInto(school.counts, row.entity, c)
      bySchool[key] = school
    }
    const { total: _total, errors: _errors, modes: _modes, ...head } = run
    return opts.bySchool ? { ...head, counts, bySchool } : { ...head, counts }
  }

  /** Log rows matching the filter, newest first (date desc, seq desc). Rejected syncs are hidden unless asked for. */
  async queryLog(filter: LogFilter): Promise<LogRecord[]> {
    const rows = await this.select<SyncLogTableRow>(buildLogQuery(filter), 'read the sync log')
    return rows.map(toLogRecord)
  }

  /** Rows of the sync whose outcome is Skipped, Invalid, Excluded or Merged, by entity then seq. */
  async reportRows(syncId: string): Promise<LogRecord[]> {
    const run = await this.getSync(syncId)
    const rows = await this.select<SyncLogTableRow>(buildReportQuery(syncId, run?.tenant), `read the report of sync ${syncId}`)
    return rows.map(toLogRecord)
  }

  private async insert(table: string, rows: readonly object[]): Promise<void> {
    for (const batch of chunks(rows, MAX_INSERT_ROWS)) {
      try {
        await this.client.insert({ table, values: batch, format: 'JSONEachRow' })
      } catch (e) {
        throw toStoreError(e, `write ${batch.length} rows to ${table}`)
      }
    }
  }

  private async select<T>(q: BuiltQuery, what: string): Promise<T[]> {
    try {
      const rs = await this.client.query({ query: q.query, query_params: q.params, format: 'JSONEachRow' })
      return await rs.json<T>()
    } catch (e) {
      throw toStoreError(e, what)
    }
  }
}
