/**
 * A synthetic sync log of any size, for the query and export stages: several
 * tenants of 20 schools, four months of nightly syncs (plus a weekly full CSV
 * import and a large initial load), rows of every action in the proportions a
 * mid-year district sees, students and sections whose history spans many
 * syncs, cross-site and interdistrict rows, cascaded rows, and per-sync counts
 * and statuses consistent with the rows (one sync per tenant Rejected).
 *
 * Rows are built from small per-tenant pools of precomputed strings and
 * yielded one at a time: memory stays flat whatever the size. Deterministic for
 * a seed; row formats follow what the fold writes (see src/processor).
 */
import type { EntityType } from '../../src/events/change-event.js'
import {
  BLANK_LOG_COLUMNS,
  type LogAction,
  type LogRow,
  type Outcome,
  type SyncCounts,
  type SyncLogEvent,
  type SyncStatus,
  type SyncStatusChanged,
} from '../../src/events/sync-log-event.js'
import type { LogRecord } from '../../src/export/log-record.js'
import { FAMILY_NAMES, GIVEN_NAMES, LEVELS, PLACE_NAMES, SCHOOL_NAME_STEMS, levelOf } from '../../src/generate/catalog.js'
import { Prng, guid, hash32 } from '../../src/generate/prng.js'

export interface SyntheticLogOptions {
  readonly rows: number
  readonly tenants: number
  readonly seed?: number
}

const SCHOOLS = 20
const DAYS = 120
const FIRST_DAY_MS = Date.UTC(2025, 7, 18)
const DAY_MS = 86_400_000
const INITIAL_WEIGHT = 10
const WEEKLY_WEIGHT = 2
export const APPS = ['sis-nightly', 'oneroster-csv'] as const

interface School {
  readonly id: string
  readonly name: string
}
interface Student {
  readonly id: string
  readonly number: string
  readonly name: string
  readonly home: number
  readonly given: string
  readonly family: string
}
interface SectionInfo {
  readonly id: string
  readonly school: number
  readonly courseNumber: string
  readonly courseName: string
  readonly sectionNumber: string
}

export interface TenantPool {
  readonly index: number
  readonly tenant: string
  readonly districtId: string
  readonly district: string
  readonly schools: readonly School[]
  readonly students: readonly Student[]
  readonly sections: readonly SectionInfo[]
}

export interface SyncPlan {
  readonly tenant: number
  readonly day: number
  readonly app: (typeof APPS)[number]
  readonly syncId: string
  readonly startedMs: number
  readonly rows: number
  readonly initial: boolean
  readonly rejected: boolean
}

const ACTIONS: readonly (readonly [LogAction, number])[] = [
  ['Created Roster', 24],
  ['Deleted Roster', 20],
  ['Updated Roster End Date', 12],
  ['Updated Roster Start Date', 5],
  ['Updated Section Data', 8],
  ['Updated', 10],
  ['New', 8],
  ['Deleted', 2],
  ['Skipped', 4],
  ['Invalid', 3],
  ['Merged', 1.5],
  ['Excluded', 1],
  ['Invalidated Section', 0.5],
]
const ACTION_TOTAL = ACTIONS.reduce((n, [, w]) => n + w, 0)
const COURSES = Object.values(LEVELS).flatMap((l) => l.courses.map((c) => [c.code, c.title] as const))

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

function tenantPool(seed: number, index: number, rowsPerTenant: number): TenantPool {
  const place = PLACE_NAMES[(index + 7) % PLACE_NAMES.length]!
  const round = Math.floor(index / PLACE_NAMES.length)
  const placeName = round === 0 ? place : `${place} ${round + 1}`
  const tenant = `${placeName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-usd`
  const rng = new Prng(seed, [900, index])
  const schools = Array.from({ length: SCHOOLS }, (_, s) => ({
    id: guid([seed, 901, index, s]),
    name: `${SCHOOL_NAME_STEMS[(s + index) % SCHOOL_NAME_STEMS.length]} ${LEVELS[levelOf(s)].label}`,
  }))
  // About 40 rows per student over the four months: a history worth reading.
  const studentCount = Math.max(300, Math.min(250_000, Math.round(rowsPerTenant / 40)))
  const students = Array.from({ length: studentCount }, (_, k) => {
    const given = rng.pick(GIVEN_NAMES)
    const family = rng.pick(FAMILY_NAMES)
    return {
      id: guid([seed, 902, index, k]),
      number: String(100000 + index * 1_000_000 + k),
      name: `${family}, ${given}`,
      home: k % SCHOOLS,
      given,
      family,
    }
  })
  const sectionCount = Math.max(SCHOOLS * 4, Math.round(studentCount / 4))
  const sections = Array.from({ length: sectionCount }, (_, k) => {
    const [code, title] = COURSES[hash32([seed, index, k]) % COURSES.length]!
    return {
      id: guid([seed, 903, index, k]),
      school: k % SCHOOLS,
      courseNumber: code,
      courseName: title,
      sectionNumber: `${code}-${String(1 + (k % 9)).padStart(2, '0')}`,
    }
  })
  return {
    index,
    tenant,
    districtId: guid([seed, 904, index]),
    district: `${placeName} Unified School District`,
    schools,
    students,
    sections,
  }
}

