/**
 * The demo district: Emerson Unified (four schools) as its SIS would export it on
 * two nights, deterministic for a seed. Night 1 is clean; night 2 carries the
 * everyday changes a district data manager reviews in a sync log (drops, adds,
 * date changes, a renamed teacher, a removed section, ...) plus a handful of bad
 * rows, each told in `story` as a sentence and listed in `changes` by sourcedId.
 *
 * Sizes follow oneroster-facts.md section 4 at small scale (about 300 students,
 * 40 sections of 25–35, 3–6 sections per secondary student). Night 2 stays far
 * below the hold thresholds (deletes < 10 %, updates < 75 % per type).
 */
import { shiftStory, shiftTables } from './school-year.js'
import { createPrng, type Prng } from './prng.js'
import { oneRosterRow, type OneRosterTables, type Row } from './write-oneroster.js'

export type { OneRosterTables, Row } from './write-oneroster.js'

export const DEMO_DEFAULT_SEED = 7
export const DEMO_DISTRICT = { sourcedId: 'dist-emerson', name: 'Emerson Unified' } as const
export const DEMO_OTHER_DISTRICT = { sourcedId: 'dist-garrison', name: 'Garrison Valley' } as const

// ---------------------------------------------------------------- the fixed shape of the district

interface Term { readonly id: string; readonly title: string; readonly start: string; readonly end: string }
const SCHOOL_YEAR = { id: 'as-2026', title: '2025-2026 School Year', start: '2025-08-01', end: '2026-07-01', year: '2026' } as const
const FALL: Term = { id: 'as-2026-s1', title: 'Fall 2025', start: '2025-08-18', end: '2026-01-09' }
const SPRING: Term = { id: 'as-2026-s2', title: 'Spring 2026', start: '2026-01-12', end: '2026-06-05' }
/** The day night-2 additions start (or the term start, if later). */
const ADD_DATE = '2025-10-06'
/** The school year the calendar above is written for; `generateDemoNights` can move it. */
const BASE_SCHOOL_YEAR = 2026

interface CourseSpec { readonly code: string; readonly title: string; readonly newTitle: string; readonly subject: string }
interface School { readonly id: string; readonly name: string; readonly districtId: string; readonly identifier: string }
interface SchoolSpec extends School {
  readonly code: string
  readonly grades: readonly string[]
  readonly periods: number
  readonly students: number
  readonly teachers: number
  /** The last course is a one-semester elective (section 1 in fall, section 2 in spring) in high schools. */
  readonly courses: readonly CourseSpec[]
  readonly high: boolean
}

const course = (code: string, title: string, newTitle: string, subject: string): CourseSpec => ({ code, title, newTitle, subject })

const SCHOOLS: readonly SchoolSpec[] = [
  {
    id: 'sch-emerson-hs', name: 'Emerson High School', code: 'EHS', districtId: DEMO_DISTRICT.sourcedId, identifier: '062271003401',
    grades: ['09', '10', '11', '12'], periods: 6, students: 90, teachers: 8, high: true,
    courses: [
      course('ENG9', 'English 9', 'English I', 'English Language Arts'), course('ALG1', 'Algebra I', 'Algebra 1', 'Mathematics'),
      course('BIO', 'Biology', 'Biology (Lab)', 'Science'), course('USHIST', 'U.S. History', 'United States History', 'Social Studies'),
      course('SPAN1', 'Spanish I', 'Spanish 1', 'World Languages'), course('ART1', 'Studio Art I', 'Studio Art 1', 'Fine Arts'),
    ],
  },
  {
    id: 'sch-lincoln-hs', name: 'Lincoln Park High School', code: 'LPH', districtId: DEMO_DISTRICT.sourcedId, identifier: '062271003402',
    grades: ['09', '10', '11', '12'], periods: 6, students: 90, teachers: 8, high: true,
    courses: [
      course('ENG10', 'English 10', 'English II', 'English Language Arts'), course('GEOM', 'Geometry', 'Geometry (Honors Track)', 'Mathematics'),
      course('CHEM', 'Chemistry', 'Chemistry in the Community', 'Science'), course('WHIST', 'World History', 'World History and Geography', 'Social Studies'),
      course('FREN1', 'French I', 'French 1', 'World Languages'), course('CSP', 'Computer Science Principles', 'AP Computer Science Principles', 'Computer Science'),
    ],
  },
  {
    id: 'sch-cedar-ms', name: 'Cedar Ridge Middle School', code: 'CRM', districtId: DEMO_DISTRICT.sourcedId, identifier: '062271003403',
    grades: ['06', '07', '08'], periods: 5, students: 70, teachers: 5, high: false,
    courses: [
      course('ELA7', 'English Language Arts 7', 'ELA 7', 'English Language Arts'), course('MATH7', 'Math 7', 'Mathematics 7', 'Mathematics'),
      course('LIFESCI', 'Life Science', 'Life Science 7', 'Science'), course('SS7', 'Social Studies 7', 'World Geography 7', 'Social Studies'),
      course('BAND', 'Concert Band', 'Concert Band (Beginning)', 'Music'),
    ],
  },
  {
    id: 'sch-maple-es', name: 'Maple Grove Elementary School', code: 'MGE', districtId: DEMO_DISTRICT.sourcedId, identifier: '062271003404',
    grades: ['03', '04', '05'], periods: 3, students: 50, teachers: 4, high: false,
    courses: [
      course('READ', 'Reading and Writing', 'Literacy Block', 'English Language Arts'), course('MATH', 'Mathematics', 'Math Block', 'Mathematics'),
      course('SCI', 'Science Explorations', 'Science and Engineering', 'Science'),
    ],
  },
]
const [EHS, LPH, CRM] = SCHOOLS as readonly [SchoolSpec, SchoolSpec, SchoolSpec, SchoolSpec]
const GARRISON_HS: School = { id: 'sch-garrison-hs', name: 'Garrison Valley High School', districtId: DEMO_OTHER_DISTRICT.sourcedId, identifier: '062275001201' }

