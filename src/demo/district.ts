/**
 * The demo district: Emerson Unified as its SIS would export it on two nights,
 * deterministic for a seed. Night 1 is the generator's district at a small
 * planned scale (two high schools, a middle and an elementary school, about 200
 * students, a few visiting from Garrison Valley). Night 2 is a scripted scenario
 * on top of it: the everyday changes a district data manager reviews in a sync
 * log (drops, adds, date changes, a renamed teacher, a removed section, ...)
 * plus a handful of bad rows, each told in `story` as a sentence and listed in
 * `changes` by sourcedId. Night 2 stays far below the hold thresholds (deletes
 * < 10 %, updates < 75 % per type).
 */
import { SCHOOL_YEAR, NEW_FAMILY_NAMES, GIVEN_NAMES, addDays, retitled } from '../generate/catalog.js'
import { districtShape, makeStaff, type DistrictShape, type Person } from '../generate/district.js'
import { emitSchool, type RowSink } from '../generate/emit.js'
import { PURPOSE, Prng, guid } from '../generate/prng.js'
import { enrollmentRow, orgRows, sessionRows, userRow } from '../generate/rows.js'
import type { Scale } from '../generate/scales.js'
import { addStudent, buildSchool, maxDate, type School } from '../generate/school.js'
import { shiftStory, shiftTables } from './school-year.js'
import { oneRosterRow, type OneRosterTables, type Row } from './write-oneroster.js'

export type { OneRosterTables, Row } from './write-oneroster.js'

export const DEMO_DEFAULT_SEED = 7

/** The demo as a scale of the generator: one district drawn to order. */
const DEMO_SCALE: Scale = {
  name: 'demo',
  districts: 1,
  schoolsPerDistrict: 4,
  studentsPerSchool: 50,
  nights: 2,
  note: 'the demo: Emerson Unified, about 200 students',
  plan: {
    place: 'Emerson',
    neighbourPlace: 'Garrison Valley',
    levels: ['high', 'high', 'middle', 'elementary'],
    visitorShare: 0.03,
    persistentBadEmail: 0,
  },
}

export const FORMULA_NAME = '=HYPERLINK("http://x","click")'

/** The school year the generator's calendar is written for; `generateDemoNights` can move it. */
const BASE_SCHOOL_YEAR = Number(SCHOOL_YEAR)
/** The day night-2 additions start (or the term start, if later). */
const ADD_DATE = '2025-10-06'

// ---------------------------------------------------------------- night 1, from the generator

interface Org {
  readonly id: string
  readonly name: string
}
interface Course {
  readonly id: string
  readonly code: string
  readonly title: string
  readonly school: Org
  readonly elective: boolean
}
interface Section {
  readonly id: string
  readonly classCode: string
  readonly course: Course
  readonly school: Org
  readonly period: string
  readonly start: string
  readonly end: string
  readonly location: string
  readonly teacher: Person
  readonly teacherEnrollmentId: string
}
interface Enrollment {
  readonly id: string
  readonly section: Section
  readonly user: Person
  readonly begin: string
  readonly end: string
}

/** Night 1's records as the scenario sees them: every reference resolved. */
interface Roster {
  readonly district: DistrictShape
  readonly schools: readonly School[]
  readonly orgs: ReadonlyMap<string, Org>
  readonly courses: readonly Course[]
  readonly sections: readonly Section[]
  readonly teachers: readonly Person[]
  readonly students: readonly Person[]
  readonly enrollments: readonly Enrollment[]
}

function emptyTables(): OneRosterTables {
  return { orgs: [], academicSessions: [], courses: [], classes: [], users: [], enrollments: [] }
}

