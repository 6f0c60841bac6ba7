/**
 * The rosters behind the generated log: per tenant, its schools (and the partner
 * district schools some students are homed at), students, teachers, courses,
 * sections, terms and student enrollments. Every string is built once here, so
 * a log row is only indices into these pools.
 *
 * Ids collide across tenants on purpose (the first two tenants number their
 * schools, students and sections the same way), so a scope that forgot its
 * tenant would show it. Names mix ASCII and non-ASCII (Zoë, Ñúñez, Çelik,
 * O'Brien, …) whose lower case JavaScript and ClickHouse agree on, and a few
 * hostile ones (quotes, SQL, query-parameter syntax, backslashes, formulas).
 */
import { Prng } from '../../../src/generate/prng.js'

export interface School {
  readonly id: string
  readonly name: string
  readonly districtId: string
  readonly district: string
}

export interface Student {
  readonly sourcedId: string
  readonly number: string
  readonly name: string
  /** Index into the tenant's schools (own or partner). */
  readonly home: number
}

export interface Teacher {
  readonly sourcedId: string
  readonly home: number
}

export interface Course {
  readonly sourcedId: string
  readonly number: string
  readonly name: string
  /** The course's org: a school index, or -1 for the district. */
  readonly school: number
}

export interface Section {
  readonly sourcedId: string
  readonly number: string
  readonly school: number
  readonly course: number
}

export interface TenantPools {
  readonly index: number
  readonly name: string
  readonly districtId: string
  readonly district: string
  /** [0, ownSchools) are the tenant's schools; the rest belong to partner districts (home side only). */
  readonly schools: readonly School[]
  readonly ownSchools: number
  readonly students: readonly Student[]
  readonly teachers: readonly Teacher[]
  readonly courses: readonly Course[]
  readonly sections: readonly Section[]
  readonly terms: readonly string[]
  /** Enrollment e is student floor(e / ENROLLMENTS_PER_STUDENT) in section enrollmentSection[e]. */
  readonly enrollmentSection: Int32Array
  readonly enrollmentIds: readonly string[]
  /** Enrollments of each section: sectionEnrollments[sectionStart[c] .. sectionStart[c + 1]). */
  readonly sectionStart: Int32Array
  readonly sectionEnrollments: Int32Array
}

export const ENROLLMENTS_PER_STUDENT = 6
export const SCHOOLS_PER_TENANT = 20
const PARTNER_SCHOOLS = 4
const SECTIONS_PER_SCHOOL = 40
const COURSES = 60
const TEACHERS_PER_SCHOOL = 15

/** Tenant names: two differ only in case and suffix, so byte-wise order (uppercase first) matters. */
export const TENANT_NAMES = ['emerson-unified', 'Lincoln-County', 'lincoln-usd', 'sierra-vista-isd'] as const

const DISTRICTS = ['Emerson Unified', 'Lincoln County Schools', 'Lincoln USD', 'Sierra Vista ISD'] as const

const SCHOOL_NAMES = [
  'Fremont High',
  'Jefferson Elementary',
  'Ñandú Middle',
  "O'Connor Elementary",
  'Müller Academy',
  'São Tomé Middle',
  'Washington High',
  'Çelik STEM Academy',
  'Roosevelt Elementary',
  'Zoë Baird Primary',
  'Lakeview Middle',
  'Hillcrest High',
  'Riverside Elementary',
  'Oak Grove Middle',
  'Dvořák School of Music',
  'Pine Ridge High',
  'Bayside Elementary',
  'Sunset Middle',
  'Grant Elementary',
  'Mesa Verde High',
] as const

const FAMILY_NAMES = [
  'Smith',
  'Nguyen',
  'García',
  "O'Brien",
  'Ñúñez',
  'Çelik',
  'Müller',
  'Ünal',
  'Sørensen',
  'Dvořák',
  'Kowalski',
  'Li',
  'Patel',
  'Johnson',
  'Okafor',
  'Иванов',
  'Brown',
  'Martínez',
  'Lefèvre',
  'Nakamura',
  'Öztürk',
  'Hernández',
  'Walker',
  'Kim',
  'Ramírez',
  "D'Arcy",
  'Łukasiewicz',
  'Fitzgerald',
  'Rossi',
  'Andersson',
] as const