export class SyntheticLog {
  readonly tenants: readonly TenantPool[]
  readonly syncs: readonly SyncPlan[]
  readonly seed: number
  readonly firstDay = isoDay(FIRST_DAY_MS)
  readonly lastDay = isoDay(FIRST_DAY_MS + (DAYS - 1) * DAY_MS)

  constructor(opts: SyntheticLogOptions) {
    this.seed = opts.seed ?? 7
    const perTenantWeight = INITIAL_WEIGHT + (DAYS - 1) + Math.floor(DAYS / 7) * WEEKLY_WEIGHT
    const base = Math.max(1, opts.rows / (opts.tenants * perTenantWeight))
    this.tenants = Array.from({ length: opts.tenants }, (_, t) => tenantPool(this.seed, t, opts.rows / opts.tenants))
    const syncs: SyncPlan[] = []
    const rng = new Prng(this.seed, [905])
    for (let day = 0; day < DAYS; day++) {
      for (const t of this.tenants) {
        const start = FIRST_DAY_MS + day * DAY_MS + 6 * 3_600_000 + t.index * 60_000
        const plan = (app: SyncPlan['app'], weight: number, offsetMs: number, initial: boolean): void => {
          syncs.push({
            tenant: t.index,
            day,
            app,
            syncId: `${t.tenant}-${app}-${isoDay(start).replaceAll('-', '')}`,
            startedMs: start + offsetMs,
            rows: Math.max(1, Math.round(base * weight * (0.7 + rng.next() * 0.6))),
            initial,
            rejected: day === 40 && app === 'sis-nightly',
          })
        }
        plan('sis-nightly', day === 0 ? INITIAL_WEIGHT : 1, 0, day === 0)
        if (day % 7 === 6) plan('oneroster-csv', WEEKLY_WEIGHT, 3_600_000, false)
      }
    }
    this.syncs = syncs
  }

  get totalRows(): number {
    return this.syncs.reduce((n, s) => n + s.rows, 0)
  }

  /** Sync-log events in the order a projector would write them: per sync, Running, its rows, its counts, its final status. */
  *events(): Generator<SyncLogEvent> {
    for (const plan of this.syncs) yield* this.syncEvents(plan)
  }

  /** The log rows alone, as the exporters receive them. */
  *records(limit = Number.POSITIVE_INFINITY): Generator<LogRecord> {
    let n = 0
    for (const plan of this.syncs) {
      for (const e of this.syncEvents(plan)) {
        if (e.kind !== 'LogRow') continue
        if (n++ >= limit) return
        const { kind: _kind, ...record } = e
        yield record
      }
    }
  }

  private *syncEvents(plan: SyncPlan): Generator<SyncLogEvent> {
    const t = this.tenants[plan.tenant]!
    const rng = new Prng(this.seed, [906, plan.tenant, plan.day, plan.app === 'sis-nightly' ? 0 : 1])
    const started = new Date(plan.startedMs).toISOString()
    const status = (s: SyncStatus, version: number, endedMs: number | null, message = ''): SyncStatusChanged => ({
      kind: 'SyncStatusChanged',
      tenant: t.tenant,
      syncId: plan.syncId,
      app: plan.app,
      status: s,
      version,
      startedAt: started,
      endedAt: endedMs === null ? '' : new Date(endedMs).toISOString(),
      message,
      modes:
        plan.app === 'oneroster-csv'
          ? 'org=full,academicSession=full,course=full,user=full,class=full,enrollment=full'
          : 'user=delta,class=delta,enrollment=delta',
      reviewedBy: '',
      reviewedAt: '',
      reviewReason: '',
    })
    yield status('Running', 1, null)
    const counts = new Map<string, { entity: EntityType; school: number; counts: Record<string, number> }>()
    let errors = false
    for (let i = 0; i < plan.rows; i++) {
      const row = this.row(t, plan, rng, i + 1)
      if (row.outcome === 'Skipped' || row.outcome === 'Invalid' || row.outcome === 'Excluded') errors = true
      if (row.outcome !== '' && row.entity !== '') {
        const school = row.recordSchoolId === '' ? -1 : t.schools.findIndex((s) => s.id === row.recordSchoolId)
        const key = `${row.entity}|${school}`
        const cell = counts.get(key) ?? { entity: row.entity, school, counts: {} }
        cell.counts[row.outcome] = (cell.counts[row.outcome] ?? 0) + 1
        counts.set(key, cell)
      }
      yield row
    }
    const endedMs = plan.startedMs + plan.rows * 20 + 1000
    for (const cell of counts.values()) yield this.countsOf(t, plan, rng, started, cell)
    if (plan.rejected) {
      yield status('On Hold', 2, endedMs, 'user: 14.2% of existing records would be deleted (threshold 10%)')
      yield status('Rejected', 3, endedMs + 3_600_000, 'rejected by data.manager@district.org')
    } else {
      yield status(errors ? 'Completed with Errors' : 'Completed', 2, endedMs)
    }
  }