/** The generator's first night of the demo district, as rows and as resolved records. */
function night1Of(seed: number): { tables: OneRosterTables; roster: Roster } {
  const district = districtShape(seed, DEMO_SCALE, 0)
  const tables = emptyTables()
  const sink: RowSink = {
    row: (file, row) => tables[file].push(oneRosterRow(file, row)),
    brokenRow: () => {
      throw new Error('demo: night 1 has no broken rows')
    },
  }
  for (const row of orgRows(district)) sink.row('orgs', row)
  for (const row of sessionRows(district)) sink.row('academicSessions', row)
  const schools = district.schools.map((_, s) => buildSchool(district, s))
  for (const school of schools) emitSchool(school, 1, null, { csv: sink, events: null })

  const orgs = new Map<string, Org>([...district.schools, district.neighbour.school].map((s) => [s.id, { id: s.id, name: s.name }]))
  const courses: Course[] = []
  const sections = new Map<string, Section>()
  for (const { shape } of schools) {
    const school = orgs.get(shape.id)!
    const own = shape.courses.map((c) => ({ id: c.id, code: c.spec.code, title: c.title, school, elective: !c.spec.core }))
    courses.push(...own)
    for (const s of shape.sections) {
      sections.set(s.id, {
        id: s.id,
        classCode: s.classCode,
        course: own[s.course]!,
        school,
        period: s.period,
        start: s.terms[0]!.start,
        end: s.terms[s.terms.length - 1]!.end,
        location: s.location,
        teacher: shape.teachers[s.assignment.teacher]!,
        teacherEnrollmentId: s.assignment.enrollmentId,
      })
    }
  }
  const enrollments = schools.flatMap((school) =>
    school.enrollments
      .filter((e) => e.active)
      .map((e) => ({
        id: e.id,
        section: sections.get(e.classId)!,
        user: school.students[e.student]!,
        begin: e.begin,
        end: e.end,
      })),
  )
  const roster: Roster = {
    district,
    schools,
    orgs,
    courses,
    sections: [...sections.values()],
    teachers: schools.flatMap((s) => s.shape.teachers),
    students: schools.flatMap((s) => s.students),
    enrollments,
  }
  return { tables, roster }
}

// ---------------------------------------------------------------- night 2, the scripted scenario

export interface DateChange {
  readonly enrollmentId: string
  readonly from: string
  readonly to: string
}

/** What night 2 changed, by sourcedId (the same facts `story` tells). */
export interface DemoChanges {
  readonly droppedEnrollments: readonly string[]
  readonly addedEnrollments: readonly string[]
  readonly endDateChanges: readonly DateChange[]
  readonly beginDateChanges: readonly DateChange[]
  readonly renamedTeacher: { readonly userId: string; readonly from: string; readonly to: string; readonly classIds: readonly string[] }
  readonly removedClass: {
    readonly classId: string
    readonly deletedEnrollments: readonly string[]
    readonly keptEnrollments: readonly string[]
  }
  readonly roomChange: { readonly classId: string; readonly from: string; readonly to: string }
  readonly courseRetitle: { readonly courseId: string; readonly from: string; readonly to: string; readonly classIds: readonly string[] }
  readonly newStudent: { readonly userId: string; readonly enrollmentIds: readonly string[] }
  readonly removedStudent: { readonly userId: string; readonly enrollmentIds: readonly string[] }
  readonly bad: {
    /** A new teacher row without email (Skipped). */
    readonly teacherWithoutEmail: string
    /** A student whose email became malformed (Invalid). */
    readonly malformedEmail: { readonly userId: string; readonly email: string }
    /** A new enrollment whose endDate is before its beginDate (Invalid). */
    readonly endBeforeBegin: string
    /** A new enrollment of a user that is in no file (Skipped). */
    readonly unknownUserEnrollment: string
    /** An enrollment row written twice, identically (Merged). */
    readonly duplicateEnrollment: string
    /** A user row written twice with a different name (the later one Excluded). */
    readonly conflictingUser: { readonly userId: string; readonly givenName: string }
    /** A new student whose given name is a spreadsheet formula. */
    readonly formulaStudent: { readonly userId: string; readonly enrollmentIds: readonly string[] }
  }
}

export interface DemoNights {
  readonly night1: OneRosterTables
  readonly night2: OneRosterTables
  readonly story: string[]
  readonly changes: DemoChanges
}

function sectionLabel(s: Section): string {
  return `${s.classCode} ${s.course.title}`
}

function personLabel(p: Person): string {
  return `${p.givenName} ${p.familyName} (${p.role === 'student' ? 'student' : 'staff'} ${p.identifier})`
}

function enrollmentRowOf(e: Enrollment): Row {
  return oneRosterRow('enrollments', {
    sourcedId: e.id,
    classSourcedId: e.section.id,
    schoolSourcedId: e.section.school.id,
    userSourcedId: e.user.id,
    role: 'student',
    primary: 'false',
    beginDate: e.begin,
    endDate: e.end,
  })
}

/** Night 2 as edits to a copy of night 1's rows, choosing each change among records no earlier change touched. */
class Night2 {
  readonly tables: OneRosterTables
  readonly story: string[] = []
  private readonly touchedUsers = new Set<string>()
  private readonly touchedSections = new Set<string>()
  private readonly current: Enrollment[]
  private ids = 0