const GIVEN = [
  'Ava', 'Liam', 'Sofia', 'Noah', 'Maya', 'Ethan', 'Isabella', 'Lucas', 'Chloe', 'Mateo', 'Amara', 'Elijah', 'Zoe', 'Diego', 'Hannah',
  'Caleb', 'Priya', 'Owen', 'Leah', 'Jamal', 'Grace', 'Julian', 'Aaliyah', 'Ryan', 'Mia', 'Isaac', 'Nora', 'Kai', 'Layla', 'Gabriel',
  'Emma', 'Samuel', 'Fatima', 'Aiden', 'Lucia', 'Marcus', 'Harper', 'Daniel', 'Yuna', 'Andre', 'Ellie', 'Tomás', 'Nia', 'Wyatt',
] as const
const FAMILY = [
  'Nguyen', 'Patel', 'García', 'Johnson', 'Kim', 'Okafor', 'Smith', 'Hernández', 'Chen', 'Williams', "O'Brien", 'Rossi', 'Brown',
  'Martinez', 'Singh', 'Davis', 'Lopez', 'Wilson', 'Anderson', 'Tanaka', 'Thomas', 'Moore', 'Jackson', 'Ali', 'Lee', 'Walker',
  'Robinson', 'Clark', 'Rivera', 'Lewis', 'Young', 'Hall', 'Cohen', 'Murphy', 'Ramirez', 'Schmidt', 'Ivanova', 'Baker', 'Flores',
] as const
/** Family names a renamed teacher may take (not in FAMILY, so the change is always visible). */
const NEW_FAMILY = ['Bennett', 'Castillo', 'Fitzgerald', 'Harrington', 'Delgado', 'Whitaker'] as const

// ---------------------------------------------------------------- model

interface Course { readonly id: string; readonly spec: CourseSpec; readonly school: SchoolSpec }
interface Section {
  readonly id: string
  readonly classCode: string
  readonly course: Course
  readonly school: SchoolSpec
  readonly period: string
  readonly terms: readonly Term[]
  readonly location: string
  teacher: Person | undefined
}
interface Person {
  readonly id: string
  readonly role: 'student' | 'teacher'
  readonly givenName: string
  readonly familyName: string
  readonly middleName: string
  readonly identifier: string
  readonly username: string
  readonly email: string
  readonly grade: string
  readonly home: School
  /** Home school first, then any school the person is also served at. */
  orgIds: string[]
}
interface Enrollment { readonly id: string; readonly section: Section; readonly user: Person; readonly begin: string; readonly end: string }