  private countsOf(
    t: TenantPool,
    plan: SyncPlan,
    rng: Prng,
    started: string,
    cell: { entity: EntityType; school: number; counts: Record<string, number> },
  ): SyncCounts {
    const c = (o: Outcome): number => cell.counts[o] ?? 0
    const noChange = plan.initial ? 0 : Math.round((c('New') + c('Updated') + c('Deleted') + 1) * (10 + rng.next() * 20))
    const counts = {
      new: c('New'),
      updated: c('Updated'),
      noChange,
      deleted: c('Deleted'),
      skipped: c('Skipped'),
      invalid: c('Invalid'),
      merged: c('Merged'),
      excluded: c('Excluded'),
      duplicates: c('Merged') + c('Excluded'),
      total: 0,
    }
    counts.total =
      counts.new + counts.updated + counts.noChange + counts.deleted + counts.skipped + counts.invalid + counts.merged + counts.excluded
    const school = cell.school < 0 ? undefined : t.schools[cell.school]
    return {
      kind: 'SyncCounts',
      tenant: t.tenant,
      syncId: plan.syncId,
      app: plan.app,
      entity: cell.entity,
      schoolId: school?.id ?? '',
      schoolName: school?.name ?? '',
      startedAt: started,
      counts,
    }
  }

  private pickAction(rng: Prng, initial: boolean): LogAction {
    if (initial) return rng.chance(0.8) ? 'Created Roster' : 'New'
    let x = rng.next() * ACTION_TOTAL
    for (const [a, w] of ACTIONS) {
      x -= w
      if (x < 0) return a
    }
    return 'Created Roster'
  }