  constructor(
    private readonly r: Roster,
    private readonly rng: Prng,
    night1: OneRosterTables,
  ) {
    this.tables = {
      orgs: night1.orgs.map((row) => ({ ...row })),
      academicSessions: night1.academicSessions.map((row) => ({ ...row })),
      courses: night1.courses.map((row) => ({ ...row })),
      classes: night1.classes.map((row) => ({ ...row })),
      users: night1.users.map((row) => ({ ...row })),
      enrollments: night1.enrollments.map((row) => ({ ...row })),
    }
    this.current = [...r.enrollments]
  }

  private row(file: 'users' | 'classes' | 'courses' | 'enrollments', id: string): Row {
    const row = this.tables[file].find((x) => x.sourcedId === id)
    if (!row) throw new Error(`demo: no ${file} row ${id}`)
    return row
  }

  private remove(file: 'users' | 'classes' | 'enrollments', ids: ReadonlySet<string>): void {
    const rows = this.tables[file]
    const kept = rows.filter((x) => !ids.has(x.sourcedId ?? ''))
    rows.splice(0, rows.length, ...kept)
  }

  private newId(): string {
    return guid([this.r.district.seed, PURPOSE.scenario, this.ids++])
  }

  private enrollmentsOf(user: Person): Enrollment[] {
    return this.current.filter((e) => e.user === user)
  }

  private isCrossSite(p: Person): boolean {
    return p.orgIds.length > 1
  }

  /** Emerson students who are not cross-site and untouched so far. */
  private plainStudents(filter: (p: Person) => boolean = () => true): Person[] {
    return this.r.students.filter((p) => p.active && !this.isCrossSite(p) && !this.touchedUsers.has(p.id) && filter(p))
  }

  private pickStudents(n: number, filter?: (p: Person) => boolean): Person[] {
    const picked = this.rng.sample(this.plainStudents(filter), n)
    if (picked.length < n) throw new Error(`demo: only ${picked.length} of ${n} students fit`)
    for (const p of picked) this.touchedUsers.add(p.id)
    return picked
  }

  /** An untouched section at `schoolId` of an elective the student does not take. */
  private freeSectionFor(p: Person, schoolId = p.orgIds[0]): Section | undefined {
    const taken = new Set(this.enrollmentsOf(p).map((e) => e.section.course.id))
    const pool = this.r.sections.filter(
      (s) => s.school.id === schoolId && s.course.elective && !taken.has(s.course.id) && !this.touchedSections.has(s.id),
    )
    return pool.length === 0 ? undefined : this.rng.pick(pool)
  }

  private addEnrollment(p: Person, s: Section, begin = maxDate(s.start, ADD_DATE)): Enrollment {
    const e: Enrollment = { id: this.newId(), section: s, user: p, begin, end: s.end }
    this.current.push(e)
    this.tables.enrollments.push(enrollmentRowOf(e))
    return e
  }

  removeSection(renamed: Person): DemoChanges['removedClass'] {
    const candidates = this.r.sections.filter(
      (s) =>
        s.teacher !== renamed &&
        this.current.filter((e) => e.section === s).length >= 4 &&
        !this.current.some((e) => e.section === s && this.isCrossSite(e.user)),
    )
    const s = this.rng.pick(candidates)
    this.touchedSections.add(s.id)
    const roster = this.current.filter((e) => e.section === s)
    const kept = this.rng.sample(roster, 2)
    // Its students take part in no other change, so each change stays separately visible in the log.
    for (const e of roster) {
      this.touchedUsers.add(e.user.id)
      if (!kept.includes(e)) this.current.splice(this.current.indexOf(e), 1)
    }
    const deleted = [s.teacherEnrollmentId, ...roster.filter((e) => !kept.includes(e)).map((e) => e.id)]
    this.remove('classes', new Set([s.id]))
    this.remove('enrollments', new Set(deleted))
    this.story.push(
      `Section ${sectionLabel(s)} at ${s.school.name} was removed from classes.csv and its roster dropped, ` +
        `but 2 of its ${roster.length} student enrollments (${kept.map((e) => e.user.identifier).join(', ')}) were left in enrollments.csv: ` +
        'they are Skipped for referencing a deleted class.',
    )
    return { classId: s.id, deletedEnrollments: deleted, keptEnrollments: kept.map((e) => e.id) }
  }