const GIVEN_NAMES = [
  'Zoë',
  'Lucía',
  'Seán',
  'Anna',
  'Wei',
  'Tam',
  'José',
  'Chloé',
  'Björn',
  'Mia',
  'Noah',
  'Liam',
  'Emma',
  'Ana',
  'Élodie',
  'Søren',
  'Ümit',
  'Ñico',
  'Jürgen',
  'Amélie',
  'Olivia',
  'Mateo',
  'Aiyana',
  'Kofi',
  'Ravi',
  'Ines',
] as const

/** Students with names that try to break out of a query, a CSV or a spreadsheet. */
export const HOSTILE_STUDENT_NAMES = [
  "Robert'); DROP TABLE sync_log;--, Bobby",
  "' OR 1=1 --, Quinn",
  'Back\\slash, Bob',
  '{scope_tenant:String}, Curly',
  "=cmd|' /C calc'!A0",
  '@SUM(A1), Formula',
  '😀 Emoji, Ema',
  '"Quoted", Quinn',
] as const

const COURSE_NAMES = [
  'Algebra I',
  'Biology',
  'Español II',
  'Français I',
  'Chemistry',
  'World History',
  'Art & Design',
  'Geometry',
  'English 9',
  'Physics',
  'Music Theory',
  'Physical Education',
  'Computer Science',
  'Latin I',
  'Economics',
  'Tab\there "quoted" {tenant:String}',
  '+Calculus',
  '-Remedial Reading',
  'Deutsch für Anfänger',
  'Ceramics',
] as const

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function schoolId(tenant: number, k: number): string {
  switch (tenant) {
    case 0:
    case 1:
      return `sch-${pad(k + 1, 2)}`
    case 2:
      return String(100 + k)
    default:
      return `SV-${pad(k + 1, 2)}`
  }
}

function studentNumber(tenant: number, s: number): string {
  switch (tenant) {
    case 0:
    case 1:
      return `S${pad(s + 1, 5)}`
    case 2:
      return `2024${pad(s + 1, 5)}`
    default:
      return `sv-${pad(s + 1, 5)}`
  }
}

function sectionNumber(tenant: number, c: number): string {
  switch (tenant) {
    case 0:
    case 1:
      return String(100 + c)
    case 2:
      return `M-${c}`
    default:
      return `${pad(c, 4)}-A`
  }
}

/**
 * The pools of tenant `index`. `students` per tenant scales the log's record
 * counts; everything else is fixed.
 */
