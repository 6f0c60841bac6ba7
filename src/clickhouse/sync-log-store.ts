/**
 * The sync-log store: writes sync-log events into their three tables and reads
 * runs, summaries and log rows back. Idempotency is structural: every table is
 * a ReplacingMergeTree keyed by the event's identity and every read uses FINAL,
 * so writing the same events again leaves one copy. Writes go on the `write`
 * lane, reads on the `read` lane (src/clickhouse/lanes.ts), so reading never
 * waits behind an import's inserts.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { OUTCOMES, type Outcome, type SyncLogEvent, type SyncStatusChanged } from '../events/sync-log-event.js'
import { AlertDeliveryLog } from '../alerts/delivery-log.js'
import type { Logger } from '../logging/logger.js'
import { buildLogCountQuery, buildLogPageQuery, buildReportQuery } from './log-query.js'
import { encodeCursor } from './log-cursor.js'
import {
  buildCellCountQuery,
  buildCountsQuery,
  buildDailyQuery,
  buildRunsQuery,
  buildSchoolsQuery,
  type CountsQueryRow,
  type DailyQueryRow,
  type RunQueryRow,
} from './run-query.js'
import { SynclogError } from '../errors.js'
import { dictOf } from '../dict.js'
import {
  COUNT_FIELDS,
  TABLE_COLUMNS,
  addCounts,
  isoFromTable,
  toLogRecord,
  toSyncStatus,
  toTableRows,
  zeroCounts,
  type SelectedLogRow,
} from './rows.js'
import type { BuiltQuery } from './filter-parts.js'
import { toStoreError } from './store-errors.js'
import { lanesOf, type Lanes } from './lanes.js'
import { buildCauseGroupsQuery, toCauseGroups, type CauseGroups, type CauseQueryRow } from './cause-groups.js'
import { buildRosterQuery, rosterHeader, toRosterLine, type RosterAt, type RosterQuery, type RosterQueryRow } from './roster-at.js'
import {
  briefOf,
  buildCompareQuery,
  checkSameTenant,
  compareCounts,
  toRecordComparison,
  type CompareOptions,
  type CompareQueryRow,
  type SyncComparison,
} from './sync-compare.js'
import {
  DISTRICT_KEY,
  type CountCell,
  type DailyRollup,
  type DrillDown,
  type LogFilter,
  type LogPage,
  type LogRecord,
  type OutcomeCountsJson,
  type PageRequest,
  type RecordKey,
  type SchoolEntry,
  type Scope,
  type SyncListFilter,
  type SyncRun,
  type SyncSummary,
} from './types.js'

export type {
  CountCell,
  DailyRollup,
  DrillDown,
  LogFilter,
  LogPage,
  LogRecord,
  OutcomeCountsJson,
  PageRequest,
  RecordKey,
  SchoolEntry,
  Scope,
  SyncListFilter,
  SyncRun,
  SyncSummary,
} from './types.js'
export { UNSCOPED } from './scope.js'

/** The outcomes of a count in words: "Deleted", "Merged or Excluded", "all". */
function describeOutcomes(outcomes: readonly Outcome[] | undefined): string {
  return outcomes === undefined ? 'all' : outcomes.join(' or ')
}

/** A drill-down into No Change alone: counted, never logged. */
function onlyNoChange(cell: CountCell): boolean {
  return cell.outcomes !== undefined && cell.outcomes.length === 1 && cell.outcomes[0] === 'No Change'
}

/** A drill-down's rows of the records counted in the cell: for a school scope, those counted under its school. */
function countedRows(scope: Scope, filter: LogFilter): LogFilter {
  return scope.school === undefined || filter.recordSchoolId !== undefined ? filter : { ...filter, recordSchoolId: scope.school.id }
}

/** Rows per page when streaming the whole result. */
const STREAM_PAGE_ROWS = 5_000

/** Rows per INSERT: big enough for few parts, small enough for chDB, which builds each insert as one string. */
export const MAX_INSERT_ROWS = 50_000

function* chunks<T>(rows: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size)
}

function toSyncRun(r: RunQueryRow): SyncRun {
  return {
    syncId: r.syncId,
    tenant: r.tenant,
    app: r.app,
    status: toSyncStatus(r.status),
    startedAt: isoFromTable(r.startedAt),
    endedAt: isoFromTable(r.endedAt),
    message: r.message,
    reviewedBy: r.reviewedBy,
    reviewedAt: isoFromTable(r.reviewedAt),
    reviewReason: r.reviewReason,
    modes: r.modes,
    total: Number(r.total),
    errors: Number(r.errors),
  }
}

function countsOf(r: CountsQueryRow): OutcomeCountsJson {
  const c = zeroCounts()
  for (const f of COUNT_FIELDS) c[f] = Number(r[f])
  return c
}