  renameTeacher(t: Person): DemoChanges['renamedTeacher'] {
    const sections = this.r.sections.filter((s) => s.teacher === t)
    const to = this.rng.pick(NEW_FAMILY_NAMES.filter((n) => n !== t.familyName))
    this.row('users', t.id).familyName = to
    this.touchedUsers.add(t.id)
    this.story.push(
      `Teacher ${personLabel(t)} changed family name to ${to}: each of the ${sections.length} sections they teach ` +
        `(${sections.map((s) => s.classCode).join(', ')}) shows Updated Section Data for Teacher Display Name ` +
        `"${t.familyName}, ${t.givenName}" -> "${to}, ${t.givenName}".`,
    )
    return { userId: t.id, from: t.familyName, to, classIds: sections.map((s) => s.id) }
  }

  changeRoom(): DemoChanges['roomChange'] {
    const s = this.rng.pick(this.r.sections.filter((x) => !this.touchedSections.has(x.id)))
    this.touchedSections.add(s.id)
    const used = new Set(this.r.sections.filter((x) => x.school === s.school).map((x) => x.location))
    let to = `Room ${this.rng.int(100, 399)}`
    while (used.has(to)) to = `Room ${this.rng.int(100, 399)}`
    this.row('classes', s.id).location = to
    this.story.push(`Section ${sectionLabel(s)} at ${s.school.name} moved from ${s.location} to ${to}.`)
    return { classId: s.id, from: s.location, to }
  }

  retitleCourse(): DemoChanges['courseRetitle'] {
    const c = this.rng.pick(
      this.r.courses.filter(
        (x) =>
          this.r.sections.some((s) => s.course === x) && !this.r.sections.some((s) => s.course === x && this.touchedSections.has(s.id)),
      ),
    )
    const sections = this.r.sections.filter((s) => s.course === c)
    for (const s of sections) this.touchedSections.add(s.id)
    const to = retitled(c.title, this.rng.int(0, 3))
    this.row('courses', c.id).title = to
    this.story.push(
      `Course ${c.code} at ${c.school.name} was retitled "${c.title}" -> "${to}": ` +
        `its ${sections.length} section${sections.length === 1 ? '' : 's'} show${sections.length === 1 ? 's' : ''} Updated Section Data for Course Name.`,
    )
    return { courseId: c.id, from: c.title, to, classIds: sections.map((s) => s.id) }
  }

  drops(n: number): string[] {
    const ids = new Set<string>()
    for (const p of this.pickStudents(n, (x) => this.enrollmentsOf(x).filter((e) => !this.touchedSections.has(e.section.id)).length >= 4)) {
      const e = this.rng.pick(this.enrollmentsOf(p).filter((x) => !this.touchedSections.has(x.section.id)))
      ids.add(e.id)
      this.current.splice(this.current.indexOf(e), 1)
      this.story.push(`${personLabel(p)} dropped ${sectionLabel(e.section)} at ${e.section.school.name}.`)
    }
    this.remove('enrollments', ids)
    return [...ids]
  }

  /** `n` adds: one by a student visiting from the neighbouring district at their serving school (a row the home district sees), the rest plain. */
  adds(n: number): string[] {
    const ids: string[] = []
    const { neighbour } = this.r.district
    const visitor = this.rng.pick(
      this.r.students.filter(
        (p) => p.orgIds[0] === neighbour.school.id && !this.touchedUsers.has(p.id) && this.freeSectionFor(p, p.orgIds[1]) !== undefined,
      ),
    )
    const at = this.freeSectionFor(visitor, visitor.orgIds[1])
    if (!at) throw new Error(`demo: no free section for ${visitor.id}`)
    this.touchedUsers.add(visitor.id)
    const added = this.addEnrollment(visitor, at)
    ids.push(added.id)
    this.story.push(
      `${personLabel(visitor)}, a cross-site student from ${neighbour.school.name} (${neighbour.district.name}), added ` +
        `${sectionLabel(at)} (period ${at.period}) at ${at.school.name}, starting ${added.begin}.`,
    )
    for (const p of this.pickStudents(n - 1, (x) => this.freeSectionFor(x) !== undefined)) {
      const s = this.freeSectionFor(p)
      if (!s) throw new Error(`demo: no free section for ${p.id}`)
      const e = this.addEnrollment(p, s)
      ids.push(e.id)
      this.story.push(`${personLabel(p)} added ${sectionLabel(s)} (period ${s.period}) at ${s.school.name}, starting ${e.begin}.`)
    }
    return ids
  }