export function tenantPools(seed: string, index: number, students: number): TenantPools {
  const name = TENANT_NAMES[index]
  const district = DISTRICTS[index]
  if (name === undefined || district === undefined) throw new Error(`no tenant ${index}`)
  const prng = new Prng(`${seed}/pools/${name}`)
  const districtId = `D${pad(index + 1, 3)}`

  const schools: School[] = []
  for (let k = 0; k < SCHOOLS_PER_TENANT; k++) {
    schools.push({ id: schoolId(index, k), name: SCHOOL_NAMES[(k + index * 3) % SCHOOL_NAMES.length] ?? '', districtId, district })
  }
  // Partner schools: the same partner district for every tenant, so their ids collide too.
  for (let k = 0; k < PARTNER_SCHOOLS; k++) {
    schools.push({
      id: `P-${pad(k + 1, 2)}`,
      name: `Partner ${['Ridge', 'Valle', 'Côte', 'Hollow'][k] ?? 'X'} School`,
      districtId: 'D900',
      district: 'Partner Valley District',
    })
  }

  const studentList: Student[] = []
  for (let s = 0; s < students; s++) {
    const hostile = s >= 10 && s < 10 + HOSTILE_STUDENT_NAMES.length ? HOSTILE_STUDENT_NAMES[s - 10] : undefined
    const studentName = hostile ?? `${prng.pick(FAMILY_NAMES)}, ${prng.pick(GIVEN_NAMES)}`
    // One student in 25 is homed at a partner district's school (interdistrict).
    const home = s % 25 === 7 ? SCHOOLS_PER_TENANT + (s % PARTNER_SCHOOLS) : s % SCHOOLS_PER_TENANT
    const number = studentNumber(index, s)
    studentList.push({ sourcedId: `stu-${number}`, number, name: studentName, home })
  }

  const teachers: Teacher[] = []
  for (let k = 0; k < SCHOOLS_PER_TENANT * TEACHERS_PER_SCHOOL; k++) {
    teachers.push({ sourcedId: `tch-${districtId}-${pad(k + 1, 4)}`, home: k % SCHOOLS_PER_TENANT })
  }

  const courses: Course[] = []
  for (let k = 0; k < COURSES; k++) {
    courses.push({
      sourcedId: `crs-${pad(k + 1, 3)}`,
      number: `${['M', 'B', 'E', 'H', 'A'][k % 5] ?? 'X'}${pad(100 + k, 3)}`,
      name: COURSE_NAMES[k % COURSE_NAMES.length] ?? '',
      school: k % 3 === 0 ? -1 : k % SCHOOLS_PER_TENANT,
    })
  }

  const sections: Section[] = []
  for (let c = 0; c < SCHOOLS_PER_TENANT * SECTIONS_PER_SCHOOL; c++) {
    const number = sectionNumber(index, c)
    sections.push({ sourcedId: `cls-${number}`, number, school: Math.floor(c / SECTIONS_PER_SCHOOL), course: (c * 7) % COURSES })
  }

  const enrollmentSection = new Int32Array(students * ENROLLMENTS_PER_STUDENT)
  const enrollmentIds: string[] = []
  for (let s = 0; s < students; s++) {
    const student = studentList[s]
    if (student === undefined) throw new Error('unreachable')
    const homeSchool = student.home < SCHOOLS_PER_TENANT ? student.home : s % SCHOOLS_PER_TENANT
    for (let k = 0; k < ENROLLMENTS_PER_STUDENT; k++) {
      // Most sections are at the home school; one student in ten takes their last one elsewhere.
      const school =
        k === ENROLLMENTS_PER_STUDENT - 1 && s % 10 === 3
          ? (homeSchool + 1 + (s % (SCHOOLS_PER_TENANT - 1))) % SCHOOLS_PER_TENANT
          : homeSchool
      const c = school * SECTIONS_PER_SCHOOL + ((s * 7 + k * 13) % SECTIONS_PER_SCHOOL)
      const e = s * ENROLLMENTS_PER_STUDENT + k
      enrollmentSection[e] = c
      enrollmentIds.push(`enr-${student.number}-${sections[c]?.number ?? ''}`)
    }
  }

  // Section → enrollments, for cascades when a section is invalidated.
  const sectionStart = new Int32Array(sections.length + 1)
  for (const c of enrollmentSection) sectionStart[c + 1]! += 1
  for (let c = 0; c < sections.length; c++) sectionStart[c + 1]! += sectionStart[c]!
  const fill = sectionStart.slice(0, sections.length)
  const sectionEnrollments = new Int32Array(enrollmentSection.length)
  enrollmentSection.forEach((c, e) => {
    sectionEnrollments[fill[c]!++] = e
  })

  return {
    index,
    name,
    districtId,
    district,
    schools,
    ownSchools: SCHOOLS_PER_TENANT,
    students: studentList,
    teachers,
    courses,
    sections,
    terms: ['term-2024-fall', 'term-2024-q1', 'term-2024-q2', 'term-2025-spring'],
    enrollmentSection,
    enrollmentIds,
    sectionStart,
    sectionEnrollments,
  }
}

/** field, old value, new value and message of a row: pooled per kind of row. */
export interface Detail {
  readonly field: string
  readonly oldValue: string
  readonly newValue: string
  readonly message: string
}

const blank = (d: Partial<Detail>): Detail => ({ field: '', oldValue: '', newValue: '', message: '', ...d })

