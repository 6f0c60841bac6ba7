/**
 * A deterministic sync log of any size for tests at scale: several tenants of
 * ~20 schools each, three apps, months of nightly syncs (Completed, Completed
 * with Errors, one Rejected, one On Hold, one Failed, one hold approved), rows of
 * every action, outcome and entity, interdistrict rows (home ≠ serving school),
 * students, sections and records whose history spans many syncs, cascaded rows
 * (blank outcome, dated at the sync's end), and counts consistent with the rows:
 * every counted record of an outcome other than No Change has at least one row
 * under its recordSchoolId, and No Change is counted but never logged (one sync
 * also counts enrollment updates that left no roster row, as the fold does).
 *
 * Memory stays small: a row is a handful of typed-array entries (indices into
 * the pools of `scale/roster-pools.ts`); LogRow objects exist only for the
 * batch being written or the rows a test looks at.
 */
import { ENTITY_TYPES, type EntityType } from '../../src/events/change-event.js'
import {
  AWAITING_REVIEW,
  OUTCOMES,
  ROSTER_ACTIONS,
  SECTION_ACTIONS,
  type LogAction,
  type LogColumn,
  type LogRow,
  type Outcome,
  type OutcomeCounts,
  type RowState,
  type SyncCounts,
  type SyncStatus,
  type SyncStatusChanged,
} from '../../src/events/sync-log-event.js'
import { Prng } from '../../src/generate/prng.js'
import { DistinctPicker } from './scale/distinct-picker.js'
import {
  DETAIL_KINDS,
  DETAIL_START,
  DETAILS,
  ENROLLMENTS_PER_STUDENT,
  TENANT_NAMES,
  tenantPools,
  type Course,
  type DetailKind,
  type School,
  type Section,
  type Student,
  type TenantPools,
} from './scale/roster-pools.js'

export type { TenantPools } from './scale/roster-pools.js'

/** Codes of the typed-array columns. */
export const ENTITY_CODES: readonly EntityType[] = ENTITY_TYPES
export const ACTION_CODES: readonly LogAction[] = [
  ...ROSTER_ACTIONS,
  ...SECTION_ACTIONS,
  'New',
  'Updated',
  'Deleted',
  'Skipped',
  'Invalid',
  'Merged',
  'Excluded',
]
export const OUTCOME_CODES: readonly (Outcome | '')[] = ['', ...OUTCOMES]

const E = Object.fromEntries(ENTITY_CODES.map((e, i) => [e, i])) as Record<EntityType, number>
const A = Object.fromEntries(ACTION_CODES.map((a, i) => [a, i])) as Record<LogAction, number>
const O = Object.fromEntries(OUTCOME_CODES.map((o, i) => [o, i])) as Record<Outcome | '', number>

export const APPS = ['sis-nightly', 'oneroster-csv', 'sftp-drop'] as const
export type App = (typeof APPS)[number]

/** Students whose user and first enrollment get a row in every sync of their tenant. */
export const FAMOUS_STUDENTS = 3
/** Section 0 of each tenant is updated in most syncs. */
export const FAMOUS_SECTION = 0

export interface GeneratedSync {
  readonly index: number
  readonly tenant: number
  readonly syncId: string
  readonly app: App
  readonly startedMs: number
  readonly endedMs: number
  /** Latest status. */
  readonly status: SyncStatus
  readonly statuses: readonly SyncStatusChanged[]
  readonly counts: readonly SyncCounts[]
  /** Its rows are [firstRow, firstRow + rowCount). */
  readonly firstRow: number
  readonly rowCount: number
  readonly kind: 'initial' | 'regular' | 'rejected' | 'on-hold' | 'failed' | 'approved' | 'twin' | 'month-end'
}

export interface GenerateOptions {
  /** Log rows to generate (approximately; cascades may add a few). */
  readonly rows: number
  readonly seed?: string
}