/** Adds one row's counts to the entity's sum. */
function addInto(target: Map<string, OutcomeCountsJson>, entity: string, counts: OutcomeCountsJson): void {
  const sum = target.get(entity) ?? zeroCounts()
  addCounts(sum, counts)
  target.set(entity, sum)
}

export class SyncLogStore {
  private readonly log: Logger
  private readonly lanes: Lanes
  /** Told of the status changes of every write once they are stored (the alert dispatcher, src/alerts). */
  private readonly statusListeners = new Set<(changes: readonly SyncStatusChanged[]) => void>()
  /** The alert delivery log, on this store's lanes. */
  readonly alertDeliveries: AlertDeliveryLog

  /** A plain client serves every lane (a server, or a test). */
  constructor(clickhouse: Lanes | ClickHouseClient, logger: Logger) {
    this.lanes = lanesOf(clickhouse)
    this.log = logger.child({ component: 'sync-log-store' })
    this.alertDeliveries = new AlertDeliveryLog(this.lanes)
  }

  /** The analysts' lane, for checked read-only SQL (src/sql/analyst-sql.ts) and nothing else. */
  get clickhouse(): ClickHouseClient {
    return this.lanes.lane('analyst')
  }

  /** Idempotent: writing the same events twice leaves one copy of each. Log and counts land before the status. */
  async write(events: readonly SyncLogEvent[]): Promise<void> {
    const rows = toTableRows(events)
    await this.insert('sync_log', rows.log, TABLE_COLUMNS.sync_log)
    await this.insert('sync_counts', rows.counts, TABLE_COLUMNS.sync_counts)
    await this.insert('sync_runs', rows.runs, TABLE_COLUMNS.sync_runs)
    this.log.debug(
      { events: events.length, log: rows.log.length, counts: rows.counts.length, runs: rows.runs.length },
      'wrote sync-log events',
    )
    const changes = events.filter((e): e is SyncStatusChanged => e.kind === 'SyncStatusChanged')
    if (changes.length > 0) for (const listener of this.statusListeners) listener(changes)
  }