  redate(n: number, which: 'beginDate' | 'endDate'): DateChange[] {
    const out: DateChange[] = []
    for (const p of this.pickStudents(n, (x) => this.enrollmentsOf(x).some((e) => !this.touchedSections.has(e.section.id)))) {
      const e = this.rng.pick(this.enrollmentsOf(p).filter((x) => !this.touchedSections.has(x.section.id)))
      const row = this.row('enrollments', e.id)
      const from = which === 'endDate' ? e.end : e.begin
      const to = which === 'endDate' ? addDays(e.end, -this.rng.int(14, 40)) : addDays(e.begin, this.rng.int(5, 15))
      row[which] = to
      out.push({ enrollmentId: e.id, from, to })
      this.story.push(
        which === 'endDate'
          ? `${personLabel(p)} leaves ${sectionLabel(e.section)} early: the enrollment now ends ${to} instead of ${from}.`
          : `${personLabel(p)} starts ${sectionLabel(e.section)} later: the enrollment now begins ${to} instead of ${from}.`,
      )
    }
    return out
  }

  removeStudent(): DemoChanges['removedStudent'] {
    const [p] = this.pickStudents(1) as [Person]
    const enrollments = this.enrollmentsOf(p).map((e) => e.id)
    this.remove('users', new Set([p.id]))
    this.remove('enrollments', new Set(enrollments))
    this.story.push(
      `${personLabel(p)} left the district: the user and all ${enrollments.length} of their enrollments are gone from the export.`,
    )
    return { userId: p.id, enrollmentIds: enrollments }
  }

  /** A new student of `school` with the generator's full schedule (less sections other changes touch), starting on the add date. */
  newStudent(school: School, givenName?: string): { person: Person; enrollmentIds: string[] } {
    const { person, enrollments: all } = addStudent(school, this.rng, 2, ADD_DATE)
    const enrollments = all.filter((e) => !this.touchedSections.has(e.classId))
    this.touchedUsers.add(person.id)
    this.tables.users.push(oneRosterRow('users', givenName === undefined ? userRow(person) : { ...userRow(person), givenName, email: '' }))
    for (const e of enrollments) this.tables.enrollments.push(oneRosterRow('enrollments', enrollmentRow(e, person.id)))
    return { person, enrollmentIds: enrollments.map((e) => e.id) }
  }

