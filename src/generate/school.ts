/**
 * One school's people and schedules, and what each night changes in them.
 * A school is built, taken through every night, written and dropped before the
 * next one starts, so memory holds one school at a time (plus the district's
 * shape), whatever the scale.
 */
import { FAMILY_NAMES, GIVEN_NAMES, NEW_FAMILY_NAMES, addDays, isoDate, nightInstant, retitled } from './catalog.js'
import { ascii, partnerHighSchool, type DistrictShape, type Person, type SchoolShape, type Section } from './district.js'
import { PURPOSE, Prng, guid } from './prng.js'
import { NIGHTLY_RATES } from './scales.js'

export interface Enrollment {
  readonly id: string
  readonly classId: string
  readonly schoolId: string
  /** Index into `students`. */
  readonly student: number
  /** Local course and section indices; -1 when the section is at another school (cross-site). */
  readonly course: number
  readonly section: number
  begin: string
  end: string
  active: boolean
}

export interface School {
  readonly district: DistrictShape
  readonly shape: SchoolShape
  readonly students: Person[]
  readonly enrollments: Enrollment[]
  /** Enrollment indices of each student. */
  readonly byStudent: number[][]
  /** Next student serial number (sourcedId and student number). */
  serial: number
  /** Students with an enrollment at another school, of this or a neighbouring district. */
  crossSite: number
  visitors: number
}

export const DEFECT_KINDS = [
  'badEmail',
  'endBeforeBegin',
  'unknownUser',
  'duplicateEnrollment',
  'conflictingUser',
  'teacherNoEmail',
  'unreadable',
] as const
export type DefectKind = (typeof DEFECT_KINDS)[number]
/** How often each kind of broken row occurs among a night's broken rows. */
const DEFECT_WEIGHTS: Readonly<Record<DefectKind, number>> = {
  badEmail: 30,
  endBeforeBegin: 20,
  unknownUser: 15,
  duplicateEnrollment: 15,
  conflictingUser: 10,
  teacherNoEmail: 5,
  unreadable: 5,
}

export type Defect =
  | { readonly kind: 'badEmail'; readonly user: Person; readonly email: string }
  | { readonly kind: 'teacherNoEmail'; readonly user: Person }
  | { readonly kind: 'endBeforeBegin'; readonly enrollment: Enrollment; readonly end: string }
  | { readonly kind: 'unknownUser'; readonly enrollmentId: string; readonly userId: string; readonly section: number }
  | { readonly kind: 'duplicateEnrollment'; readonly enrollment: Enrollment }
  | { readonly kind: 'conflictingUser'; readonly user: Person; readonly givenName: string }
  | { readonly kind: 'unreadable'; readonly enrollmentId: string; readonly section: number }

export const CHANGE_KINDS = [
  'drops',
  'sectionMoves',
  'adds',
  'dateChanges',
  'newStudents',
  'withdrawals',
  'renames',
  'roomChanges',
  'teacherChanges',
  'courseRetitles',
] as const
export type ChangeKind = (typeof CHANGE_KINDS)[number]

export type Deletion = { readonly entity: 'user' | 'enrollment'; readonly sourcedId: string }

/** What one night changed in one school, as the records to send again and the ones to delete. */
export interface NightChanges {
  readonly night: number
  readonly users: Set<Person>
  readonly enrollments: Set<Enrollment>
  /** Sections whose class row changed, and sections with a new teacher enrollment. */
  readonly sections: Set<number>
  readonly teacherEnrollments: Set<number>
  readonly courses: Set<number>
  readonly deletions: Deletion[]
  readonly defects: Defect[]
  readonly counts: Record<ChangeKind, number>
}

const MIDDLE_TO_HIGH_ALGEBRA = 0.04
const HIGH_CROSS_SITE = 0.015
const LATE_START = 0.05

