/**
 * The shape of a district: its identity, sessions, schools, courses, sections
 * and staff. Everything here is a function of (seed, district index, school
 * index), so a neighbour's identity or a partner school's sections can be
 * computed without generating that district or school.
 */
import {
  FAMILY_NAMES,
  GIVEN_NAMES,
  LEVELS,
  PLACE_NAMES,
  SCHOOL_NAME_STEMS,
  SECTION_SIZE,
  SECTIONS_PER_TEACHER,
  TERMS,
  levelOf,
  type CourseSpec,
  type LevelSpec,
  type Term,
} from './catalog.js'
import { PURPOSE, Prng, guid, hash32 } from './prng.js'
import { NIGHTLY_RATES, type Scale } from './scales.js'

/** Share of a high school's students who visit from the neighbouring district, unless the scale's plan says otherwise. */
const VISITOR_SHARE = 0.004

export interface OrgIdentity {
  readonly id: string
  readonly name: string
  readonly identifier: string
}

export interface DistrictIdentity extends OrgIdentity {
  readonly index: number
  /** The tenant of its syncs, e.g. `maple-ridge-usd`. */
  readonly tenant: string
  readonly domain: string
}

export interface SchoolIdentity extends OrgIdentity {
  readonly index: number
  readonly level: LevelSpec
  readonly code: string
}

export interface Person {
  readonly id: string
  readonly role: 'student' | 'teacher' | 'administrator'
  givenName: string
  familyName: string
  readonly middleName: string
  readonly identifier: string
  readonly username: string
  readonly email: string
  /** Student grade; '' for staff. */
  readonly grade: string
  /** Home school first, then schools the person is also served at. */
  readonly orgIds: string[]
  active: boolean
  /** Malformed email in every export (a persistent data-quality problem). */
  readonly badEmail: boolean
}

export interface Course {
  readonly id: string
  readonly spec: CourseSpec
  title: string
}

export interface TeacherAssignment {
  readonly enrollmentId: string
  readonly teacher: number
  readonly begin: string
}

export interface Section {
  readonly id: string
  readonly course: number
  readonly classCode: string
  readonly period: string
  readonly terms: readonly Term[]
  location: string
  assignment: TeacherAssignment
}

export interface SchoolShape extends SchoolIdentity {
  readonly targetStudents: number
  readonly courses: Course[]
  readonly sections: Section[]
  /** Section indices of each course. */
  readonly sectionsByCourse: readonly number[][]
  readonly teachers: Person[]
  readonly admins: Person[]
}

export interface DistrictShape extends DistrictIdentity {
  readonly seed: number
  /** Share of a high school's students who visit from the neighbour, and of students with a malformed email. */
  readonly visitorShare: number
  readonly badEmailShare: number
  readonly sessions: Readonly<Record<Term['key'], string>>
  readonly schools: readonly SchoolShape[]
  /** The district visiting students come from, and their home school there. */
  readonly neighbour: { readonly district: DistrictIdentity; readonly school: SchoolIdentity }
}

export function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '')
}

function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
}

/** The district's identity; its place name comes from the seed unless `planned`. */
export function districtIdentity(seed: number, index: number, planned?: string): DistrictIdentity {
  const offset = hash32([seed, PURPOSE.district]) % PLACE_NAMES.length
  const place = planned ?? PLACE_NAMES[(offset + index) % PLACE_NAMES.length]!
  const round = planned === undefined ? Math.floor(index / PLACE_NAMES.length) : 0
  const placeName = round === 0 ? place : `${place} ${round + 1}`
  const name = `${placeName} Unified School District`
  return {
    index,
    id: guid([seed, PURPOSE.district, index]),
    name,
    identifier: String(600000 + ((hash32([seed, PURPOSE.district, index, 1]) % 90000) * 10 + (index % 10))).padStart(7, '0'),
    tenant: `${slug(placeName)}-usd`,
    domain: `${ascii(placeName)}usd.org`,
  }
}

export function schoolIdentity(
  seed: number,
  district: DistrictIdentity,
  index: number,
  level: LevelSpec = LEVELS[levelOf(index)],
): SchoolIdentity {
  const stemOffset = hash32([seed, PURPOSE.school, district.index]) % SCHOOL_NAME_STEMS.length
  const stem = SCHOOL_NAME_STEMS[(stemOffset + index) % SCHOOL_NAME_STEMS.length]!
  const round = Math.floor(index / SCHOOL_NAME_STEMS.length)
  const name = `${stem}${round === 0 ? '' : ` ${round + 1}`} ${level.label}`
  return {
    index,
    id: guid([seed, PURPOSE.school, district.index, index]),
    name,
    identifier: `${district.identifier}${String(index + 1).padStart(5, '0')}`,
    level,
    code: `${stem.slice(0, 3).toUpperCase()}${index + 1}`,
  }
}

export function makeStaff(
  seed: number,
  d: number,
  s: number,
  n: number,
  role: 'teacher' | 'administrator',
  schoolId: string,
  domain: string,
  rng: Prng,
): Person {
  const givenName = rng.pick(GIVEN_NAMES)
  const familyName = rng.pick(FAMILY_NAMES)
  const number = role === 'teacher' ? n : 900 + n
  const username = `${ascii(givenName).slice(0, 1)}${ascii(familyName)}${s + 1}${number}`
  return {
    id: guid([seed, role === 'teacher' ? PURPOSE.teacher : PURPOSE.admin, d, s, n]),
    role,
    givenName,
    familyName,
    middleName: '',
    identifier: `E${d + 1}${String(s + 1).padStart(2, '0')}${String(number).padStart(3, '0')}`,
    username,
    email: `${username}@${domain}`,
    grade: '',
    orgIds: [schoolId],
    active: true,
    badEmail: false,
  }
}