  badRows(): DemoChanges['bad'] {
    const { district } = this.r
    const s = this.rng.int(0, this.r.schools.length - 1)
    const school = this.r.schools[s]!.shape
    const made = makeStaff(district.seed, district.index, s, school.teachers.length, 'teacher', school.id, district.domain, this.rng)
    const teacher = { ...made, email: '' }
    this.tables.users.push(oneRosterRow('users', userRow(teacher)))
    this.story.push(
      `Bad row: new teacher ${personLabel(teacher)} at ${school.name} has no email, so the record is Skipped ` +
        '(email is required for teachers).',
    )

    const [withBadEmail, withBadDates, withDuplicate, conflicting] = this.pickStudents(4, (x) => this.freeSectionFor(x) !== undefined) as [
      Person,
      Person,
      Person,
      Person,
    ]
    const email = `${withBadEmail.email.split('@')[0] ?? withBadEmail.username}@`
    this.row('users', withBadEmail.id).email = email
    this.story.push(
      `Bad row: ${personLabel(withBadEmail)} now has the malformed email "${email}": Invalid, applied with the email left empty.`,
    )

    const free = this.freeSectionFor(withBadDates)
    if (!free) throw new Error(`demo: no free section for ${withBadDates.id}`)
    const begin = maxDate(free.start, ADD_DATE)
    const bad = this.addEnrollment(withBadDates, free, begin)
    const badRow = this.row('enrollments', bad.id)
    badRow.endDate = addDays(begin, -14)
    this.story.push(
      `Bad row: ${personLabel(withBadDates)} was added to ${sectionLabel(free)} with endDate ${badRow.endDate} before ` +
        `beginDate ${begin}: Invalid, the roster is created with no end date.`,
    )

    const ghost = this.newId()
    const target = this.rng.pick(this.r.sections.filter((x) => !this.touchedSections.has(x.id)))
    const unknown = oneRosterRow('enrollments', {
      sourcedId: this.newId(),
      classSourcedId: target.id,
      schoolSourcedId: target.school.id,
      userSourcedId: ghost,
      role: 'student',
      primary: 'false',
      beginDate: maxDate(target.start, ADD_DATE),
      endDate: target.end,
    })
    this.tables.enrollments.push(unknown)
    this.story.push(`Bad row: an enrollment in ${sectionLabel(target)} points at user ${ghost}, who is in no file: Skipped.`)

    const dup = this.rng.pick(this.enrollmentsOf(withDuplicate))
    this.tables.enrollments.push({ ...this.row('enrollments', dup.id) })
    this.story.push(
      `Bad row: the enrollment of ${personLabel(withDuplicate)} in ${sectionLabel(dup.section)} appears twice, ` +
        'identically: the second row is Merged.',
    )

    const otherName = this.rng.pick(GIVEN_NAMES.filter((g) => g !== conflicting.givenName))
    this.tables.users.push({ ...this.row('users', conflicting.id), givenName: otherName })
    this.story.push(
      `Bad row: user ${conflicting.id} appears twice in users.csv, as ${conflicting.givenName} and as ${otherName} ` +
        `${conflicting.familyName}: the first row wins and the second is Excluded.`,
    )

    const high = this.r.schools.find((x) => x.shape.level.level === 'high')!
    const formula = this.newStudent(high, FORMULA_NAME)
    this.story.push(
      `Bad row: new student ${formula.person.identifier} at ${high.shape.name} has the given name ${FORMULA_NAME}, ` +
        `enrolled in ${formula.enrollmentIds.length} sections: exports must show it as text, never as a live formula.`,
    )

    return {
      teacherWithoutEmail: teacher.id,
      malformedEmail: { userId: withBadEmail.id, email },
      endBeforeBegin: bad.id,
      unknownUserEnrollment: unknown.sourcedId ?? '',
      duplicateEnrollment: dup.id,
      conflictingUser: { userId: conflicting.id, givenName: otherName },
      formulaStudent: { userId: formula.person.id, enrollmentIds: formula.enrollmentIds },
    }
  }
}

function night2Of(roster: Roster, night1: OneRosterTables): { tables: OneRosterTables; story: string[]; changes: DemoChanges } {
  const rng = new Prng(roster.district.seed, [PURPOSE.scenario])
  const n2 = new Night2(roster, rng, night1)
  const teacher = rng.pick(roster.teachers.filter((t) => roster.sections.filter((s) => s.teacher === t).length >= 2))
  const removedClass = n2.removeSection(teacher)
  const droppedEnrollments = n2.drops(8)
  const addedEnrollments = n2.adds(10)
  const endDateChanges = n2.redate(6, 'endDate')
  const beginDateChanges = n2.redate(3, 'beginDate')
  const renamedTeacher = n2.renameTeacher(teacher)
  const roomChange = n2.changeRoom()
  const courseRetitle = n2.retitleCourse()
  const school = rng.pick(roster.schools.filter((s) => s.shape.level.level === 'high'))
  const fresh = n2.newStudent(school)
  n2.story.push(`New student ${personLabel(fresh.person)} enrolled at ${school.shape.name} in ${fresh.enrollmentIds.length} sections.`)
  const removedStudent = n2.removeStudent()
  const bad = n2.badRows()
  return {
    tables: n2.tables,
    story: n2.story,
    changes: {
      droppedEnrollments,
      addedEnrollments,
      endDateChanges,
      beginDateChanges,
      renamedTeacher,
      removedClass,
      roomChange,
      courseRetitle,
      newStudent: { userId: fresh.person.id, enrollmentIds: fresh.enrollmentIds },
      removedStudent,
      bad,
    },
  }
}

/**
 * Two nightly bulk exports of the demo district. The same seed gives the same
 * tables and story; `changes` lists night 2's edits by sourcedId for tests.
 */
export function generateDemoNights(opts: { seed?: number; schoolYear?: number } = {}): DemoNights {
  const { tables: night1, roster } = night1Of(opts.seed ?? DEMO_DEFAULT_SEED)
  const { tables: night2, story, changes } = night2Of(roster, night1)
  const shift = (opts.schoolYear ?? BASE_SCHOOL_YEAR) - BASE_SCHOOL_YEAR
  return { night1: shiftTables(night1, shift), night2: shiftTables(night2, shift), story: shiftStory(story, shift), changes }
}