function studentPerson(school: School, rng: Prng, grade: string, home: string, visitor: boolean): Person {
  const { district, shape } = school
  const serial = school.serial++
  const identifier = visitor ? String(7_000_000 + shape.index * 100_000 + serial) : String(100000 + shape.index * 20000 + serial)
  const givenName = rng.pick(GIVEN_NAMES)
  const familyName = rng.pick(FAMILY_NAMES)
  const domain = visitor ? district.neighbour.district.domain : district.domain
  return {
    id: guid([district.seed, visitor ? PURPOSE.visitor : PURPOSE.student, district.index, shape.index, serial]),
    role: 'student',
    givenName,
    familyName,
    middleName: rng.chance(0.3) ? rng.pick(GIVEN_NAMES) : '',
    identifier,
    username: `s${identifier}`,
    email: `${ascii(givenName)}.${ascii(familyName)}${identifier.slice(-3)}@students.${domain}`,
    grade,
    orgIds: [home],
    active: true,
    badEmail: rng.chance(district.badEmailShare),
  }
}

function termBounds(section: Section): { begin: string; end: string } {
  return { begin: section.terms[0]!.start, end: section.terms[section.terms.length - 1]!.end }
}

export function maxDate(a: string, b: string): string {
  return a > b ? a : b
}

function enroll(school: School, student: number, at: SchoolShape, sectionIndex: number, night: number, begin?: string): Enrollment {
  const { district, shape } = school
  const section = at.sections[sectionIndex]!
  const local = at === shape
  const bounds = termBounds(section)
  const ordinal = local ? sectionIndex : 100_000 + at.index * 10_000 + sectionIndex
  const e: Enrollment = {
    id: guid([district.seed, PURPOSE.enrollment, district.index, shape.index, student, ordinal, night]),
    classId: section.id,
    schoolId: at.id,
    student,
    course: local ? section.course : -1,
    section: local ? sectionIndex : -1,
    begin: begin === undefined ? bounds.begin : maxDate(bounds.begin, begin),
    end: bounds.end,
    active: true,
  }
  school.byStudent[student]!.push(school.enrollments.length)
  school.enrollments.push(e)
  return e
}

/** Local courses a student of `grade` takes every year. */
function coreCourses(shape: SchoolShape, grade: string): number[] {
  const out: number[] = []
  shape.courses.forEach((c, i) => {
    if (c.spec.core && c.spec.grades.includes(grade)) out.push(i)
  })
  return out
}

function electiveCourses(shape: SchoolShape): number[] {
  const out: number[] = []
  shape.courses.forEach((c, i) => {
    if (!c.spec.core) out.push(i)
  })
  return out
}

/** A new student of the school with a full schedule: core courses of their grade and electives. */
export function addStudent(school: School, rng: Prng, night: number, begin?: string): { person: Person; enrollments: Enrollment[] } {
  const { shape } = school
  const grade = rng.pick(shape.level.grades)
  const person = studentPerson(school, rng, grade, shape.id, false)
  const index = school.students.length
  school.students.push(person)
  school.byStudent.push([])
  const electives = electiveCourses(shape)
  const courses = [...coreCourses(shape, grade), ...rng.distinct(electives.length, shape.level.electives).map((i) => electives[i]!)]
  const late = begin === undefined && rng.chance(LATE_START)
  const enrollments = courses.map((c) => {
    const section = rng.pick(shape.sectionsByCourse[c]!)
    const start = late ? addDays(shape.sections[section]!.terms[0]!.start, rng.int(3, 20)) : begin
    return enroll(school, index, shape, section, night, start)
  })
  return { person, enrollments }
}

