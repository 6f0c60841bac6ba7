/**
 * What the store should answer, computed in plain TypeScript over the generated
 * log's columns: no SQL, no code shared with the store's query builders. Each
 * method follows the semantics stated in src/clickhouse/types.ts:
 *
 * - scope `{}` sees everything; `{ tenant }` that tenant; `{ tenant, school }`
 *   log rows whose home / serving / either school is the school, and counts
 *   whose schoolId is the school (syncs: the whole tenant's history);
 * - filters only narrow; rows of syncs whose latest status is Rejected are hidden
 *   unless includeRejected, and of syncs On Hold or in Preview (proposed) unless
 *   includeProposed; contains is a case-insensitive substring;
 *   from/to are inclusive and a bare date covers its whole UTC day;
 * - log order: date DESC, syncId DESC, seq DESC, tenant DESC, strings compared
 *   byte-wise (ClickHouse compares bytes: 'Z' < 'a').
 */
import type { EntityType } from '../../../src/events/change-event.js'
import type { Outcome, OutcomeCounts, SyncCounts } from '../../../src/events/sync-log-event.js'
import type {
  CountCell,
  DailyRollup,
  LogFilter,
  LogRecord,
  OutcomeCountsJson,
  RecordKey,
  Scope,
  SyncListFilter,
  SyncRun,
  SyncSummary,
} from '../../../src/clickhouse/types.js'
import { ACTION_CODES, ENTITY_CODES, OUTCOME_CODES, rowState, type GeneratedLog, type GeneratedSync } from '../generated-log.js'

const DAY_MS = 86_400_000
const DISTRICT = '(district)'
const REPORT_OUTCOMES = new Set(['Skipped', 'Invalid', 'Excluded', 'Merged'])
const COUNT_FIELDS = ['total', 'new', 'updated', 'noChange', 'deleted', 'skipped', 'invalid', 'duplicates', 'merged', 'excluded'] as const
const OUTCOME_FIELD: Record<string, keyof OutcomeCounts> = {
  New: 'new',
  Updated: 'updated',
  'No Change': 'noChange',
  Deleted: 'deleted',
  Skipped: 'skipped',
  Invalid: 'invalid',
  Merged: 'merged',
  Excluded: 'excluded',
}

/** Byte-wise (UTF-8) comparison, as ClickHouse orders String. */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Case-insensitive substring, as users expect it (the names used lower-case alike in JS and ClickHouse). */
export function icontains(value: string, text: string): boolean {
  return value.toLowerCase().includes(text.toLowerCase())
}

/** A bound of from/to as epoch ms: a bare date is the start of its UTC day. */
function parseBound(text: string): { ms: number; bareDate: boolean } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return { ms: Date.parse(`${text}T00:00:00.000Z`), bareDate: true }
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) throw new Error(`the oracle cannot read the bound '${text}'`)
  return { ms, bareDate: false }
}

function zero(): OutcomeCountsJson {
  return { total: 0, new: 0, updated: 0, noChange: 0, deleted: 0, skipped: 0, invalid: 0, duplicates: 0, merged: 0, excluded: 0 }
}

function add(into: OutcomeCountsJson, c: OutcomeCounts): void {
  for (const f of COUNT_FIELDS) into[f] += c[f]
}

type Check = (i: number) => boolean

export class LogOracle {
  /** Every row index, in the log's order. */
  readonly order: Uint32Array
  private readonly syncRank: Uint16Array
  private readonly tenantRank: Uint8Array

  constructor(readonly log: GeneratedLog) {
    const syncIds = [...new Set(log.syncs.map((s) => s.syncId))].sort(byteCompare)
    const rankOfId = new Map(syncIds.map((id, k) => [id, k]))
    this.syncRank = Uint16Array.from(log.syncs, (s) => rankOfId.get(s.syncId) ?? 0)
    const tenants = log.tenants.map((t) => t.name).sort(byteCompare)
    this.tenantRank = Uint8Array.from(log.tenants, (t) => tenants.indexOf(t.name))

    const order = new Uint32Array(log.size)
    for (let i = 0; i < order.length; i++) order[i] = i
    const { dateMs: date, sync, seq } = log
    const syncRank = this.syncRank
    const tenantRank = this.tenantRank
    const tenantOfSync = Uint8Array.from(log.syncs, (s) => s.tenant)
    order.sort(
      (a, b) =>
        date[b]! - date[a]! ||
        syncRank[sync[b]!]! - syncRank[sync[a]!]! ||
        seq[b]! - seq[a]! ||
        tenantRank[tenantOfSync[sync[b]!]!]! - tenantRank[tenantOfSync[sync[a]!]!]!,
    )
    this.order = order
  }