function schoolShape(
  seed: number,
  district: DistrictIdentity,
  index: number,
  level: LevelSpec,
  districtTotal: number,
  weights: readonly number[],
): SchoolShape {
  const identity = schoolIdentity(seed, district, index, level)
  const rng = new Prng(seed, [PURPOSE.schoolShape, district.index, index])
  const weight = weights[index]!
  const weightSum = weights.reduce((a, b) => a + b, 0)
  const targetStudents = Math.max(12, Math.round(((districtTotal * weight) / weightSum) * (0.8 + rng.next() * 0.4)))
  const perGrade = targetStudents / level.grades.length
  const electiveCourses = level.courses.filter((c) => !c.core).length

  const courses: Course[] = level.courses.map((spec, c) => ({
    id: guid([seed, PURPOSE.course, district.index, index, c]),
    spec,
    title: spec.title,
  }))
  const sections: Section[] = []
  const sectionsByCourse: number[][] = courses.map(() => [])
  const staffCount = (n: number): number => Math.max(1, Math.ceil(n / SECTIONS_PER_TEACHER))
  // First the section list, then teachers for it (a teacher's sections are consecutive: one subject each).
  const plan: { course: number; term: readonly Term[] }[] = []
  courses.forEach((course, c) => {
    const expected = course.spec.core ? perGrade * course.spec.grades.length : (targetStudents * level.electives) / electiveCourses
    const count = Math.max(1, Math.round(expected / SECTION_SIZE))
    for (let k = 0; k < count; k++) {
      const terms = course.spec.semester ? [k % 2 === 0 ? TERMS[1]! : TERMS[2]!] : [TERMS[1]!, TERMS[2]!]
      plan.push({ course: c, term: terms })
    }
  })
  const teachers = Array.from({ length: staffCount(plan.length) }, (_, t) =>
    makeStaff(seed, district.index, index, t, 'teacher', identity.id, district.domain, rng),
  )
  const admins = Array.from({ length: 2 }, (_, a) =>
    makeStaff(seed, district.index, index, a, 'administrator', identity.id, district.domain, rng),
  )
  const perCourse = new Map<number, number>()
  plan.forEach(({ course, term }, k) => {
    const n = (perCourse.get(course) ?? 0) + 1
    perCourse.set(course, n)
    const teacher = Math.floor(k / SECTIONS_PER_TEACHER) % teachers.length
    const id = guid([seed, PURPOSE.section, district.index, index, k])
    sectionsByCourse[course]!.push(sections.length)
    sections.push({
      id,
      course,
      classCode: `${courses[course]!.spec.code}-${String(n).padStart(2, '0')}`,
      period: String((k % level.periods) + 1),
      terms: term,
      location: `Room ${100 + ((k * 7 + rng.int(0, 6)) % 240)}`,
      assignment: {
        enrollmentId: guid([seed, PURPOSE.teacherEnrollment, district.index, index, k, teacher, 1]),
        teacher,
        begin: term[0]!.start,
      },
    })
  })
  return { ...identity, targetStudents, courses, sections, sectionsByCourse, teachers, admins }
}

/** The district's shape; people (students, enrollments) are built per school by school.ts. */
export function districtShape(seed: number, scale: Scale, index: number): DistrictShape {
  const { plan } = scale
  const identity = districtIdentity(seed, index, plan?.place)
  const sessions = {
    year: guid([seed, PURPOSE.session, index, 0]),
    s1: guid([seed, PURPOSE.session, index, 1]),
    s2: guid([seed, PURPOSE.session, index, 2]),
  }
  const levels = Array.from({ length: scale.schoolsPerDistrict }, (_, s) => LEVELS[plan?.levels[s] ?? levelOf(s)])
  const weights = levels.map((l) => l.weight)
  const total = scale.schoolsPerDistrict * scale.studentsPerSchool
  const schools = levels.map((level, s) => schoolShape(seed, identity, s, level, total, weights))
  const neighbourIndex = scale.districts > 1 ? (index + 1) % scale.districts : index + 1
  const neighbourDistrict = districtIdentity(seed, neighbourIndex, plan?.neighbourPlace)
  // School 2 of every district is a high school (catalog.ts levelOf).
  const neighbour = { district: neighbourDistrict, school: schoolIdentity(seed, neighbourDistrict, 2, LEVELS.high) }
  return {
    ...identity,
    seed,
    sessions,
    schools,
    neighbour,
    visitorShare: plan?.visitorShare ?? VISITOR_SHARE,
    badEmailShare: plan?.persistentBadEmail ?? NIGHTLY_RATES.persistentBadEmail,
  }
}

/** Another high school of the district than `s` (for cross-site electives), if any. */
export function partnerHighSchool(d: DistrictShape, s: number): SchoolShape | undefined {
  const n = d.schools.length
  for (let k = 1; k < n; k++) {
    const other = d.schools[(s + k) % n]!
    if (other.level.level === 'high') return other
  }
  return undefined
}