/** Night 1: the school as the SIS first exports it. */
export function buildSchool(district: DistrictShape, s: number): School {
  const shape = district.schools[s]!
  const rng = new Prng(district.seed, [PURPOSE.schoolPeople, district.index, s])
  const school: School = { district, shape, students: [], enrollments: [], byStudent: [], serial: 1, crossSite: 0, visitors: 0 }
  for (let k = 0; k < shape.targetStudents; k++) addStudent(school, rng, 1)

  // Cross-site: 8th graders taking Algebra I at a high school; high-school students taking an elective at another one.
  const partner = partnerHighSchool(district, s)
  if (partner !== undefined) {
    const level = shape.level.level
    const algebra = partner.courses.findIndex((c) => c.spec.code === 'ALG1')
    const partnerElectives = electiveCourses(partner)
    const count = school.students.length
    for (let i = 0; i < count; i++) {
      const student = school.students[i]!
      let section = -1
      if (level === 'middle' && student.grade === '08' && algebra >= 0 && rng.chance(MIDDLE_TO_HIGH_ALGEBRA)) {
        section = rng.pick(partner.sectionsByCourse[algebra]!)
      } else if (level === 'high' && partnerElectives.length > 0 && rng.chance(HIGH_CROSS_SITE)) {
        section = rng.pick(partner.sectionsByCourse[rng.pick(partnerElectives)]!)
      }
      if (section < 0) continue
      enroll(school, i, partner, section, 1)
      student.orgIds.push(partner.id)
      school.crossSite++
    }
  }

  // Visiting students from the neighbouring district, served here for an elective or two.
  if (shape.level.level === 'high') {
    const electives = electiveCourses(shape)
    const visitors = rng.round(shape.targetStudents * district.visitorShare)
    for (let k = 0; k < visitors; k++) {
      const person = studentPerson(school, rng, rng.pick(shape.level.grades), district.neighbour.school.id, true)
      person.orgIds.push(shape.id)
      const index = school.students.length
      school.students.push(person)
      school.byStudent.push([])
      for (const c of rng.distinct(electives.length, rng.int(1, 2)))
        enroll(school, index, shape, rng.pick(shape.sectionsByCourse[electives[c]!]!), 1)
      school.visitors++
      school.crossSite++
    }
  }
  return school
}

function activeStudents(school: School): number[] {
  const out: number[] = []
  school.students.forEach((p, i) => {
    if (p.active) out.push(i)
  })
  return out
}

function activeEnrollments(school: School): number[] {
  const out: number[] = []
  school.enrollments.forEach((e, i) => {
    if (e.active) out.push(i)
  })
  return out
}

function pickSome<T>(rng: Prng, items: readonly T[], n: number): T[] {
  return rng.distinct(items.length, n).map((i) => items[i]!)
}

function emptyCounts(): Record<ChangeKind, number> {
  return Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>
}

function weightedDefect(rng: Prng): DefectKind {
  const total = DEFECT_KINDS.reduce((sum, k) => sum + DEFECT_WEIGHTS[k], 0)
  let x = rng.next() * total
  for (const k of DEFECT_KINDS) {
    x -= DEFECT_WEIGHTS[k]
    if (x < 0) return k
  }
  return 'badEmail'
}

/**
 * Applies night `night`'s changes to the school (in place) and says what they
 * were. `previous` is the night before: records it broke are sent again intact.
 */