interface District {
  readonly courses: readonly Course[]
  readonly sections: readonly Section[]
  readonly teachers: readonly Person[]
  readonly students: readonly Person[]
  /** Students with an enrollment outside their home school. */
  readonly crossSite: ReadonlySet<string>
  readonly enrollments: readonly Enrollment[]
  /** Next free student sequence number (sourcedId `stu-NNNN`) and student number. */
  nextStudent: number
  nextStudentNumber: number
  nextTeacher: number
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

const maxDate = (a: string, b: string): string => (a > b ? a : b)

function ascii(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z]/g, '')
}

function sectionLabel(s: Section): string {
  return `${s.classCode} ${s.course.spec.title}`
}

function personLabel(p: Person): string {
  return `${p.givenName} ${p.familyName} (${p.role === 'student' ? 'student' : 'staff'} ${p.identifier})`
}

function makeStudent(d: District, rng: Prng, home: School, grades: readonly string[], domain: string): Person {
  d.nextStudentNumber += rng.int(1, 9)
  const identifier = String(d.nextStudentNumber)
  const givenName = rng.pick(GIVEN)
  const familyName = rng.pick(FAMILY)
  const id = `stu-${String(d.nextStudent++).padStart(4, '0')}`
  return {
    id, role: 'student', givenName, familyName, middleName: rng.chance(0.3) ? rng.pick(GIVEN) : '', identifier,
    username: `s${identifier}`, email: `${ascii(givenName)}.${ascii(familyName)}${identifier.slice(-3)}@${domain}`,
    grade: rng.pick(grades), home, orgIds: [home.id],
  }
}

function makeTeacher(d: District, rng: Prng, school: School, usernames: Set<string>): Person {
  const givenName = rng.pick(GIVEN)
  const familyName = rng.pick(FAMILY)
  const base = `${ascii(givenName)}.${ascii(familyName)}`
  let username = base
  for (let n = 2; usernames.has(username); n++) username = `${base}${n}`
  usernames.add(username)
  const n = d.nextTeacher++
  return {
    id: `tch-${String(n).padStart(3, '0')}`, role: 'teacher', givenName, familyName, middleName: '',
    identifier: `E${1000 + n * 7}`, username, email: `${username}@emersonusd.org`, grade: '', home: school, orgIds: [school.id],
  }
}

function enrollmentOf(section: Section, user: Person, begin = section.terms[0]?.start ?? FALL.start): Enrollment {
  const end = section.terms[section.terms.length - 1]?.end ?? SPRING.end
  return { id: `enr-${user.id}-${section.id}`, section, user, begin, end }
}

/** Up to `want` sections of `pool`, at most one per course and per period, avoiding `taken`. */
function chooseSections(rng: Prng, pool: readonly Section[], want: number, taken: readonly Section[] = []): Section[] {
  let best: Section[] = []
  for (let attempt = 0; attempt < 20 && best.length < want; attempt++) {
    const chosen: Section[] = []
    const busy = [...taken]
    for (const s of rng.shuffle(pool)) {
      if (chosen.length === want) break
      if (busy.some((b) => b.id === s.id || b.course.id === s.course.id || (b.school.id === s.school.id && b.period === s.period))) continue
      chosen.push(s)
      busy.push(s)
    }
    if (chosen.length > best.length) best = chosen
  }
  return best
}

