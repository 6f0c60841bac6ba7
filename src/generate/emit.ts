/**
 * One school's rows of one night, to both outputs: the full (bulk) CSV export
 * of the night, and the night's change events (every record on night 1, only
 * what changed on later nights). Broken rows go to both, in the form each
 * output can carry.
 */
import { isoDate, nightInstant, TERMS } from './catalog.js'
import type { Person } from './district.js'
import { classRow, courseRow, enrollmentRow, teacherEnrollmentRow, userRow, type Row } from './rows.js'
import type { Defect, Enrollment, NightChanges, School } from './school.js'
import type { CsvBundleWriter, SyncEventWriter } from './writers.js'

/** Where a night's full export goes: a CSV bundle on disk, or rows in memory (the demo). */
export type RowSink = Pick<CsvBundleWriter, 'row' | 'brokenRow'>

export interface NightOutputs {
  readonly csv: RowSink | null
  readonly events: SyncEventWriter | null
}

/** dateLastModified carried by a night's change events. */
export function modifiedAt(night: number): string {
  return new Date(nightInstant(night) - 4 * 3_600_000).toISOString()
}

interface Overrides {
  readonly users: Map<Person, Partial<Row>>
  readonly enrollments: Map<Enrollment, Partial<Row>>
}

function overridesOf(defects: readonly Defect[]): Overrides {
  const users = new Map<Person, Partial<Row>>()
  const enrollments = new Map<Enrollment, Partial<Row>>()
  for (const d of defects) {
    if (d.kind === 'badEmail') users.set(d.user, { email: d.email })
    else if (d.kind === 'teacherNoEmail') users.set(d.user, { email: '' })
    else if (d.kind === 'endBeforeBegin') enrollments.set(d.enrollment, { endDate: d.end })
  }
  return { users, enrollments }
}

function withOverride(row: Row, o: Partial<Row> | undefined): Row {
  return o === undefined ? row : ({ ...row, ...o } as Row)
}

function ghostEnrollment(school: School, d: Extract<Defect, { kind: 'unknownUser' | 'unreadable' }>, userId: string): Row {
  const section = school.shape.sections[d.section]!
  return {
    sourcedId: d.enrollmentId,
    classSourcedId: section.id,
    schoolSourcedId: school.shape.id,
    userSourcedId: userId,
    role: 'student',
    primary: 'false',
    beginDate: section.terms[0]?.start ?? TERMS[1]!.start,
    endDate: section.terms[section.terms.length - 1]?.end ?? TERMS[2]!.end,
  }
}

/** Writes the school's records for `night`; `changes` is null on night 1. */
export function emitSchool(school: School, night: number, changes: NightChanges | null, out: NightOutputs): void {
  const { district, shape } = school
  const defects = changes?.defects ?? []
  const o = overridesOf(defects)
  const dlm = modifiedAt(night)
  const userRowOf = (p: Person): Row => withOverride(userRow(p), o.users.get(p))
  const enrollmentRowOf = (e: Enrollment): Row => withOverride(enrollmentRow(e, school.students[e.student]!.id), o.enrollments.get(e))

  // The full export.
  if (out.csv) {
    const csv = out.csv
    for (const c of shape.courses) csv.row('courses', courseRow(district, shape, c))
    for (const s of shape.sections) csv.row('classes', classRow(district, shape, s))
    for (const p of shape.admins) csv.row('users', userRowOf(p))
    for (const p of shape.teachers) csv.row('users', userRowOf(p))
    for (const p of school.students) if (p.active) csv.row('users', userRowOf(p))
    for (const s of shape.sections) csv.row('enrollments', teacherEnrollmentRow(shape, s))
    for (const e of school.enrollments) if (e.active) csv.row('enrollments', enrollmentRowOf(e))
    for (const d of defects) {
      switch (d.kind) {
        case 'unknownUser':
          csv.row('enrollments', ghostEnrollment(school, d, d.userId))
          break
        case 'duplicateEnrollment':
          csv.row('enrollments', enrollmentRowOf(d.enrollment))
          break
        case 'conflictingUser':
          csv.row('users', { ...userRowOf(d.user), givenName: d.givenName })
          break
        case 'unreadable':
          csv.brokenRow('enrollments', ghostEnrollment(school, d, school.students[0]?.id ?? ''), 2)
          break
        default:
          break
      }
    }
  }

  if (!out.events) return
  const ev = out.events
  if (changes === null) {
    // Night 1: every record, as the initial full load.
    const initial = modifiedAt(0)
    for (const c of shape.courses) ev.upsert('course', courseRow(district, shape, c), initial)
    for (const s of shape.sections) ev.upsert('class', classRow(district, shape, s), initial)
    for (const p of [...shape.admins, ...shape.teachers]) ev.upsert('user', userRowOf(p), initial)
    for (const p of school.students) if (p.active) ev.upsert('user', userRowOf(p), initial)
    for (const s of shape.sections) ev.upsert('enrollment', teacherEnrollmentRow(shape, s), initial)
    for (const e of school.enrollments) if (e.active) ev.upsert('enrollment', enrollmentRowOf(e), initial)
    return
  }

  // Later nights: what changed, then what broke.
  const users = new Set(changes.users)
  const enrollments = new Set(changes.enrollments)
  for (const d of defects) {
    if (d.kind === 'badEmail' || d.kind === 'teacherNoEmail' || d.kind === 'conflictingUser') users.add(d.user)
    if (d.kind === 'endBeforeBegin' || d.kind === 'duplicateEnrollment') enrollments.add(d.enrollment)
  }
  for (const c of changes.courses) ev.upsert('course', courseRow(district, shape, shape.courses[c]!), dlm)
  for (const s of changes.sections) ev.upsert('class', classRow(district, shape, shape.sections[s]!), dlm)
  for (const p of users) if (p.active) ev.upsert('user', userRowOf(p), dlm)
  for (const s of changes.teacherEnrollments) ev.upsert('enrollment', teacherEnrollmentRow(shape, shape.sections[s]!), dlm)
  for (const e of enrollments) if (e.active) ev.upsert('enrollment', enrollmentRowOf(e), dlm)
  for (const del of changes.deletions) if (del.entity === 'enrollment') ev.remove('enrollment', del.sourcedId, dlm)
  for (const del of changes.deletions) if (del.entity === 'user') ev.remove('user', del.sourcedId, dlm)
  for (const d of defects) {
    switch (d.kind) {
      case 'unknownUser':
        ev.upsert('enrollment', ghostEnrollment(school, d, d.userId), dlm)
        break
      case 'duplicateEnrollment':
        if (d.enrollment.active) ev.upsert('enrollment', enrollmentRowOf(d.enrollment), dlm)
        break
      case 'conflictingUser':
        if (d.user.active) ev.upsert('user', { ...userRowOf(d.user), givenName: d.givenName }, dlm)
        break
      case 'unreadable':
        ev.unreadable(
          'enrollment',
          d.enrollmentId,
          '',
          `row of enrollments.csv has 8 fields; the header has 10 (night ${isoDate(nightInstant(night))})`,
        )
        break
      default:
        break
    }
  }
}