export function applyNight(school: School, night: number, previous: NightChanges | null): NightChanges {
  const { district, shape } = school
  const rng = new Prng(district.seed, [PURPOSE.night, district.index, shape.index, night])
  const R = NIGHTLY_RATES
  const today = isoDate(nightInstant(night))
  const changes: NightChanges = {
    night,
    users: new Set(),
    enrollments: new Set(),
    sections: new Set(),
    teacherEnrollments: new Set(),
    courses: new Set(),
    deletions: [],
    defects: [],
    counts: emptyCounts(),
  }
  const drop = (e: Enrollment): void => {
    e.active = false
    changes.enrollments.delete(e)
    changes.deletions.push({ entity: 'enrollment', sourcedId: e.id })
  }

  // Records broken last night come back intact.
  for (const d of previous?.defects ?? []) {
    if (d.kind === 'badEmail' || d.kind === 'teacherNoEmail') {
      if (d.user.active) changes.users.add(d.user)
    } else if (d.kind === 'endBeforeBegin' && d.enrollment.active) {
      changes.enrollments.add(d.enrollment)
    }
  }

  let students = activeStudents(school)
  for (const i of pickSome(rng, students, rng.round(students.length * R.withdrawals))) {
    const p = school.students[i]!
    p.active = false
    changes.users.delete(p)
    changes.deletions.push({ entity: 'user', sourcedId: p.id })
    for (const e of school.byStudent[i]!) if (school.enrollments[e]!.active) drop(school.enrollments[e]!)
    changes.counts.withdrawals++
  }

  let enrollments = activeEnrollments(school)
  for (const e of pickSome(rng, enrollments, rng.round(enrollments.length * R.drops))) {
    const en = school.enrollments[e]!
    if (!en.active) continue
    drop(en)
    changes.counts.drops++
  }

  students = activeStudents(school)
  for (const i of pickSome(rng, students, rng.round(students.length * R.sectionMoves))) {
    const movable = school.byStudent[i]!.map((e) => school.enrollments[e]!).filter(
      (e) => e.active && e.course >= 0 && shape.sectionsByCourse[e.course]!.length > 1,
    )
    if (movable.length === 0) continue
    const from = rng.pick(movable)
    const others = shape.sectionsByCourse[from.course]!.filter((x) => x !== from.section)
    drop(from)
    changes.enrollments.add(enroll(school, i, shape, rng.pick(others), night, today))
    changes.counts.sectionMoves++
  }

  const electives = electiveCourses(shape)
  for (const i of pickSome(rng, students, rng.round(students.length * R.adds))) {
    const taken = new Set(
      school.byStudent[i]!.map((e) => school.enrollments[e]!)
        .filter((e) => e.active)
        .map((e) => e.course),
    )
    const open = electives.filter((c) => !taken.has(c))
    if (open.length === 0) continue
    changes.enrollments.add(enroll(school, i, shape, rng.pick(shape.sectionsByCourse[rng.pick(open)]!), night, today))
    changes.counts.adds++
  }

  enrollments = activeEnrollments(school)
  for (const e of pickSome(rng, enrollments, rng.round(enrollments.length * R.dateChanges))) {
    const en = school.enrollments[e]!
    if (rng.chance(2 / 3)) {
      const end = addDays(en.end, -rng.int(7, 40))
      if (end <= en.begin) continue
      en.end = end
    } else {
      const begin = addDays(en.begin, rng.int(3, 15))
      if (begin >= en.end) continue
      en.begin = begin
    }
    changes.enrollments.add(en)
    changes.counts.dateChanges++
  }

  for (let k = rng.round(students.length * R.newStudents); k > 0; k--) {
    const added = addStudent(school, rng, night, today)
    changes.users.add(added.person)
    for (const e of added.enrollments) changes.enrollments.add(e)
    changes.counts.newStudents++
  }

  const people = [...activeStudents(school).map((i) => school.students[i]!), ...shape.teachers]
  for (const p of pickSome(rng, people, rng.round(people.length * R.renames))) {
    if (rng.chance(0.7)) p.familyName = rng.pick(NEW_FAMILY_NAMES.filter((n) => n !== p.familyName))
    else p.givenName = rng.pick(GIVEN_NAMES.filter((n) => n !== p.givenName))
    changes.users.add(p)
    changes.counts.renames++
  }

  for (const k of rng.distinct(shape.sections.length, rng.round(shape.sections.length * R.roomChanges))) {
    const section = shape.sections[k]!
    section.location = `Room ${rng.int(100, 399)}${rng.chance(0.2) ? 'B' : ''}`
    changes.sections.add(k)
    changes.counts.roomChanges++
  }

  if (shape.teachers.length > 1) {
    for (const k of rng.distinct(shape.sections.length, rng.round(shape.sections.length * R.teacherChanges))) {
      const section = shape.sections[k]!
      const teacher = (section.assignment.teacher + rng.int(1, shape.teachers.length - 1)) % shape.teachers.length
      changes.deletions.push({ entity: 'enrollment', sourcedId: section.assignment.enrollmentId })
      changes.teacherEnrollments.delete(k)
      section.assignment = {
        enrollmentId: guid([district.seed, PURPOSE.teacherEnrollment, district.index, shape.index, k, teacher, night]),
        teacher,
        begin: maxDate(section.terms[0]!.start, today),
      }
      changes.teacherEnrollments.add(k)
      changes.counts.teacherChanges++
    }
  }

  for (const c of rng.distinct(shape.courses.length, rng.round(shape.courses.length * R.courseRetitles))) {
    const course = shape.courses[c]!
    course.title = retitled(course.spec.title, night + c)
    changes.courses.add(c)
    changes.counts.courseRetitles++
  }

  addDefects(school, rng, changes)
  return changes
}