function buildDistrict(rng: Prng): District {
  const d: District = {
    courses: [], sections: [], teachers: [], students: [], crossSite: new Set(), enrollments: [],
    nextStudent: 1, nextStudentNumber: 200000, nextTeacher: 1,
  }
  const courses = d.courses as Course[]
  const sections = d.sections as Section[]
  const teachers = d.teachers as Person[]
  const students = d.students as Person[]
  const crossSite = d.crossSite as Set<string>
  const enrollments = d.enrollments as Enrollment[]
  const usernames = new Set<string>()

  for (const school of SCHOOLS) {
    const staff = Array.from({ length: school.teachers }, () => makeTeacher(d, rng, school, usernames))
    teachers.push(...staff)
    const rooms = rng.sample(Array.from({ length: 60 }, (_, i) => 101 + i * 3), school.courses.length * 2)
    school.courses.forEach((spec, i) => {
      const c: Course = { id: `crs-${school.code.toLowerCase()}-${spec.code.toLowerCase()}`, spec, school }
      courses.push(c)
      for (let j = 0; j < 2; j++) {
        const elective = school.high && i === school.courses.length - 1
        const terms = elective ? [j === 0 ? FALL : SPRING] : [FALL, SPRING]
        const n = sections.filter((s) => s.school === school).length
        sections.push({
          id: `cls-${school.code.toLowerCase()}-${spec.code.toLowerCase()}-0${j + 1}`,
          classCode: `${spec.code}-0${j + 1}`,
          course: c,
          school,
          period: String(((2 * i + j) % school.periods) + 1),
          terms,
          location: `Room ${rooms[n] ?? 100 + n}`,
          teacher: staff[n % staff.length],
        })
      }
    })
    const ownSections = sections.filter((s) => s.school === school)
    for (let k = 0; k < school.students; k++) {
      const student = makeStudent(d, rng, school, school.grades, 'students.emersonusd.org')
      students.push(student)
      const want = rng.int(3, Math.min(6, school.courses.length))
      for (const s of chooseSections(rng, ownSections, want)) {
        const late = rng.chance(0.08) ? addDays(s.terms[0]?.start ?? FALL.start, rng.int(3, 20)) : undefined
        enrollments.push(enrollmentOf(s, student, late))
      }
    }
  }

  // Cross-site students: served at an Emerson high school, home elsewhere (another Emerson school or Garrison Valley).
  const serveAt = (student: Person, school: SchoolSpec, n: number): void => {
    const taken = enrollments.filter((e) => e.user === student).map((e) => e.section)
    const picked = chooseSections(rng, sections.filter((s) => s.school === school), n, taken)
    for (const s of picked) enrollments.push(enrollmentOf(s, student))
    if (!student.orgIds.includes(school.id)) student.orgIds.push(school.id)
    crossSite.add(student.id)
  }
  const algebra = sections.filter((x) => x.school === EHS && x.course.spec.code === 'ALG1')
  for (const s of rng.sample(students.filter((x) => x.home === CRM && x.grade === '08'), 4)) {
    enrollments.push(enrollmentOf(rng.pick(algebra), s))
    s.orgIds.push(EHS.id)
    crossSite.add(s.id)
  }
  for (const s of rng.sample(students.filter((x) => x.home === EHS), 2)) serveAt(s, LPH, 1)
  for (const s of rng.sample(students.filter((x) => x.home === LPH), 2)) serveAt(s, EHS, 1)
  for (let k = 0; k < 4; k++) {
    const student = makeStudent(d, rng, GARRISON_HS, ['11', '12'], 'students.garrisonvalley.org')
    students.push(student)
    serveAt(student, k < 2 ? EHS : LPH, rng.int(1, 2))
  }
  return d
}

// ---------------------------------------------------------------- rows

function orgRows(): Row[] {
  const org = (sourcedId: string, name: string, type: string, identifier: string, parentSourcedId = ''): Row =>
    oneRosterRow('orgs', { sourcedId, name, type, identifier, parentSourcedId })
  return [
    org(DEMO_DISTRICT.sourcedId, DEMO_DISTRICT.name, 'district', '0622710'),
    ...SCHOOLS.map((s) => org(s.id, s.name, 'school', s.identifier, s.districtId)),
    org(DEMO_OTHER_DISTRICT.sourcedId, DEMO_OTHER_DISTRICT.name, 'district', '0622750'),
    org(GARRISON_HS.id, GARRISON_HS.name, 'school', GARRISON_HS.identifier, GARRISON_HS.districtId),
  ]
}

function sessionRows(): Row[] {
  const session = (t: { id: string; title: string; start: string; end: string }, type: string, parentSourcedId: string): Row =>
    oneRosterRow('academicSessions', {
      sourcedId: t.id, title: t.title, type, startDate: t.start, endDate: t.end, parentSourcedId, schoolYear: SCHOOL_YEAR.year,
    })
  return [session(SCHOOL_YEAR, 'schoolYear', ''), session(FALL, 'semester', SCHOOL_YEAR.id), session(SPRING, 'semester', SCHOOL_YEAR.id)]
}

function courseRow(c: Course): Row {
  return oneRosterRow('courses', {
    sourcedId: c.id, schoolYearSourcedId: SCHOOL_YEAR.id, title: c.spec.title, courseCode: c.spec.code,
    grades: c.school.grades.join(','), orgSourcedId: c.school.id, subjects: c.spec.subject,
  })
}

function classRow(s: Section): Row {
  return oneRosterRow('classes', {
    sourcedId: s.id, title: `${s.course.spec.title} (Period ${s.period})`, grades: s.school.grades.join(','),
    courseSourcedId: s.course.id, classCode: s.classCode, classType: 'scheduled', location: s.location,
    schoolSourcedId: s.school.id, termSourcedIds: s.terms.map((t) => t.id).join(','), subjects: s.course.spec.subject, periods: s.period,
  })
}