const DAY_MS = 86_400_000
const FIRST_DAY = Date.UTC(2024, 7, 25)
const DAYS = 72
const STEP_MS: Record<App, number> = { 'sis-nightly': 40, 'oneroster-csv': 25, 'sftp-drop': 60 }
const INITIAL_STEP_MS = 5
const SYNC_ID_PREFIX = ['em', 'LC', 'lu', 'sv_'] as const

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const COUNT_FIELD: Record<Exclude<Outcome, 'No Change'>, keyof OutcomeCounts> = {
  New: 'new',
  Updated: 'updated',
  Deleted: 'deleted',
  Skipped: 'skipped',
  Invalid: 'invalid',
  Merged: 'merged',
  Excluded: 'excluded',
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

function compact(ms: number): string {
  return iso(ms).replace(/[-:]/g, '').slice(0, 15)
}

interface PlannedSync {
  tenant: number
  app: App
  startedMs: number
  kind: GeneratedSync['kind']
  syncId: string
  weight: number
}

/** The syncs of every tenant, in start order, before any row exists. */
function planSyncs(prng: Prng, tenants: number): PlannedSync[] {
  const plans: PlannedSync[] = []
  const id = (t: number, app: App, ms: number) => `${SYNC_ID_PREFIX[t] ?? 'x'}-${compact(ms)}-${app}-${prng.hex(4)}`
  for (let t = 0; t < tenants; t++) {
    for (let d = 0; d < DAYS; d++) {
      const day = FIRST_DAY + d * DAY_MS
      // Every tenant's nightly starts at 02:00:00.000 with the same row spacing: dates tie across syncs.
      const nightly = day + 2 * 3_600_000
      plans.push({
        tenant: t,
        app: 'sis-nightly',
        startedMs: nightly,
        kind: d === 0 ? 'initial' : 'regular',
        syncId: id(t, 'sis-nightly', nightly),
        weight: 1,
      })
      if ((d + 2 * t) % 9 === 4) {
        const ms = day + 13 * 3_600_000 + t * 17 * 60_000 + prng.below(3_600_000)
        plans.push({ tenant: t, app: 'oneroster-csv', startedMs: ms, kind: 'regular', syncId: id(t, 'oneroster-csv', ms), weight: 0.6 })
      }
      if (t % 2 === 1 && (d + t) % 11 === 5) {
        const ms = day + 21 * 3_600_000 + prng.below(3_600_000)
        plans.push({ tenant: t, app: 'sftp-drop', startedMs: ms, kind: 'regular', syncId: id(t, 'sftp-drop', ms), weight: 0.3 })
      }
    }
  }
  if (tenants > 2) {
    // Syncs that start just before midnight at a month's end: their rows cross the day and the partition.
    for (const ms of [Date.UTC(2024, 8, 30, 23, 58, 30, 250), Date.UTC(2024, 9, 31, 23, 59, 10)]) {
      plans.push({ tenant: 2, app: 'sftp-drop', startedMs: ms, kind: 'month-end', syncId: id(2, 'sftp-drop', ms), weight: 0.8 })
    }
  }
  if (tenants > 2) {
    // Two tenants with the same sync id, start and row dates: only the tenant orders their rows.
    const ms = Date.UTC(2024, 9, 15, 15)
    for (const t of [1, 2])
      plans.push({ tenant: t, app: 'oneroster-csv', startedMs: ms, kind: 'twin', syncId: 'manual-2024-10-15', weight: 0.4 })
  }
  // Tenant 0: one csv sync is held, then rejected.
  const rejected = plans.find((p) => p.tenant === 0 && p.app === 'oneroster-csv' && p.startedMs >= Date.UTC(2024, 8, 15))
  if (rejected !== undefined) {
    rejected.kind = 'rejected'
    rejected.weight = 1.5
  }
  if (tenants > 1) {
    // Tenant 1: its last nightly is On Hold; every later sync of the tenant fails until it is decided.
    const holdMs = FIRST_DAY + (DAYS - 1) * DAY_MS + 2 * 3_600_000
    const held = plans.find((p) => p.tenant === 1 && p.app === 'sis-nightly' && p.startedMs === holdMs)
    if (held !== undefined) held.kind = 'on-hold'
    const later = plans.filter((p) => p.tenant === 1 && p.startedMs > holdMs)
    for (const p of later) plans.splice(plans.indexOf(p), 1)
    const failedMs = holdMs + 14 * 3_600_000
    plans.push({
      tenant: 1,
      app: 'oneroster-csv',
      startedMs: failedMs,
      kind: 'failed',
      syncId: id(1, 'oneroster-csv', failedMs),
      weight: 0,
    })
  }
  if (tenants > 3) {
    const approved = plans.find((p) => p.tenant === 3 && p.app === 'sis-nightly' && p.startedMs === FIRST_DAY + 40 * DAY_MS + 2 * 3_600_000)
    if (approved !== undefined) approved.kind = 'approved'
  }
  return plans.sort((a, b) => a.startedMs - b.startedMs || a.tenant - b.tenant)
}

/** Per sync: counts per (entity, recordSchool) cell. */
class CellCounts {
  private readonly cells = new Map<number, Mutable<OutcomeCounts>>()

  private cell(entity: number, school: number): Mutable<OutcomeCounts> {
    const key = entity * 4096 + school + 1
    let c = this.cells.get(key)
    if (c === undefined) {
      c = { total: 0, new: 0, updated: 0, noChange: 0, deleted: 0, skipped: 0, invalid: 0, duplicates: 0, merged: 0, excluded: 0 }
      this.cells.set(key, c)
    }
    return c
  }

  count(entity: number, school: number, outcome: Exclude<Outcome, 'No Change'>, records = 1): void {
    this.cell(entity, school)[COUNT_FIELD[outcome]] += records
  }

  noChange(entity: number, school: number, records: number): void {
    this.cell(entity, school).noChange += records
  }

  *entries(): Generator<{ entity: number; school: number; counts: OutcomeCounts }> {
    for (const [key, c] of [...this.cells].sort((a, b) => a[0] - b[0])) {
      const total = c.new + c.updated + c.noChange + c.deleted + c.skipped + c.invalid + c.merged + c.excluded
      yield { entity: Math.floor(key / 4096), school: (key % 4096) - 1, counts: { ...c, total, duplicates: c.merged + c.excluded } }
    }
  }

  errors(): number {
    let n = 0
    for (const c of this.cells.values()) n += c.skipped + c.invalid + c.excluded
    return n
  }
}

/** A row's state as the store reads it from its sync's latest status. */
export function rowState(status: SyncStatus): RowState {
  if (AWAITING_REVIEW.includes(status)) return 'Proposed'
  return status === 'Rejected' ? 'Rejected' : 'Applied'
}

/** The generated log: typed-array columns, one entry per row, and the syncs' counts and statuses. */
export class GeneratedLog {
  readonly tenants: readonly TenantPools[]
  readonly syncs: readonly GeneratedSync[]
  size = 0

  // One entry per row.
  sync: Uint16Array
  seq: Uint32Array
  dateMs: Float64Array
  action: Uint8Array
  outcome: Uint8Array
  entity: Uint8Array
  /** The record: an index into the tenant's pool of that entity (see `sourcedId`). */
  rec: Int32Array
  /** School indices into the tenant's schools; -1 = blank. */
  home: Int16Array
  serving: Int16Array
  recSchool: Int16Array
  detail: Uint16Array

  constructor(opts: GenerateOptions) {
    const seed = opts.seed ?? 'synclog-at-scale'
    const prng = new Prng(seed)
    const tenantCount = TENANT_NAMES.length
    const studentsPerTenant = Math.max(200, Math.min(6000, Math.round(opts.rows / 500)))
    this.tenants = Array.from({ length: tenantCount }, (_, t) => tenantPools(seed, t, studentsPerTenant))
    const plans = planSyncs(prng, tenantCount)

    const initialRows = this.tenants.reduce(
      (n, t) => n + t.enrollmentIds.length + t.students.length + t.teachers.length + t.sections.length + t.courses.length + 30,
      0,
    )
    const weights = plans.filter((p) => p.kind !== 'initial').reduce((n, p) => n + p.weight, 0)
    const perWeight = Math.max(50, (opts.rows - initialRows) / weights)
    const budgets = plans.map((p) => (p.kind === 'initial' ? 0 : Math.round(perWeight * p.weight * (0.5 + prng.next()))))
    const capacity = initialRows + budgets.reduce((n, b) => n + b, 0) + plans.length * 600 + 10_000
    this.sync = new Uint16Array(capacity)
    this.seq = new Uint32Array(capacity)
    this.dateMs = new Float64Array(capacity)
    this.action = new Uint8Array(capacity)
    this.outcome = new Uint8Array(capacity)
    this.entity = new Uint8Array(capacity)
    this.rec = new Int32Array(capacity)
    this.home = new Int16Array(capacity)
    this.serving = new Int16Array(capacity)
    this.recSchool = new Int16Array(capacity)
    this.detail = new Uint16Array(capacity)

    const syncs: GeneratedSync[] = []
    plans.forEach((plan, index) => {
      syncs.push(this.generateSync(new Prng(`${seed}/sync/${index}`), plan, index, budgets[index] ?? 0))
    })
    this.syncs = syncs
    this.trim()
  }

  private trim(): void {
    const n = this.size
    this.sync = this.sync.slice(0, n)
    this.seq = this.seq.slice(0, n)
    this.dateMs = this.dateMs.slice(0, n)
    this.action = this.action.slice(0, n)
    this.outcome = this.outcome.slice(0, n)
    this.entity = this.entity.slice(0, n)
    this.rec = this.rec.slice(0, n)
    this.home = this.home.slice(0, n)
    this.serving = this.serving.slice(0, n)
    this.recSchool = this.recSchool.slice(0, n)
    this.detail = this.detail.slice(0, n)
  }

  // ---- generation ---------------------------------------------------------------------

  private generateSync(prng: Prng, plan: PlannedSync, index: number, budget: number): GeneratedSync {
    const pools = this.tenants[plan.tenant]
    if (pools === undefined) throw new Error('unreachable')
    const firstRow = this.size
    const cells = new CellCounts()
    const step = plan.kind === 'initial' ? INITIAL_STEP_MS : STEP_MS[plan.app]
    let seq = 0
    const cascades: Cascade[] = []

    const put = (entity: EntityType, rec: number, action: LogAction, outcome: Outcome | '', detail: number, dateMs: number): void => {
      const i = this.size++
      if (i >= this.sync.length) throw new Error('generated log capacity exceeded')
      const [home, serving, recSchool] = this.schoolsOf(pools, entity, rec)
      this.sync[i] = index
      this.seq[i] = ++seq
      this.dateMs[i] = dateMs
      this.action[i] = A[action]
      this.outcome[i] = O[outcome]
      this.entity[i] = E[entity]
      this.rec[i] = rec
      this.home[i] = home
      this.serving[i] = serving
      this.recSchool[i] = outcome === '' ? -1 : recSchool
      this.detail[i] = detail
    }
    /** One input record's rows (one or more), counted once under its school. */
    const record: RecordFn = (entity, rec, outcome, rows) => {
      rows.forEach(([action, kind], r) => {
        const details = DETAIL_KINDS[kind].length
        put(entity, rec, action, outcome, DETAIL_START[kind] + ((prng.below(details) + r) % details), plan.startedMs + (seq + 1) * step)
      })
      cells.count(E[entity], this.schoolsOf(pools, entity, rec)[2], outcome)
    }

    if (plan.kind === 'initial') this.initialRows(prng, pools, record)
    else if (plan.kind !== 'failed') this.deltaRows(prng, pools, plan, budget, () => this.size - firstRow, record, cascades)

    const endedMs = plan.startedMs + (seq + 1) * step + 750
    // Cascaded rows: no input record, not counted, dated at the sync's end (so they tie on date).
    for (const c of cascades) put('enrollment', c.rec, 'Deleted Roster', '', c.detail, endedMs)

    if (plan.kind !== 'initial' && plan.kind !== 'failed') this.addNoChange(prng, pools, cells)
    if (plan.kind === 'approved') {
      // Enrollment updates that changed nothing a roster row shows: counted, never logged.
      for (let school = 0; school < 3; school++) cells.count(E.enrollment, school, 'Updated', 3)
    }

    const counts: SyncCounts[] = []
    if (plan.kind !== 'failed') {
      for (const c of cells.entries()) {
        const school = c.school < 0 ? undefined : pools.schools[c.school]
        counts.push({
          kind: 'SyncCounts',
          tenant: pools.name,
          syncId: plan.syncId,
          app: plan.app,
          entity: ENTITY_CODES[c.entity] ?? 'org',
          schoolId: school?.id ?? '',
          schoolName: school?.name ?? '',
          startedAt: iso(plan.startedMs),
          counts: c.counts,
        })
      }
    }
    const statuses = this.statuses(plan, pools, endedMs, cells.errors() > 0)
    const latest = statuses[statuses.length - 1]
    if (latest === undefined) throw new Error('unreachable')
    return {
      index,
      tenant: plan.tenant,
      syncId: plan.syncId,
      app: plan.app,
      startedMs: plan.startedMs,
      endedMs,
      status: latest.status,
      statuses,
      counts,
      firstRow,
      rowCount: this.size - firstRow,
      kind: plan.kind,
    }
  }

  /** The first full sync of a tenant: every record New, a few rejected. */
  private initialRows(prng: Prng, p: TenantPools, record: RecordFn): void {
    const put = (entity: EntityType, rec: number, roster: boolean) => {
      const x = prng.next()
      const o: Exclude<Outcome, 'No Change'> =
        x < 0.004 ? 'Skipped' : x < 0.007 ? 'Invalid' : x < 0.008 ? 'Merged' : x < 0.009 ? 'Excluded' : 'New'
      if (o === 'New') record(entity, rec, 'New', [[roster ? 'Created Roster' : 'New', 'none']])
      else record(entity, rec, o, [[o, errorDetail(o)]])
    }
    for (let k = 0; k <= p.ownSchools; k++) put('org', k, false)
    p.terms.forEach((_, k) => put('academicSession', k, false))
    p.courses.forEach((_, k) => put('course', k, false))
    for (let u = 0; u < p.students.length + p.teachers.length; u++) put('user', u, false)
    p.sections.forEach((_, k) => put('class', k, false))
    for (let e = 0; e < p.enrollmentIds.length; e++) put('enrollment', e, true)
  }

  /** A nightly (or csv, sftp) delta: roughly `budget` rows of every kind. */
  private deltaRows(
    prng: Prng,
    p: TenantPools,
    plan: PlannedSync,
    budget: number,
    rowsSoFar: () => number,
    record: RecordFn,
    cascades: Cascade[],
  ): void {
    const users = p.students.length + p.teachers.length
    const pick = {
      enrollment: new DistinctPicker(prng, FAMOUS_STUDENTS * ENROLLMENTS_PER_STUDENT, p.enrollmentIds.length),
      user: new DistinctPicker(prng, FAMOUS_STUDENTS, users),
      class: new DistinctPicker(prng, FAMOUS_SECTION + 1, p.sections.length),
      course: new DistinctPicker(prng, 0, p.courses.length),
      org: new DistinctPicker(prng, 0, p.ownSchools + 1),
      academicSession: new DistinctPicker(prng, 0, p.terms.length),
    }
    // About one sync in seven has nothing Skipped, Invalid or Excluded: it ends Completed.
    const clean = prng.chance(0.15)
    const err = (): Exclude<Outcome, 'No Change'> =>
      clean ? 'Merged' : prng.pick(['Skipped', 'Skipped', 'Invalid', 'Merged', 'Excluded'] as const)
    /** An error outcome's rows: Invalid may log several problems of one record. */
    const errorRows = (o: Exclude<Outcome, 'No Change'>, several: number): RowSpec[] =>
      Array.from({ length: o === 'Invalid' && prng.chance(several) ? 2 : 1 }, () => [o, errorDetail(o)] as const)

    // Histories that span every sync of the tenant.
    for (let f = 0; f < FAMOUS_STUDENTS; f++) {
      record('user', f, 'Updated', [['Updated', 'userUpdated']])
      record('enrollment', f * ENROLLMENTS_PER_STUDENT, 'Updated', [['Updated Roster End Date', 'endDate']])
    }
    if (prng.chance(0.7)) record('class', FAMOUS_SECTION, 'Updated', [['Updated Section Data', 'sectionUpdated']])

    const heavyDeletes = plan.kind === 'rejected' || plan.kind === 'on-hold'
    // enrollment roster, enrollment error, user, class, course, org, session, student deleted, section invalidated
    const weights = [0.5, clean ? 0.005 : 0.03, 0.28, 0.07, 0.01, 0.006, 0.003, 0.002, 0.001]
    const others = ['course', 'org', 'academicSession'] as const
    let misses = 0
    while (rowsSoFar() + cascades.length < budget && misses < 1000) {
      const before = rowsSoFar()
      const kind = prng.weighted(weights)
      switch (kind) {
        case 0: {
          const e = pick.enrollment.next()
          if (e < 0) break
          const x = prng.next()
          if (x < (heavyDeletes ? 0.2 : 0.45)) record('enrollment', e, 'New', [['Created Roster', 'none']])
          else if (x < (heavyDeletes ? 0.8 : 0.7)) record('enrollment', e, 'Deleted', [['Deleted Roster', 'rosterDeleted']])
          else if (x < 0.8) record('enrollment', e, 'Updated', [['Updated Roster Start Date', 'startDate']])
          else if (x < 0.93) record('enrollment', e, 'Updated', [['Updated Roster End Date', 'endDate']])
          else
            record('enrollment', e, 'Updated', [
              ['Updated Roster Start Date', 'startDate'],
              ['Updated Roster End Date', 'endDate'],
            ])
          break
        }
        case 1: {
          const e = pick.enrollment.next()
          if (e < 0) break
          const o = err()
          record('enrollment', e, o, errorRows(o, 0.3))
          break
        }
        case 2: {
          const u = pick.user.next()
          if (u < 0) break
          const x = prng.next()
          const o: Exclude<Outcome, 'No Change'> = x < 0.2 ? 'New' : x < 0.72 ? 'Updated' : x < 0.76 ? 'Deleted' : err()
          if (o === 'Updated') record('user', u, o, [[o, 'userUpdated']])
          else if (o === 'New' || o === 'Deleted') record('user', u, o, [[o, 'none']])
          else record('user', u, o, errorRows(o, 0.4))
          break
        }
        case 3: {
          const c = pick.class.next()
          if (c < 0) break
          const x = prng.next()
          if (x < 0.6) record('class', c, 'Updated', [['Updated Section Data', 'sectionUpdated']])
          else if (x < 0.75) record('class', c, 'New', [['New', 'none']])
          else if (x < 0.8) record('class', c, 'Deleted', [['Deleted', 'none']])
          else {
            const o = err()
            record('class', c, o, errorRows(o, 0.2))
          }
          break
        }
        case 4:
        case 5:
        case 6: {
          const entity = others[kind - 4] ?? 'course'
          const r = pick[entity].next()
          if (r < 0) break
          const x = prng.next()
          if (x < 0.3) record(entity, r, 'New', [['New', 'none']])
          else if (x < 0.8) record(entity, r, 'Updated', [['Updated', 'otherUpdated']])
          else if (x < 0.9) record(entity, r, 'Deleted', [['Deleted', 'none']])
          else {
            const o = err()
            record(entity, r, o, errorRows(o, 0))
          }
          break
        }
        case 7: {
          // A student deleted by the source: one user row, and a cascaded roster row per enrollment.
          const u = pick.user.next()
          if (u < 0 || u >= p.students.length) break
          record('user', u, 'Deleted', [['Deleted', 'none']])
          for (let k = 0; k < ENROLLMENTS_PER_STUDENT; k++)
            cascades.push({ rec: u * ENROLLMENTS_PER_STUDENT + k, detail: DETAIL_START.cascadeStudent })
          break
        }
        case 8: {
          // A section with active rosters invalidated: its rosters are removed by cascade.
          const c = pick.class.next()
          if (c < 0) break
          record('class', c, 'Deleted', [['Invalidated Section', 'sectionInvalidated']])
          const detail = DETAIL_START.cascadeSection + prng.below(DETAIL_KINDS.cascadeSection.length)
          for (let k = p.sectionStart[c] ?? 0; k < (p.sectionStart[c + 1] ?? 0); k++)
            cascades.push({ rec: p.sectionEnrollments[k] ?? 0, detail })
          break
        }
      }
      if (rowsSoFar() === before) misses++
    }
  }

  /** No Change counts: on cells with rows and on cells with none. */
  private addNoChange(prng: Prng, p: TenantPools, cells: CellCounts): void {
    const own = Array.from({ length: p.ownSchools }, (_, k) => k)
    const domains: [EntityType, number[]][] = [
      ['enrollment', own],
      ['class', own],
      ['user', Array.from({ length: p.schools.length }, (_, k) => k)],
      ['course', [-1, ...own]],
      ['org', [-1, ...own]],
      ['academicSession', [-1]],
    ]
    for (const [entity, schools] of domains) {
      for (const school of schools) if (prng.chance(0.5)) cells.noChange(E[entity], school, prng.int(1, 400))
    }
  }

  private statuses(plan: PlannedSync, p: TenantPools, endedMs: number, errors: boolean): SyncStatusChanged[] {
    const base = {
      kind: 'SyncStatusChanged',
      tenant: p.name,
      syncId: plan.syncId,
      app: plan.app,
      startedAt: iso(plan.startedMs),
      modes:
        plan.kind === 'initial'
          ? 'org:full,academicSession:full,course:full,user:full,class:full,enrollment:full'
          : 'user:delta,class:delta,enrollment:full',
      reviewedBy: '',
      reviewedAt: '',
      reviewReason: '',
    } as const
    const done: SyncStatus = errors ? 'Completed with Errors' : 'Completed'
    const ended = iso(endedMs)
    const list: SyncStatusChanged[] = [{ ...base, status: 'Running', version: 0, endedAt: '', message: '' }]
    const add = (status: SyncStatus, endedAt: string, message: string) =>
      list.push({ ...base, status, version: list.length, endedAt, message })
    switch (plan.kind) {
      case 'rejected':
        add('On Hold', ended, 'a full enrollment sync would delete 14 % of the enrollments')
        add('Rejected', iso(endedMs + 3_600_000), 'rejected by admin@emerson.example')
        break
      case 'on-hold':
        add('On Hold', ended, 'a full enrollment sync would delete 12 % of the enrollments')
        break
      case 'approved':
        add('On Hold', ended, 'a full user sync would update 80 % of the users')
        add(done, iso(endedMs + 7_200_000), 'approved by ops@sierra-vista.example')
        break
      case 'failed':
        add('Failed', iso(plan.startedMs + 1000), 'a sync of this tenant is On Hold: approve or reject it first')
        break
      default:
        add(done, ended, '')
    }
    return list
  }

  /** Home, serving and counted school of a record (indices, -1 = blank / district). */
  private schoolsOf(p: TenantPools, entity: EntityType, rec: number): [number, number, number] {
    switch (entity) {
      case 'enrollment': {
        const student = p.students[Math.floor(rec / ENROLLMENTS_PER_STUDENT)]
        const section = p.sections[p.enrollmentSection[rec] ?? 0]
        const serving = section?.school ?? -1
        return [student?.home ?? -1, serving, serving]
      }
      case 'user': {
        const home = rec < p.students.length ? (p.students[rec]?.home ?? -1) : (p.teachers[rec - p.students.length]?.home ?? -1)
        return [home, -1, home]
      }
      case 'class': {
        const school = p.sections[rec]?.school ?? -1
        return [-1, school, school]
      }
      case 'course':
        return [-1, -1, p.courses[rec]?.school ?? -1]
      case 'org':
        return [-1, -1, rec < p.ownSchools ? rec : -1]
      case 'academicSession':
        return [-1, -1, -1]
    }
  }

  // ---- reading ------------------------------------------------------------------------

  syncOf(i: number): GeneratedSync {
    const s = this.syncs[this.sync[i] ?? 0]
    if (s === undefined) throw new Error(`row ${i} has no sync`)
    return s
  }

  tenantOf(i: number): TenantPools {
    const t = this.tenants[this.syncOf(i).tenant]
    if (t === undefined) throw new Error('unreachable')
    return t
  }

  /**
   * The value of one column of row i, as the log shows it (date as an ISO
   * instant with Z). Hot: no closures, every string comes from a pool.
   */
  value(i: number, column: LogColumn | 'tenant' | 'recordSchoolId'): string {
    const s = this.syncOf(i)
    const p = this.tenants[s.tenant]
    if (p === undefined) throw new Error('unreachable')
    const entity = ENTITY_CODES[this.entity[i] ?? 0]
    const rec = this.rec[i] ?? 0
    switch (column) {
      case 'tenant':
        return p.name
      case 'date':
        return iso(this.dateMs[i] ?? 0)
      case 'action':
        return ACTION_CODES[this.action[i] ?? 0] ?? ''
      case 'studentNumber':
        return studentOf(p, entity, rec)?.number ?? ''
      case 'studentName':
        return studentOf(p, entity, rec)?.name ?? ''
      case 'courseNumber':
        return courseOf(p, entity, rec)?.number ?? ''
      case 'courseName':
        return courseOf(p, entity, rec)?.name ?? ''
      case 'sectionNumber':
        return sectionOf(p, entity, rec)?.number ?? ''
      case 'field':
        return DETAILS[this.detail[i] ?? 0]?.field ?? ''
      case 'oldValue':
        return DETAILS[this.detail[i] ?? 0]?.oldValue ?? ''
      case 'newValue':
        return DETAILS[this.detail[i] ?? 0]?.newValue ?? ''
      case 'message':
        return DETAILS[this.detail[i] ?? 0]?.message ?? ''
      case 'servingDistrictId':
        return schoolAt(p, this.serving[i])?.districtId ?? ''
      case 'servingDistrict':
        return schoolAt(p, this.serving[i])?.district ?? ''
      case 'servingSchoolId':
        return schoolAt(p, this.serving[i])?.id ?? ''
      case 'servingSchool':
        return schoolAt(p, this.serving[i])?.name ?? ''
      case 'homeDistrictId':
        return schoolAt(p, this.home[i])?.districtId ?? ''
      case 'homeDistrict':
        return schoolAt(p, this.home[i])?.district ?? ''
      case 'homeSchoolId':
        return schoolAt(p, this.home[i])?.id ?? ''
      case 'homeSchool':
        return schoolAt(p, this.home[i])?.name ?? ''
      case 'syncId':
        return s.syncId
      case 'app':
        return s.app
      case 'entity':
        return entity ?? ''
      case 'sourcedId':
        return sourcedIdOf(p, entity, rec)
      case 'outcome':
        return OUTCOME_CODES[this.outcome[i] ?? 0] ?? ''
      case 'recordSchoolId':
        return schoolAt(p, this.recSchool[i])?.id ?? ''
      case 'cause':
        return ''
      case 'state':
        return rowState(s.status)
    }
  }

  /** Row i as the store's writer takes it (the same values as `value`, looked up once per row). */
  logRow(i: number): LogRow {
    const s = this.syncOf(i)
    const p = this.tenants[s.tenant]
    if (p === undefined) throw new Error('unreachable')
    const entity = ENTITY_CODES[this.entity[i] ?? 0]
    const rec = this.rec[i] ?? 0
    const student = studentOf(p, entity, rec)
    const section = sectionOf(p, entity, rec)
    const course = courseOf(p, entity, rec)
    const serving = schoolAt(p, this.serving[i])
    const home = schoolAt(p, this.home[i])
    const detail = DETAILS[this.detail[i] ?? 0]
    return {
      kind: 'LogRow',
      tenant: p.name,
      syncId: s.syncId,
      seq: this.seq[i] ?? 0,
      date: iso(this.dateMs[i] ?? 0),
      action: ACTION_CODES[this.action[i] ?? 0] ?? 'New',
      studentNumber: student?.number ?? '',
      studentName: student?.name ?? '',
      courseNumber: course?.number ?? '',
      courseName: course?.name ?? '',
      sectionNumber: section?.number ?? '',
      field: detail?.field ?? '',
      oldValue: detail?.oldValue ?? '',
      newValue: detail?.newValue ?? '',
      servingDistrictId: serving?.districtId ?? '',
      servingDistrict: serving?.district ?? '',
      servingSchoolId: serving?.id ?? '',
      servingSchool: serving?.name ?? '',
      homeDistrictId: home?.districtId ?? '',
      homeDistrict: home?.district ?? '',
      homeSchoolId: home?.id ?? '',
      homeSchool: home?.name ?? '',
      app: s.app,
      entity: entity ?? '',
      sourcedId: sourcedIdOf(p, entity, rec),
      outcome: OUTCOME_CODES[this.outcome[i] ?? 0] ?? '',
      message: detail?.message ?? '',
      recordSchoolId: schoolAt(p, this.recSchool[i])?.id ?? '',
      cause: '',
    }
  }

  /** Every log row, `size` at a time, in generation order. */
  *logBatches(size: number): Generator<LogRow[]> {
    for (let from = 0; from < this.size; from += size) {
      const batch: LogRow[] = []
      for (let i = from; i < Math.min(this.size, from + size); i++) batch.push(this.logRow(i))
      yield batch
    }
  }

  countEvents(): SyncCounts[] {
    return this.syncs.flatMap((s) => s.counts)
  }

  statusEvents(): SyncStatusChanged[] {
    return this.syncs.flatMap((s) => s.statuses)
  }
}

/** A row of a record: its action and the kind of detail (field, values, message) it draws. */
type RowSpec = readonly [LogAction, DetailKind]
/** Writes one input record's rows and counts the record once, under its outcome and school. */
type RecordFn = (entity: EntityType, rec: number, outcome: Exclude<Outcome, 'No Change'>, rows: readonly RowSpec[]) => void
/** A cascaded roster row to write at the sync's end. */
interface Cascade {
  rec: number
  detail: number
}

function errorDetail(o: Exclude<Outcome, 'No Change'>): DetailKind {
  switch (o) {
    case 'Skipped':
      return 'skipped'
    case 'Invalid':
      return 'invalid'
    case 'Merged':
      return 'merged'
    case 'Excluded':
      return 'excluded'
    default:
      return 'none'
  }
}

function schoolAt(p: TenantPools, k: number | undefined): School | undefined {
  return k === undefined || k < 0 ? undefined : p.schools[k]
}

function studentOf(p: TenantPools, entity: EntityType | undefined, rec: number): Student | undefined {
  if (entity === 'enrollment') return p.students[Math.floor(rec / ENROLLMENTS_PER_STUDENT)]
  return entity === 'user' && rec < p.students.length ? p.students[rec] : undefined
}

function sectionOf(p: TenantPools, entity: EntityType | undefined, rec: number): Section | undefined {
  if (entity === 'enrollment') return p.sections[p.enrollmentSection[rec] ?? 0]
  return entity === 'class' ? p.sections[rec] : undefined
}

function courseOf(p: TenantPools, entity: EntityType | undefined, rec: number): Course | undefined {
  if (entity === 'course') return p.courses[rec]
  const section = sectionOf(p, entity, rec)
  return section === undefined ? undefined : p.courses[section.course]
}

function sourcedIdOf(p: TenantPools, entity: EntityType | undefined, rec: number): string {
  switch (entity) {
    case 'enrollment':
      return p.enrollmentIds[rec] ?? ''
    case 'user':
      return rec < p.students.length ? (p.students[rec]?.sourcedId ?? '') : (p.teachers[rec - p.students.length]?.sourcedId ?? '')
    case 'class':
      return p.sections[rec]?.sourcedId ?? ''
    case 'course':
      return p.courses[rec]?.sourcedId ?? ''
    case 'org':
      return rec < p.ownSchools ? (p.schools[rec]?.id ?? '') : p.districtId
    case 'academicSession':
      return p.terms[rec] ?? ''
    default:
      return ''
  }
}