function changedRecords(c: NightChanges): number {
  return c.users.size + c.enrollments.size + c.sections.size + c.teacherEnrollments.size + c.courses.size + c.deletions.length
}

/** Broken rows: a share of the night's changed records, each kind as often as DEFECT_WEIGHTS says. */
function addDefects(school: School, rng: Prng, changes: NightChanges): void {
  const { district, shape } = school
  const students = activeStudents(school).filter((i) => school.students[i]!.orgIds[0] === shape.id)
  const studentEnrollments = activeEnrollments(school)
  const used = new Set<object>()
  const fresh = <T extends object>(items: readonly T[]): T | undefined => {
    for (let attempt = 0; attempt < 8 && items.length > 0; attempt++) {
      const x = rng.pick(items)
      if (!used.has(x)) {
        used.add(x)
        return x
      }
    }
    return undefined
  }
  const count = rng.round(changedRecords(changes) * NIGHTLY_RATES.invalidShare)
  for (let k = 0; k < count; k++) {
    const kind = weightedDefect(rng)
    const section = rng.int(0, shape.sections.length - 1)
    switch (kind) {
      case 'badEmail': {
        const p = fresh(students.map((i) => school.students[i]!))
        if (p) changes.defects.push({ kind, user: p, email: `${p.email.split('@')[0] ?? p.username}@` })
        break
      }
      case 'teacherNoEmail': {
        const t = fresh(shape.teachers)
        if (t) changes.defects.push({ kind, user: t })
        break
      }
      case 'endBeforeBegin': {
        const e = fresh(studentEnrollments.map((i) => school.enrollments[i]!))
        if (e) changes.defects.push({ kind, enrollment: e, end: addDays(e.begin, -rng.int(3, 30)) })
        break
      }
      case 'duplicateEnrollment': {
        const e = fresh(studentEnrollments.map((i) => school.enrollments[i]!))
        if (e) changes.defects.push({ kind, enrollment: e })
        break
      }
      case 'conflictingUser': {
        const p = fresh(students.map((i) => school.students[i]!))
        if (p) changes.defects.push({ kind, user: p, givenName: rng.pick(GIVEN_NAMES.filter((g) => g !== p.givenName)) })
        break
      }
      case 'unknownUser':
        changes.defects.push({
          kind,
          section,
          userId: guid([district.seed, PURPOSE.ghost, district.index, shape.index, changes.night, k, 1]),
          enrollmentId: guid([district.seed, PURPOSE.ghost, district.index, shape.index, changes.night, k, 2]),
        })
        break
      case 'unreadable':
        changes.defects.push({
          kind,
          section,
          enrollmentId: guid([district.seed, PURPOSE.ghost, district.index, shape.index, changes.night, k, 3]),
        })
        break
    }
  }
}