function userRow(p: Person): Row {
  return oneRosterRow('users', {
    sourcedId: p.id, enabledUser: 'true', orgSourcedIds: p.orgIds.join(','), role: p.role, username: p.username,
    givenName: p.givenName, familyName: p.familyName, middleName: p.middleName, identifier: p.identifier, email: p.email, grades: p.grade,
  })
}

function enrollmentRow(e: Enrollment): Row {
  return oneRosterRow('enrollments', {
    sourcedId: e.id, classSourcedId: e.section.id, schoolSourcedId: e.section.school.id, userSourcedId: e.user.id,
    role: e.user.role, primary: e.user.role === 'teacher' ? 'true' : 'false', beginDate: e.begin, endDate: e.end,
  })
}

function tablesOf(d: District): OneRosterTables {
  const teacherEnrollments = d.sections.flatMap((s) => (s.teacher ? [enrollmentOf(s, s.teacher)] : []))
  const bySection = (e: Enrollment): number => d.sections.indexOf(e.section)
  const studentEnrollments = [...d.enrollments].sort((a, b) => bySection(a) - bySection(b))
  const enrollments = d.sections.flatMap((s) => [
    ...teacherEnrollments.filter((e) => e.section === s),
    ...studentEnrollments.filter((e) => e.section === s),
  ])
  return {
    orgs: orgRows(),
    academicSessions: sessionRows(),
    courses: d.courses.map(courseRow),
    classes: d.sections.map(classRow),
    users: [...d.teachers, ...d.students].map(userRow),
    enrollments: enrollments.map(enrollmentRow),
  }
}

// ---------------------------------------------------------------- night 2

export interface DateChange { readonly enrollmentId: string; readonly from: string; readonly to: string }

/** What night 2 changed, by sourcedId (the same facts `story` tells). */
export interface DemoChanges {
  readonly droppedEnrollments: readonly string[]
  readonly addedEnrollments: readonly string[]
  readonly endDateChanges: readonly DateChange[]
  readonly beginDateChanges: readonly DateChange[]
  readonly renamedTeacher: { readonly userId: string; readonly from: string; readonly to: string; readonly classIds: readonly string[] }
  readonly removedClass: { readonly classId: string; readonly deletedEnrollments: readonly string[]; readonly keptEnrollments: readonly string[] }
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

export const FORMULA_NAME = '=HYPERLINK("http://x","click")'

/** Night 2 as edits to a copy of night 1's rows, choosing each change among records no earlier change touched. */
class Night2 {
  readonly tables: OneRosterTables
  readonly story: string[] = []
  private readonly touchedUsers = new Set<string>()
  private readonly touchedSections = new Set<string>()
  private readonly current: Enrollment[]

  constructor(private readonly d: District, private readonly rng: Prng, night1: OneRosterTables) {
    this.tables = {
      orgs: night1.orgs.map((r) => ({ ...r })),
      academicSessions: night1.academicSessions.map((r) => ({ ...r })),
      courses: night1.courses.map((r) => ({ ...r })),
      classes: night1.classes.map((r) => ({ ...r })),
      users: night1.users.map((r) => ({ ...r })),
      enrollments: night1.enrollments.map((r) => ({ ...r })),
    }
    this.current = [...d.enrollments]
  }

  private row(file: 'users' | 'classes' | 'courses' | 'enrollments', id: string): Row {
    const row = this.tables[file].find((r) => r.sourcedId === id)
    if (!row) throw new Error(`demo: no ${file} row ${id}`)
    return row
  }

  private remove(file: 'users' | 'classes' | 'enrollments', ids: ReadonlySet<string>): void {
    const rows = this.tables[file]
    const kept = rows.filter((r) => !ids.has(r.sourcedId ?? ''))
    rows.splice(0, rows.length, ...kept)
  }

  private enrollmentsOf(user: Person): Enrollment[] {
    return this.current.filter((e) => e.user === user)
  }

  /** Emerson students who are not cross-site and untouched so far. */
  private plainStudents(filter: (p: Person) => boolean = () => true): Person[] {
    return this.d.students.filter((p) => p.home.districtId === DEMO_DISTRICT.sourcedId && !this.d.crossSite.has(p.id)
      && !this.touchedUsers.has(p.id) && filter(p))
  }