  // ---- the log ------------------------------------------------------------------------

  /** Whether row i is visible in the scope and matches the filter. */
  predicate(scope: Scope, filter: LogFilter): Check {
    const log = this.log
    const checks: Check[] = []
    const syncOk = new Uint8Array(log.syncs.length)
    log.syncs.forEach((s, k) => {
      const tenant = log.tenants[s.tenant]?.name
      syncOk[k] = Number(
        (scope.tenant === undefined || scope.tenant === tenant) &&
          (filter.tenant === undefined || filter.tenant === tenant) &&
          (filter.syncId === undefined || filter.syncId === s.syncId) &&
          (filter.apps === undefined || filter.apps.length === 0 || filter.apps.includes(s.app)) &&
          (filter.includeRejected === true || s.status !== 'Rejected') &&
          (filter.includeProposed === true || rowState(s.status) !== 'Proposed'),
      )
    })
    checks.push((i) => syncOk[log.sync[i]!] === 1)

    const codeSet = (values: readonly string[] | undefined, codes: readonly string[], column: Uint8Array): void => {
      if (values === undefined || values.length === 0) return
      const ok = Uint8Array.from(codes, (c) => (values.includes(c) ? 1 : 0))
      checks.push((i) => ok[column[i]!] === 1)
    }
    codeSet(filter.actions, ACTION_CODES, log.action)
    codeSet(filter.outcomes, OUTCOME_CODES, log.outcome)
    codeSet(filter.entities, ENTITY_CODES, log.entity)

    if (filter.from !== undefined) {
      const from = parseBound(filter.from).ms
      checks.push((i) => log.dateMs[i]! >= from)
    }
    if (filter.to !== undefined) {
      const to = parseBound(filter.to)
      const end = to.bareDate ? to.ms + DAY_MS : to.ms + 1
      checks.push((i) => log.dateMs[i]! < end)
    }
    const school = (id: string, side: 'home' | 'serving' | 'either'): void => {
      const home = side !== 'serving'
      const serving = side !== 'home'
      checks.push((i) => (home && log.value(i, 'homeSchoolId') === id) || (serving && log.value(i, 'servingSchoolId') === id))
    }
    if (scope.school !== undefined) school(scope.school.id, scope.school.side)
    if (filter.school !== undefined) school(filter.school, filter.schoolSide ?? 'either')
    const exact = (column: 'recordSchoolId' | 'studentNumber' | 'sectionNumber' | 'sourcedId', value: string | undefined): void => {
      if (value !== undefined) checks.push((i) => log.value(i, column) === value)
    }
    exact('recordSchoolId', filter.recordSchoolId)
    exact('studentNumber', filter.studentNumber)
    exact('sectionNumber', filter.sectionNumber)
    exact('sourcedId', filter.sourcedId)
    for (const { column, text } of filter.contains ?? []) {
      // Values come from small pools (dates aside): remember each one's answer.
      const seen = new Map<string, boolean>()
      const lower = text.toLowerCase()
      checks.push((i) => {
        const value = log.value(i, column)
        let hit = seen.get(value)
        if (hit === undefined) {
          hit = value.toLowerCase().includes(lower)
          if (column !== 'date') seen.set(value, hit)
        }
        return hit
      })
    }
    return (i) => {
      for (const check of checks) if (!check(i)) return false
      return true
    }
  }

  /** Matching rows in log order; at most `limit`, after the row `after` (an index into the log). */
  select(scope: Scope, filter: LogFilter, opts: { limit?: number; after?: number } = {}): number[] {
    const keep = this.predicate(scope, filter)
    const limit = opts.limit ?? Number.POSITIVE_INFINITY
    const out: number[] = []
    let k = 0
    if (opts.after !== undefined) {
      k = this.order.indexOf(opts.after) + 1
      if (k === 0) throw new Error(`row ${opts.after} is not in the log`)
    }
    for (; k < this.order.length && out.length < limit; k++) {
      const i = this.order[k]!
      if (keep(i)) out.push(i)
    }
    return out
  }

  /** Rows matching, and distinct records (tenant, entity, sourcedId) among them. */
  count(scope: Scope, filter: LogFilter): { rows: number; records: number } {
    const rows = this.select(scope, filter)
    return { rows: rows.length, records: this.distinctRecords(rows) }
  }

  distinctRecords(rows: readonly number[]): number {
    const log = this.log
    // (tenant, entity, record index) identifies a sourcedId: checked by the spec over the pools.
    const keys = new Set<number>()
    for (const i of rows) keys.add((log.syncOf(i).tenant * 8 + log.entity[i]!) * 2 ** 24 + log.rec[i]!)
    return keys.size
  }