  private row(t: TenantPool, plan: SyncPlan, rng: Prng, seq: number): LogRow {
    const student = t.students[rng.int(0, t.students.length - 1)]!
    // Mostly a section of the student's home school; 4 % elsewhere in the district.
    const perSchool = Math.floor(t.sections.length / SCHOOLS)
    const school = rng.chance(0.04) ? rng.int(0, SCHOOLS - 1) : student.home
    const section = t.sections[Math.min(t.sections.length - 1, rng.int(0, perSchool - 1) * SCHOOLS + school)]!
    const serving = t.schools[section.school]!
    // 1 % of students are served here but live in the next district.
    const visitor = hash32([this.seed, t.index, Number(student.number)]) % 100 === 0
    const homeTenant = visitor ? this.tenants[(t.index + 1) % this.tenants.length]! : t
    const home = homeTenant.schools[student.home]!
    const action = this.pickAction(rng, plan.initial)
    const base = {
      kind: 'LogRow' as const,
      tenant: t.tenant,
      syncId: plan.syncId,
      seq,
      date: new Date(plan.startedMs + seq * 20).toISOString(),
      app: plan.app,
      action,
      ...BLANK_LOG_COLUMNS,
      entity: '' as EntityType | '',
      outcome: '' as Outcome | '',
    }
    const studentCols = {
      studentNumber: student.number,
      studentName: student.name,
      homeDistrictId: homeTenant.districtId,
      homeDistrict: homeTenant.district,
      homeSchoolId: home.id,
      homeSchool: home.name,
    }
    const sectionCols = {
      courseNumber: section.courseNumber,
      courseName: section.courseName,
      sectionNumber: section.sectionNumber,
      servingDistrictId: t.districtId,
      servingDistrict: t.district,
      servingSchoolId: serving.id,
      servingSchool: serving.name,
    }
    const enrollmentId = guid([this.seed, 910, t.index, Number(student.number), section.school, section.sectionNumber.length])
    const roster = {
      ...base,
      ...studentCols,
      ...sectionCols,
      entity: 'enrollment' as const,
      sourcedId: enrollmentId,
      recordSchoolId: serving.id,
    }
    const date = (d: number): string => isoDay(Date.UTC(2026, 5, 5) - d * DAY_MS)
    switch (action) {
      case 'Created Roster':
        return { ...roster, outcome: 'New' }
      case 'Deleted Roster':
        return rng.chance(0.2)
          ? { ...roster, outcome: '', recordSchoolId: '', message: `student '${student.id}' deleted by the source` }
          : { ...roster, outcome: 'Deleted' }
      case 'Updated Roster End Date':
        return { ...roster, outcome: 'Updated', field: 'endDate', oldValue: '2026-06-05', newValue: date(rng.int(7, 60)) }
      case 'Updated Roster Start Date':
        return {
          ...roster,
          outcome: 'Updated',
          field: 'beginDate',
          oldValue: '2025-08-13',
          newValue: isoDay(Date.UTC(2025, 7, 13) + rng.int(3, 20) * DAY_MS),
        }
      case 'Updated Section Data': {
        const field = rng.pick(['Room', 'Teacher Display Name', 'Course Name', 'Periods'] as const)
        const [oldV, newV] =
          field === 'Room'
            ? [`Room ${rng.int(100, 399)}`, `Room ${rng.int(100, 399)}`]
            : field === 'Teacher Display Name'
              ? [`${rng.pick(FAMILY_NAMES)}, ${rng.pick(GIVEN_NAMES)}`, `${rng.pick(FAMILY_NAMES)}, ${rng.pick(GIVEN_NAMES)}`]
              : field === 'Course Name'
                ? [section.courseName, `${section.courseName} (Honors)`]
                : [String(rng.int(1, 4)), String(rng.int(5, 8))]
        return {
          ...base,
          ...sectionCols,
          entity: 'class',
          sourcedId: guid([this.seed, 911, t.index, section.school, seq]),
          outcome: rng.chance(0.7) ? 'Updated' : '',
          field,
          oldValue: `${field}: ${oldV}`,
          newValue: `${field}: ${newV}`,
          recordSchoolId: serving.id,
        }
      }
      case 'Invalidated Section':
        return {
          ...base,
          ...sectionCols,
          entity: 'class',
          sourcedId: guid([this.seed, 911, t.index, section.school, seq]),
          outcome: '',
          message: `section invalidated: course '${guid([this.seed, 912, t.index, section.school])}' deleted by the source`,
        }
      case 'Updated': {
        const field = rng.pick(['familyName', 'givenName', 'grades', 'email'] as const)
        const oldV =
          field === 'familyName'
            ? student.family
            : field === 'givenName'
              ? student.given
              : field === 'grades'
                ? '09'
                : `${student.given.toLowerCase()}@old.example.org`
        const newV =
          field === 'familyName'
            ? rng.pick(FAMILY_NAMES)
            : field === 'givenName'
              ? rng.pick(GIVEN_NAMES)
              : field === 'grades'
                ? '10'
                : `${student.given.toLowerCase()}@students.example.org`
        return {
          ...base,
          ...studentCols,
          entity: 'user',
          sourcedId: student.id,
          outcome: 'Updated',
          field,
          oldValue: `${field}: ${oldV}`,
          newValue: `${field}: ${newV}`,
          recordSchoolId: home.id,
        }
      }
      case 'New':
        return rng.chance(0.6)
          ? { ...base, ...studentCols, entity: 'user', sourcedId: student.id, outcome: 'New', recordSchoolId: home.id }
          : {
              ...base,
              ...sectionCols,
              entity: 'enrollment',
              sourcedId: guid([this.seed, 913, t.index, seq, plan.day]),
              outcome: 'New',
              recordSchoolId: serving.id,
            }
      case 'Deleted':
        return {
          ...base,
          ...studentCols,
          entity: 'user',
          sourcedId: student.id,
          outcome: 'Deleted',
          message: 'deleted by the source',
          recordSchoolId: home.id,
        }
      case 'Skipped':
        return {
          ...roster,
          outcome: 'Skipped',
          field: 'userSourcedId',
          studentNumber: '',
          studentName: '',
          homeDistrictId: '',
          homeDistrict: '',
          homeSchoolId: '',
          homeSchool: '',
          message: `userSourcedId '${guid([this.seed, 914, seq])}' is not a known user`,
        }
      case 'Invalid':
        return {
          ...base,
          ...studentCols,
          entity: 'user',
          sourcedId: student.id,
          outcome: 'Invalid',
          field: 'email',
          message: `email '${student.given.toLowerCase()}@' is not an email address; left empty`,
          recordSchoolId: home.id,
        }
      case 'Merged':
        return { ...roster, outcome: 'Merged', field: 'sourcedId', message: `duplicate of sourcedId '${enrollmentId}'` }
      case 'Excluded':
        return {
          ...base,
          ...studentCols,
          entity: 'user',
          sourcedId: student.id,
          outcome: 'Excluded',
          field: 'sourcedId',
          message: `duplicate of sourcedId '${student.id}'; the first one wins`,
          recordSchoolId: home.id,
        }
      default:
        return { ...roster, outcome: 'New' }
    }
  }
}