  private pickStudents(n: number, filter?: (p: Person) => boolean): Person[] {
    const picked = this.rng.sample(this.plainStudents(filter), n)
    if (picked.length < n) throw new Error(`demo: only ${picked.length} of ${n} students fit`)
    for (const p of picked) this.touchedUsers.add(p.id)
    return picked
  }

  private freeSectionFor(p: Person, schoolId = p.home.id): Section | undefined {
    const pool = this.d.sections.filter((s) => s.school.id === schoolId && !this.touchedSections.has(s.id))
    return chooseSections(this.rng, pool, 1, this.enrollmentsOf(p).map((e) => e.section))[0]
  }

  private addEnrollment(p: Person, s: Section, begin = maxDate(s.terms[0]?.start ?? FALL.start, ADD_DATE)): Enrollment {
    const e = enrollmentOf(s, p, begin)
    this.current.push(e)
    this.tables.enrollments.push(enrollmentRow(e))
    return e
  }

  removeSection(renamed: Person): DemoChanges['removedClass'] {
    const candidates = this.d.sections.filter((s) => s.teacher !== renamed
      && this.current.filter((e) => e.section === s).length >= 4
      && !this.current.some((e) => e.section === s && this.d.crossSite.has(e.user.id)))
    const s = this.rng.pick(candidates)
    this.touchedSections.add(s.id)
    const roster = this.current.filter((e) => e.section === s)
    const kept = this.rng.sample(roster, 2)
    // Its students take part in no other change, so each change stays separately visible in the log.
    for (const e of roster) {
      this.touchedUsers.add(e.user.id)
      if (!kept.includes(e)) this.current.splice(this.current.indexOf(e), 1)
    }
    const deleted = [
      ...(s.teacher ? [enrollmentOf(s, s.teacher).id] : []),
      ...roster.filter((e) => !kept.includes(e)).map((e) => e.id),
    ]
    this.remove('classes', new Set([s.id]))
    this.remove('enrollments', new Set(deleted))
    this.story.push(`Section ${sectionLabel(s)} at ${s.school.name} was removed from classes.csv and its roster dropped, `
      + `but 2 of its ${roster.length} student enrollments (${kept.map((e) => e.user.identifier).join(', ')}) were left in enrollments.csv: `
      + 'they are Skipped for referencing a deleted class.')
    return { classId: s.id, deletedEnrollments: deleted, keptEnrollments: kept.map((e) => e.id) }
  }

  renameTeacher(t: Person): DemoChanges['renamedTeacher'] {
    const sections = this.d.sections.filter((s) => s.teacher === t)
    const to = this.rng.pick(NEW_FAMILY)
    this.row('users', t.id).familyName = to
    this.touchedUsers.add(t.id)
    this.story.push(`Teacher ${personLabel(t)} changed family name to ${to}: each of the ${sections.length} sections they teach `
      + `(${sections.map((s) => s.classCode).join(', ')}) shows Updated Section Data for Teacher Display Name `
      + `"${t.familyName}, ${t.givenName}" -> "${to}, ${t.givenName}".`)
    return { userId: t.id, from: t.familyName, to, classIds: sections.map((s) => s.id) }
  }

  changeRoom(): DemoChanges['roomChange'] {
    const s = this.rng.pick(this.d.sections.filter((x) => !this.touchedSections.has(x.id)))
    this.touchedSections.add(s.id)
    const used = new Set(this.d.sections.filter((x) => x.school === s.school).map((x) => x.location))
    let to = `Room ${this.rng.int(100, 299)}`
    while (used.has(to)) to = `Room ${this.rng.int(100, 299)}`
    this.row('classes', s.id).location = to
    this.story.push(`Section ${sectionLabel(s)} at ${s.school.name} moved from ${s.location} to ${to}.`)
    return { classId: s.id, from: s.location, to }
  }