  records(rows: readonly number[]): LogRecord[] {
    return rows.map((i) => {
      const { kind: _kind, ...record } = this.log.logRow(i)
      return { ...record, state: rowState(this.log.syncOf(i).status) }
    })
  }

  /** Every row about one student, section or record the scope may see, in log order. */
  recordHistory(scope: Scope, key: RecordKey): number[] {
    const filter: LogFilter =
      key.kind === 'student' ? { studentNumber: key.id } : key.kind === 'section' ? { sectionNumber: key.id } : { sourcedId: key.id }
    return this.select(scope, filter)
  }

  // ---- syncs, counts and rollups ---------------------------------------------------------

  private tenantName(s: GeneratedSync): string {
    return this.log.tenants[s.tenant]?.name ?? ''
  }

  /** Counts rows of a sync the scope may see. */
  private visibleCounts(scope: Scope, s: GeneratedSync): readonly SyncCounts[] {
    if (scope.tenant !== undefined && scope.tenant !== this.tenantName(s)) return []
    const school = scope.school?.id
    return school === undefined ? s.counts : s.counts.filter((c) => c.schoolId === school)
  }

  private run(scope: Scope, s: GeneratedSync): SyncRun {
    const last = s.statuses[s.statuses.length - 1]
    if (last === undefined) throw new Error('unreachable')
    const sum = zero()
    for (const c of this.visibleCounts(scope, s)) add(sum, c.counts)
    return {
      syncId: s.syncId,
      tenant: this.tenantName(s),
      app: s.app,
      status: last.status,
      startedAt: last.startedAt,
      endedAt: last.endedAt,
      message: last.message,
      reviewedBy: last.reviewedBy,
      reviewedAt: last.reviewedAt,
      reviewReason: last.reviewReason,
      modes: last.modes,
      total: sum.total,
      errors: sum.skipped + sum.invalid + sum.excluded,
    }
  }

  /** Runs in the scope, newest start first (ties: syncId descending, tenant ascending, byte-wise). */
  listSyncs(scope: Scope, filter: SyncListFilter): SyncRun[] {
    const from = filter.from === undefined ? undefined : parseBound(filter.from).ms
    const to = filter.to === undefined ? undefined : ((b) => (b.bareDate ? b.ms + DAY_MS : b.ms + 1))(parseBound(filter.to))
    const runs = this.log.syncs
      .filter(
        (s) =>
          (scope.tenant === undefined || scope.tenant === this.tenantName(s)) &&
          (filter.tenant === undefined || filter.tenant === this.tenantName(s)) &&
          (filter.app === undefined || filter.app === s.app) &&
          (from === undefined || s.startedMs >= from) &&
          (to === undefined || s.startedMs < to),
      )
      .sort((a, b) => b.startedMs - a.startedMs || byteCompare(b.syncId, a.syncId) || byteCompare(this.tenantName(a), this.tenantName(b)))
      .map((s) => this.run(scope, s))
    return filter.limit === undefined ? runs : runs.slice(0, filter.limit)
  }

  /** The sync a scope reaches by id (the first in listSyncs order), or undefined. */
  findSync(scope: Scope, syncId: string): GeneratedSync | undefined {
    return this.log.syncs
      .filter((s) => s.syncId === syncId && (scope.tenant === undefined || scope.tenant === this.tenantName(s)))
      .sort((a, b) => b.startedMs - a.startedMs || byteCompare(this.tenantName(a), this.tenantName(b)))[0]
  }

  getSync(scope: Scope, syncId: string): SyncRun | null {
    const s = this.findSync(scope, syncId)
    return s === undefined ? null : this.run(scope, s)
  }

  summary(scope: Scope, syncId: string, bySchool: boolean): SyncSummary | null {
    const s = this.findSync(scope, syncId)
    if (s === undefined) return null
    const { total: _t, errors: _e, modes: _m, ...head } = this.run(scope, s)
    const counts: Record<string, OutcomeCountsJson> = {}
    const schools: NonNullable<SyncSummary['bySchool']> = {}
    for (const c of this.visibleCounts(scope, s)) {
      add((counts[c.entity] ??= zero()), c.counts)
      const school = (schools[c.schoolId === '' ? DISTRICT : c.schoolId] ??= { schoolName: c.schoolName, counts: {} })
      add((school.counts[c.entity] ??= zero()), c.counts)
    }
    return bySchool ? { ...head, counts, bySchool: schools } : { ...head, counts }
  }