  /** Calls `listener` with the status changes of every later write, once stored; the returned function stops it. */
  onStatusStored(listener: (changes: readonly SyncStatusChanged[]) => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** Runs visible in the scope at their latest status, newest start first. */
  async listSyncs(scope: Scope, filter: SyncListFilter): Promise<SyncRun[]> {
    const rows = await this.select<RunQueryRow>(buildRunsQuery(scope, filter), 'list syncs')
    return rows.map(toSyncRun)
  }

  /** The run with this id if the scope may see it, else null. (If two tenants used the same id, the latest started.) */
  async getSync(scope: Scope, syncId: string): Promise<SyncRun | null> {
    const rows = await this.select<RunQueryRow>(buildRunsQuery(scope, { syncId, limit: 1 }), `read sync ${syncId}`)
    const row = rows[0]
    return row === undefined ? null : toSyncRun(row)
  }

  /**
   * Per-entity counts summed over the schools the scope may see, and per school
   * when asked; null if the sync is unknown or outside the scope.
   */
  async summary(scope: Scope, syncId: string, opts: { bySchool: boolean }): Promise<SyncSummary | null> {
    const run = await this.getSync(scope, syncId)
    if (run === null) return null
    const rows = await this.select<CountsQueryRow>(buildCountsQuery(scope, run.tenant, run.syncId), `read counts of sync ${syncId}`)
    // School ids and entity names are data: Maps here, null-prototype objects in the result.
    const counts = new Map<string, OutcomeCountsJson>()
    const bySchool = new Map<string, { schoolName: string; counts: Map<string, OutcomeCountsJson> }>()
    for (const row of rows) {
      const c = countsOf(row)
      addInto(counts, row.entity, c)
      const key = row.schoolId === '' ? DISTRICT_KEY : row.schoolId
      const school = bySchool.get(key) ?? { schoolName: row.schoolName, counts: new Map() }
      addInto(school.counts, row.entity, c)
      bySchool.set(key, school)
    }
    const { total: _total, errors: _errors, modes: _modes, ...head } = run
    const summary: SyncSummary = { ...head, counts: dictOf(counts) }
    if (opts.bySchool)
      summary.bySchool = dictOf([...bySchool].map(([id, s]) => [id, { schoolName: s.schoolName, counts: dictOf(s.counts) }]))
    return summary
  }

  /** One page of the log rows in the scope matching the filter, newest first (date, sync, seq, tenant: all descending). */
  async queryLog(scope: Scope, filter: LogFilter, page: PageRequest = {}): Promise<LogPage> {
    const q = buildLogPageQuery(scope, filter, page)
    const rows = (await this.select<SelectedLogRow>(q, 'read the sync log')).map(toLogRecord)
    if (rows.length <= q.limit) return { rows, nextCursor: null }
    rows.length = q.limit
    return { rows, nextCursor: encodeCursor(rows[rows.length - 1]!) }
  }

  /** Every log row in the scope matching the filter, newest first, a page at a time (memory bounded by one page). */
  async *streamLog(scope: Scope, filter: LogFilter, pageRows = STREAM_PAGE_ROWS): AsyncGenerator<LogRecord> {
    let cursor: string | undefined
    do {
      const page = await this.queryLog(scope, filter, { limit: pageRows, cursor })
      yield* page.rows
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
  }

  /** How many rows and distinct records match. */
  async countLog(scope: Scope, filter: LogFilter): Promise<{ rows: number; records: number }> {
    const [row] = await this.select<{ rows: string | number; records: string | number }>(
      buildLogCountQuery(scope, filter),
      'count log rows',
    )
    return { rows: Number(row?.rows ?? 0), records: Number(row?.records ?? 0) }
  }

  /**
   * The log rows behind one count of a sync's summary (sync × entity × school ×
   * outcomes; no school = every school in the scope, no outcome = the Total), with
   * the count itself; null if the sync is unknown or outside the scope.
   */
  async drillDown(scope: Scope, cell: CountCell, page: PageRequest = {}): Promise<DrillDown | null> {
    const run = await this.getSync(scope, cell.syncId)
    if (run === null) return null
    const schoolId = cell.schoolId === DISTRICT_KEY ? '' : cell.schoolId
    const filter: LogFilter = {
      tenant: run.tenant,
      syncId: run.syncId,
      entities: [cell.entity],
      includeRejected: true,
      includeProposed: true,
    }
    if (cell.outcomes !== undefined) filter.outcomes = [...cell.outcomes]
    if (schoolId !== undefined) filter.recordSchoolId = schoolId
    const exact: CountCell = { ...cell, ...(schoolId === undefined ? {} : { schoolId }) }
    // Rows stay within the scope even when the count does not (a home-side school sees the
    // count of enrollments at its school, but only the rows of its own students); the note says so.
    // The count, the page and the records the page's rows cover do not depend on each other: read side by side.
    const [[counted], rows, visible] = await Promise.all([
      this.select<{ records: number | string }>(
        buildCellCountQuery(scope, run.tenant, exact),
        `read the count of ${describeOutcomes(cell.outcomes)} ${cell.entity} records`,
      ),
      this.queryLog(scope, filter, page),
      onlyNoChange(cell) ? 0 : this.countLog(scope, countedRows(scope, filter)).then((c) => c.records),
    ])
    const count = Number(counted?.records ?? 0)
    const note = await this.drillDownNote(scope, filter, cell, count, visible)
    return { ...rows, cell: exact, count, note }
  }

  /** Every row about one student (student number), section (section number) or record (sourcedId), newest first. */
  async recordHistory(scope: Scope, key: RecordKey, page: PageRequest = {}): Promise<LogPage> {
    if (key.id === '') throw new SynclogError('USAGE', `a ${key.kind} history needs an id`)
    const filter: LogFilter =
      key.kind === 'student' ? { studentNumber: key.id } : key.kind === 'section' ? { sectionNumber: key.id } : { sourcedId: key.id }
    return this.queryLog(scope, filter, page)
  }

  /** Per tenant × app × day: syncs started that day and their summed counts, newest day first. */
  async dailyRollups(scope: Scope, filter: { tenant?: string; app?: string; from?: string; to?: string }): Promise<DailyRollup[]> {
    const rows = await this.select<DailyQueryRow>(buildDailyQuery(scope, filter), 'read the daily rollups')
    return rows.map((r) => {
      const counts = zeroCounts()
      for (const f of COUNT_FIELDS) counts[f] = Number(r.counts[f])
      return { tenant: r.tenant, app: r.app, day: r.day, syncs: Number(r.syncs), counts }
    })
  }

  /** Rows of the sync in the scope whose outcome is Skipped, Invalid, Excluded or Merged, by entity then seq. */
  async reportRows(scope: Scope, syncId: string): Promise<LogRecord[]> {
    const run = await this.getSync(scope, syncId)
    if (run === null) return []
    const rows = await this.select<SelectedLogRow>(buildReportQuery(scope, run.syncId, run.tenant), `read the report of sync ${syncId}`)
    return rows.map(toLogRecord)
  }

  /** A sync's rows grouped by root cause, largest first (cause-groups.ts); null if the sync is unknown or outside the scope. */
  async causeGroups(scope: Scope, syncId: string): Promise<CauseGroups | null> {
    const run = await this.getSync(scope, syncId)
    if (run === null) return null
    const rows = await this.select<CauseQueryRow>(
      buildCauseGroupsQuery(scope, run.tenant, run.syncId),
      `group the rows of sync ${syncId} by cause`,
    )
    return toCauseGroups(run.tenant, run.syncId, rows)
  }

  /** Who was in a section, or which sections a student had, at an instant: rebuilt from the applied roster rows (roster-at.ts). */
  async rosterAt(scope: Scope, query: RosterQuery): Promise<RosterAt> {
    const rows = await this.select<RosterQueryRow>(buildRosterQuery(scope, query), 'read a roster at a date')
    return { ...rosterHeader(query), lines: rows.map(toRosterLine) }
  }

  /**
   * Why the rows cover fewer records than the count: not logged at all, or logged
   * outside the caller's scope. Every number is about the counted records only (for
   * a school scope: those counted under its school), so none reaches past the count.
   * `recordsVisible`: the distinct records of those rows the scope sees.
   */
  private async drillDownNote(scope: Scope, filter: LogFilter, cell: CountCell, count: number, recordsVisible: number): Promise<string> {
    const outcomes = cell.outcomes ?? OUTCOMES
    if (onlyNoChange(cell)) return 'No Change records are counted but not logged, so this count has no rows.'
    if (count === 0) return ''
    const visible = Math.min(count, recordsVisible)
    if (visible >= count) return ''
    const logged =
      scope.school === undefined
        ? visible
        : Math.min(count, (await this.countLog({ tenant: scope.tenant }, countedRows(scope, filter))).records)
    const notes: string[] = []
    if (logged < count) {
      const why: string[] = []
      if (outcomes.includes('No Change')) why.push('No Change records are counted but not logged')
      if (cell.entity === 'enrollment' && outcomes.includes('Updated')) {
        why.push(
          'a student enrollment is logged by its roster rows, and a change that leaves section, start and end date as they were has none',
        )
      }
      notes.push(`${count - logged} of ${count} records have no row: ${why.length === 0 ? 'they were not logged' : why.join('; ')}.`)
    }
    if (visible < logged) notes.push(`${logged - visible} of ${count} records have no row visible in this scope.`)
    return notes.join(' ')
  }

  /**
   * Two syncs of one tenant side by side: their counts per entity, and the records whose
   * outcome differs (src/clickhouse/sync-compare.ts); null if either sync is unknown or
   * outside the scope. Syncs of two tenants are a USAGE error.
   */
  async compareSyncs(scope: Scope, syncA: string, syncB: string, opts: CompareOptions = {}): Promise<SyncComparison | null> {
    const a = await this.summary(scope, syncA, { bySchool: false })
    const b = a === null ? null : await this.summary(scope, syncB, { bySchool: false })
    if (a === null || b === null) return null
    checkSameTenant(briefOf(a), briefOf(b))
    const rows = await this.select<CompareQueryRow>(
      buildCompareQuery(scope, a.tenant, a.syncId, b.syncId, opts),
      `compare syncs ${syncA} and ${syncB}`,
    )
    return {
      a: briefOf(a),
      b: briefOf(b),
      counts: compareCounts(a, b, opts.entities),
      differing: Number(rows[0]?.differing ?? 0),
      records: rows.map(toRecordComparison),
    }
  }

  /** The schools the scope may see, per tenant, as the sync counts name them (district level excluded). */
  async listSchools(scope: Scope): Promise<SchoolEntry[]> {
    return this.select<SchoolEntry>(buildSchoolsQuery(scope), 'list schools')
  }

  /** Writes the rows as JSON arrays in `columns`' order (TABLE_COLUMNS), in inserts of at most MAX_INSERT_ROWS. */
  private async insert<T extends object>(table: string, rows: readonly T[], columns: readonly (keyof T & string)[]): Promise<void> {
    const names: string[] = [...columns]
    for (const batch of chunks(rows, MAX_INSERT_ROWS)) {
      const values = batch.map((row) => columns.map((c) => row[c]))
      try {
        await this.lanes.lane('write').insert({ table, values, columns: names as [string, ...string[]], format: 'JSONCompactEachRow' })
      } catch (e) {
        throw toStoreError(e, `write ${batch.length} rows to ${table}`)
      }
    }
  }

  private async select<T>(q: BuiltQuery, what: string): Promise<T[]> {
    try {
      const rs = await this.lanes.lane('read').query({ query: q.query, query_params: q.params, format: 'JSONEachRow' })
      return await rs.json<T>()
    } catch (e) {
      throw toStoreError(e, what)
    }
  }
}