  retitleCourse(): DemoChanges['courseRetitle'] {
    const c = this.rng.pick(this.d.courses.filter((x) => !this.d.sections.some((s) => s.course === x && this.touchedSections.has(s.id))))
    const sections = this.d.sections.filter((s) => s.course === c)
    for (const s of sections) this.touchedSections.add(s.id)
    this.row('courses', c.id).title = c.spec.newTitle
    this.story.push(`Course ${c.spec.code} at ${c.school.name} was retitled "${c.spec.title}" -> "${c.spec.newTitle}": `
      + `its ${sections.length} sections show Updated Section Data for Course Name.`)
    return { courseId: c.id, from: c.spec.title, to: c.spec.newTitle, classIds: sections.map((s) => s.id) }
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

  /** `n` adds: one by a Garrison Valley student at their serving school (a row the home district sees), the rest plain. */
  adds(n: number): string[] {
    const ids: string[] = []
    const visitor = this.rng.pick(this.d.students.filter((p) => p.home === GARRISON_HS && !this.touchedUsers.has(p.id)
      && this.freeSectionFor(p, p.orgIds[1]) !== undefined))
    const at = this.freeSectionFor(visitor, visitor.orgIds[1])
    if (!at) throw new Error(`demo: no free section for ${visitor.id}`)
    this.touchedUsers.add(visitor.id)
    const added = this.addEnrollment(visitor, at)
    ids.push(added.id)
    this.story.push(`${personLabel(visitor)}, a cross-site student from ${GARRISON_HS.name} (${DEMO_OTHER_DISTRICT.name}), added `
      + `${sectionLabel(at)} (period ${at.period}) at ${at.school.name}, starting ${added.begin}.`)
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
    for (const p of this.pickStudents(n)) {
      const e = this.rng.pick(this.enrollmentsOf(p).filter((x) => !this.touchedSections.has(x.section.id)))
      const row = this.row('enrollments', e.id)
      const from = which === 'endDate' ? e.end : e.begin
      const to = which === 'endDate' ? addDays(e.end, -this.rng.int(14, 40)) : addDays(e.begin, this.rng.int(5, 15))
      row[which] = to
      out.push({ enrollmentId: e.id, from, to })
      this.story.push(which === 'endDate'
        ? `${personLabel(p)} leaves ${sectionLabel(e.section)} early: the enrollment now ends ${to} instead of ${from}.`
        : `${personLabel(p)} starts ${sectionLabel(e.section)} later: the enrollment now begins ${to} instead of ${from}.`)
    }
    return out
  }

  removeStudent(): DemoChanges['removedStudent'] {
    const [p] = this.pickStudents(1) as [Person]
    const enrollments = this.enrollmentsOf(p).map((e) => e.id)
    this.remove('users', new Set([p.id]))
    this.remove('enrollments', new Set(enrollments))
    this.story.push(`${personLabel(p)} left the district: the user and all ${enrollments.length} of their enrollments are gone from the export.`)
    return { userId: p.id, enrollmentIds: enrollments }
  }

  newStudent(school: SchoolSpec, sectionCount: number, givenName?: string): { person: Person; enrollmentIds: string[] } {
    const made = makeStudent(this.d, this.rng, school, school.grades, 'students.emersonusd.org')
    const p: Person = givenName === undefined ? made : { ...made, givenName, email: '' }
    this.touchedUsers.add(p.id)
    this.tables.users.push(userRow(p))
    const pool = this.d.sections.filter((s) => s.school === school && !this.touchedSections.has(s.id))
    const ids = chooseSections(this.rng, pool, sectionCount).map((s) => this.addEnrollment(p, s).id)
    return { person: p, enrollmentIds: ids }
  }

  badRows(): DemoChanges['bad'] {
    const school = this.rng.pick(SCHOOLS)
    const teacher = { ...makeTeacher(this.d, this.rng, school, new Set(this.d.teachers.map((t) => t.username))), email: '' }
    this.tables.users.push(userRow(teacher))
    this.story.push(`Bad row: new teacher ${personLabel(teacher)} at ${school.name} has no email, so the record is Skipped `
      + '(email is required for teachers).')

    const [withBadEmail, withBadDates, withDuplicate, conflicting] = this.pickStudents(4, (x) => this.freeSectionFor(x) !== undefined) as
      [Person, Person, Person, Person]
    const email = `${withBadEmail.email.split('@')[0] ?? withBadEmail.username}@`
    this.row('users', withBadEmail.id).email = email
    this.story.push(`Bad row: ${personLabel(withBadEmail)} now has the malformed email "${email}": Invalid, applied with the email left empty.`)

    const s = this.freeSectionFor(withBadDates)
    if (!s) throw new Error(`demo: no free section for ${withBadDates.id}`)
    const begin = maxDate(s.terms[0]?.start ?? FALL.start, ADD_DATE)
    const bad = this.addEnrollment(withBadDates, s, begin)
    const badRow = this.row('enrollments', bad.id)
    badRow.endDate = addDays(begin, -14)
    this.story.push(`Bad row: ${personLabel(withBadDates)} was added to ${sectionLabel(s)} with endDate ${badRow.endDate} before `
      + `beginDate ${begin}: Invalid, the roster is created with no end date.`)

    const ghost = `stu-${String(this.d.nextStudent + 900).padStart(4, '0')}`
    const target = this.rng.pick(this.d.sections.filter((x) => !this.touchedSections.has(x.id)))
    const unknown = oneRosterRow('enrollments', {
      sourcedId: `enr-${ghost}-${target.id}`, classSourcedId: target.id, schoolSourcedId: target.school.id, userSourcedId: ghost,
      role: 'student', primary: 'false', beginDate: maxDate(target.terms[0]?.start ?? FALL.start, ADD_DATE),
      endDate: target.terms[target.terms.length - 1]?.end ?? SPRING.end,
    })
    this.tables.enrollments.push(unknown)
    this.story.push(`Bad row: an enrollment in ${sectionLabel(target)} points at user ${ghost}, who is in no file: Skipped.`)

    const dup = this.rng.pick(this.enrollmentsOf(withDuplicate))
    this.tables.enrollments.push({ ...this.row('enrollments', dup.id) })
    this.story.push(`Bad row: the enrollment of ${personLabel(withDuplicate)} in ${sectionLabel(dup.section)} appears twice, `
      + 'identically: the second row is Merged.')

    const otherName = this.rng.pick(GIVEN.filter((g) => g !== conflicting.givenName))
    this.tables.users.push({ ...this.row('users', conflicting.id), givenName: otherName })
    this.story.push(`Bad row: user ${conflicting.id} appears twice in users.csv, as ${conflicting.givenName} and as ${otherName} `
      + `${conflicting.familyName}: the first row wins and the second is Excluded.`)

    const formula = this.newStudent(EHS, 2, FORMULA_NAME)
    this.story.push(`Bad row: new student ${formula.person.identifier} at ${EHS.name} has the given name ${FORMULA_NAME}, `
      + `enrolled in ${formula.enrollmentIds.length} sections: exports must show it as text, never as a live formula.`)

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

function buildNight2(d: District, rng: Prng, night1: OneRosterTables): { tables: OneRosterTables; story: string[]; changes: DemoChanges } {
  const n2 = new Night2(d, rng, night1)
  const teacher = rng.pick(d.teachers.filter((t) => d.sections.filter((s) => s.teacher === t).length >= 2))
  const removedClass = n2.removeSection(teacher)
  const droppedEnrollments = n2.drops(8)
  const addedEnrollments = n2.adds(10)
  const endDateChanges = n2.redate(6, 'endDate')
  const beginDateChanges = n2.redate(3, 'beginDate')
  const renamedTeacher = n2.renameTeacher(teacher)
  const roomChange = n2.changeRoom()
  const courseRetitle = n2.retitleCourse()
  const school = rng.pick([EHS, LPH])
  const fresh = n2.newStudent(school, 4)
  n2.story.push(`New student ${personLabel(fresh.person)} enrolled at ${school.name} in ${fresh.enrollmentIds.length} sections.`)
  const removedStudent = n2.removeStudent()
  const bad = n2.badRows()
  return {
    tables: n2.tables,
    story: n2.story,
    changes: {
      droppedEnrollments, addedEnrollments, endDateChanges, beginDateChanges, renamedTeacher, removedClass, roomChange,
      courseRetitle, newStudent: { userId: fresh.person.id, enrollmentIds: fresh.enrollmentIds }, removedStudent, bad,
    },
  }
}

/**
 * Two nightly bulk exports of the demo district. The same seed gives the same
 * tables and story; `changes` lists night 2's edits by sourcedId for tests.
 */
export function generateDemoNights(opts: { seed?: number; schoolYear?: number } = {}): DemoNights {
  const rng = createPrng(opts.seed ?? DEMO_DEFAULT_SEED)
  const district = buildDistrict(rng)
  const night1 = tablesOf(district)
  const { tables: night2, story, changes } = buildNight2(district, rng, night1)
  const shift = (opts.schoolYear ?? BASE_SCHOOL_YEAR) - BASE_SCHOOL_YEAR
  return { night1: shiftTables(night1, shift), night2: shiftTables(night2, shift), story: shiftStory(story, shift), changes }
}