/** The details each kind of row draws from. */
export const DETAIL_KINDS = {
  none: [blank({})],
  rosterDeleted: [blank({}), blank({ message: 'absent from the full enrollment file' }), blank({ message: 'deleted by the source' })],
  startDate: [
    blank({ field: 'startDate', oldValue: '2024-08-26', newValue: '2024-09-03' }),
    blank({ field: 'startDate', oldValue: '2024-09-03', newValue: '2024-08-26' }),
    blank({ field: 'startDate', oldValue: '', newValue: '2024-10-01' }),
  ],
  endDate: [
    blank({ field: 'endDate', oldValue: '2025-06-01', newValue: '2025-05-30' }),
    blank({ field: 'endDate', oldValue: '2025-06-13', newValue: '2024-12-20' }),
    blank({ field: 'endDate', oldValue: '', newValue: '2025-01-24' }),
  ],
  cascadeStudent: [blank({ message: 'student deleted by the source' })],
  cascadeSection: [
    blank({ message: 'section invalidated: course deleted by the source' }),
    blank({ message: 'section invalidated: term ended' }),
  ],
  skipped: [
    blank({ field: 'email', message: 'Email is required for users with teacher or administrator roles' }),
    blank({ field: 'teacher', message: 'primary teacher is required' }),
    blank({ field: 'grades', message: "grade '14' is not in the vocabulary" }),
    blank({ field: 'dateLastModified', message: 'stale update: older than the stored record' }),
    blank({ field: 'schoolSourcedId', message: "school 'sch-99' does not exist" }),
  ],
  invalid: [
    blank({ field: 'email', newValue: 'anna@', message: "email 'anna@' is not an address" }),
    blank({ field: 'grades', newValue: 'K9', message: "grade 'K9' is outside the CEDS vocabulary; grades emptied" }),
    blank({ field: 'endDate', oldValue: '2025-06-01', newValue: '2024-01-01', message: 'endDate is before beginDate; endDate emptied' }),
    blank({ field: 'primary', newValue: 'yes', message: "primary 'yes' is not true/false" }),
    blank({ field: 'email', newValue: 'zoë@@example', message: "email 'zoë@@example' is not an address" }),
  ],
  merged: [blank({ message: 'identical duplicate; merged into the first record' })],
  excluded: [blank({ message: 'conflicting duplicate; the first record wins' })],
  userUpdated: [
    blank({ field: 'familyName', oldValue: 'familyName: Smith', newValue: 'familyName: Smyth' }),
    blank({ field: 'email', oldValue: 'email: zoe@example.org', newValue: 'email: zoë@example.org' }),
    blank({ field: 'grades', oldValue: 'grades: 09', newValue: 'grades: 10' }),
    blank({ field: 'givenName', oldValue: 'givenName: Lucia', newValue: 'givenName: Lucía' }),
    blank({ field: 'phone', oldValue: 'phone: +1 555 0100', newValue: '-' }),
    blank({
      field: 'familyName, email',
      oldValue: 'familyName: Muller, email: m@x.org',
      newValue: 'familyName: Müller, email: MÜLLER@X.ORG',
    }),
    blank({ field: 'metadata.nickname', oldValue: '', newValue: '=HYPERLINK("http://x","y")' }),
    blank({ field: 'username', oldValue: "username: o'brien", newValue: "username: O'Brien\\2" }),
  ],
  sectionUpdated: [
    blank({ field: 'Room', oldValue: 'Room: 101', newValue: 'Room: 202' }),
    blank({ field: 'Period', oldValue: 'Period: 1', newValue: 'Period: 3' }),
    blank({ field: 'Room, Period', oldValue: 'Room: Gym, Period: 2', newValue: 'Room: Salón 4, Period: 5' }),
  ],
  sectionInvalidated: [blank({ message: 'section lost its term' }), blank({ message: 'section deleted by the source' })],
  otherUpdated: [
    blank({ field: 'name', oldValue: 'name: Old Name', newValue: 'name: Nuevo Nombre' }),
    blank({ field: 'title', oldValue: 'title: Algebra', newValue: 'title: Álgebra' }),
  ],
} as const satisfies Record<string, readonly Detail[]>

export type DetailKind = keyof typeof DETAIL_KINDS

/** Every detail in one array, and where each kind starts in it. */
export const DETAILS: readonly Detail[] = Object.values(DETAIL_KINDS).flat()
export const DETAIL_START: Readonly<Record<DetailKind, number>> = (() => {
  const start: Partial<Record<DetailKind, number>> = {}
  let at = 0
  for (const [kind, list] of Object.entries(DETAIL_KINDS) as [DetailKind, readonly Detail[]][]) {
    start[kind] = at
    at += list.length
  }
  return start as Record<DetailKind, number>
})()