  /** The rows behind one count (sync × entity × school × one outcome), the count, and the note. */
  drillDown(scope: Scope, cell: CountCell): { rows: number[]; count: number; note: string; schoolId: string } | null {
    const s = this.findSync(scope, cell.syncId)
    if (s === undefined) return null
    const outcome = cell.outcomes?.length === 1 ? cell.outcomes[0]! : undefined
    if (outcome === undefined || cell.schoolId === undefined) throw new Error('the oracle drills into cells of one school and one outcome')
    const schoolId = cell.schoolId === DISTRICT ? '' : cell.schoolId
    let count = 0
    for (const c of this.visibleCounts(scope, s)) {
      if (c.entity === cell.entity && c.schoolId === schoolId) count += c.counts[OUTCOME_FIELD[outcome] ?? 'total']
    }
    // Rows never leave the scope, even where the count does (a home-side school counts the
    // enrollments at its school but sees the rows of its own students only).
    const filter: LogFilter = {
      tenant: this.tenantName(s),
      syncId: s.syncId,
      entities: [cell.entity],
      outcomes: [outcome],
      recordSchoolId: schoolId,
      includeRejected: true,
      includeProposed: true,
    }
    const rows = this.select(scope, filter)
    let note = ''
    if (outcome === 'No Change') note = 'No Change records are counted but not logged, so this count has no rows.'
    else {
      const missing = count - this.distinctRecords(rows)
      if (missing > 0) {
        // Enrollment updates may leave no roster row; but when every counted record has a row
        // in its tenant, the missing ones are only outside the scope, and the note says that.
        const unlogged =
          cell.entity === 'enrollment' &&
          outcome === 'Updated' &&
          this.distinctRecords(this.select({ tenant: this.tenantName(s) }, filter)) < count
        note = unlogged
          ? `${missing} of ${count} records have no row: a student enrollment is logged by its roster rows, and a change that leaves section, start and end date as they were has none.`
          : `${missing} of ${count} records have no row visible in this scope.`
      }
    }
    return { rows, count, note, schoolId }
  }

  /** Skipped, Invalid, Excluded and Merged rows of a sync in the scope, by entity then seq. */
  reportRows(scope: Scope, syncId: string): number[] {
    const s = this.findSync(scope, syncId)
    if (s === undefined) return []
    const keep = this.predicate(scope, { includeRejected: true, includeProposed: true })
    const rows: number[] = []
    for (let i = s.firstRow; i < s.firstRow + s.rowCount; i++) {
      if (REPORT_OUTCOMES.has(OUTCOME_CODES[this.log.outcome[i]!] ?? '') && keep(i)) rows.push(i)
    }
    const entity = (i: number) => ENTITY_CODES[this.log.entity[i]!] ?? ''
    return rows.sort((a, b) => byteCompare(entity(a), entity(b)) || this.log.seq[a]! - this.log.seq[b]!)
  }

  /** Per tenant × app × start day: syncs with counts and their summed counts (a school scope: its cells only). */
  dailyRollups(scope: Scope, filter: { tenant?: string; app?: string; from?: string; to?: string }): DailyRollup[] {
    const day = (text: string) => new Date(parseBound(text).ms).toISOString().slice(0, 10)
    const from = filter.from === undefined ? undefined : day(filter.from)
    const to = filter.to === undefined ? undefined : day(filter.to)
    const groups = new Map<string, { tenant: string; app: string; day: string; syncs: Set<string>; counts: OutcomeCountsJson }>()
    for (const s of this.log.syncs) {
      const tenant = this.tenantName(s)
      const d = new Date(s.startedMs).toISOString().slice(0, 10)
      if ((filter.tenant !== undefined && filter.tenant !== tenant) || (filter.app !== undefined && filter.app !== s.app)) continue
      if ((from !== undefined && d < from) || (to !== undefined && d > to)) continue
      for (const c of this.visibleCounts(scope, s)) {
        const key = JSON.stringify([tenant, s.app, d])
        const g = groups.get(key) ?? { tenant, app: s.app, day: d, syncs: new Set<string>(), counts: zero() }
        g.syncs.add(s.syncId)
        add(g.counts, c.counts)
        groups.set(key, g)
      }
    }
    return [...groups.values()]
      .sort((a, b) => byteCompare(b.day, a.day) || byteCompare(a.tenant, b.tenant) || byteCompare(a.app, b.app))
      .map((g) => ({ tenant: g.tenant, app: g.app, day: g.day, syncs: g.syncs.size, counts: g.counts }))
  }

  /** Cells (entity × school × outcome) of a sync with a count, for drill-down tests. */
  cells(s: GeneratedSync): CountCell[] {
    const out: CountCell[] = []
    for (const c of s.counts) {
      for (const [outcome, field] of Object.entries(OUTCOME_FIELD)) {
        if (c.counts[field] > 0)
          out.push({ syncId: s.syncId, entity: c.entity as EntityType, schoolId: c.schoolId, outcomes: [outcome as Outcome] })
      }
    }
    return out
  }
}
