/**
 * Derived views the sync log talks about: a section (class + course + terms +
 * primary teacher) and a student's roster line. Actions are found by comparing
 * a view before and after a sync, so they appear whatever caused the change.
 */
import type { Removal } from './reasons.js'
import { displayName, type ClassRecord, type CourseRecord, type EnrollmentRecord, type UserRecord } from './records.js'
import type { RosterReader } from './roster-store.js'

export interface Place {
  readonly schoolId: string
  readonly school: string
  readonly districtId: string
  readonly district: string
}

const NOWHERE: Place = { schoolId: '', school: '', districtId: '', district: '' }

/** A school org and its district (the school's parent org); read once per reader while its orgs are unchanged. */
export function placeOf(reader: RosterReader, schoolId: string): Place {
  if (schoolId === '') return NOWHERE
  let place = reader.places.get(schoolId)
  if (place === undefined) {
    place = readPlace(reader, schoolId)
    reader.places.set(schoolId, place)
  }
  return place
}

function readPlace(reader: RosterReader, schoolId: string): Place {
  const school = reader.get('org', schoolId)
  if (!school) return { schoolId, school: '', districtId: '', district: '' }
  if (school.type === 'district') return { schoolId: '', school: '', districtId: school.sourcedId, district: school.name }
  const district = school.parentSourcedId ? reader.get('org', school.parentSourcedId) : undefined
  return { schoolId, school: school.name, districtId: school.parentSourcedId ?? '', district: district?.name ?? '' }
}

/** The home school of a user: the first of its orgs that is a school (else its first org). */
export function homeSchoolId(reader: RosterReader, orgSourcedIds: readonly string[]): string {
  for (const id of orgSourcedIds) if (reader.get('org', id)?.type === 'school') return id
  return orgSourcedIds[0] ?? ''
}

export const SECTION_FIELDS = ['Section Number', 'Course Number', 'Course Name', 'Term', 'Periods', 'Room', 'Teacher Display Name'] as const
export type SectionField = (typeof SECTION_FIELDS)[number]

export interface SectionView {
  readonly classId: string
  readonly schoolId: string
  /** Null when the class's course, school and terms all exist. */
  readonly brokenReference: BrokenReference | null
  readonly fields: Readonly<Record<SectionField, string>>
}

/**
 * The primary teacher of a class: a teacher enrollment marked primary; when none
 * is marked, the teacher enrollment with the smallest sourcedId (1.1 feeds often
 * leave `primary` blank).
 */
export function primaryTeacher(reader: RosterReader, classId: string): UserRecord | undefined {
  let best: EnrollmentRecord | undefined
  for (const id of reader.related('enrollmentsByClass', classId)) {
    const e = reader.get('enrollment', id)
    if (!e || e.role !== 'teacher' || !reader.get('user', e.userSourcedId)) continue
    if (!best || (e.primary && !best.primary) || (e.primary === best.primary && e.sourcedId < best.sourcedId)) best = e
  }
  return best ? reader.get('user', best.userSourcedId) : undefined
}

type BrokenReference = Extract<Removal, { kind: 'referenceGone' }>

/** The first of a class's course, school and terms that is gone, or null. */
function brokenReference(reader: RosterReader, cls: ClassRecord): BrokenReference | null {
  if (!reader.get('course', cls.courseSourcedId)) return { kind: 'referenceGone', parent: 'course', id: cls.courseSourcedId }
  if (!reader.get('org', cls.schoolSourcedId)) return { kind: 'referenceGone', parent: 'school', id: cls.schoolSourcedId }
  for (const term of cls.termSourcedIds)
    if (!reader.get('academicSession', term)) return { kind: 'referenceGone', parent: 'term', id: term }
  return null
}

export function sectionView(reader: RosterReader, classId: string): SectionView | undefined {
  const cls = reader.get('class', classId)
  if (!cls) return undefined
  const course = reader.get('course', cls.courseSourcedId)
  const terms = cls.termSourcedIds.map((t) => reader.get('academicSession', t)?.title ?? t)
  return {
    classId,
    schoolId: cls.schoolSourcedId,
    brokenReference: brokenReference(reader, cls),
    fields: {
      'Section Number': cls.classCode ?? '',
      'Course Number': course?.courseCode ?? '',
      'Course Name': course?.title ?? '',
      Term: terms.join(', '),
      Periods: cls.periods.join(', '),
      Room: cls.location ?? '',
      'Teacher Display Name': displayName(primaryTeacher(reader, classId)),
    },
  }
}

export interface RosterView {
  readonly enrollmentId: string
  readonly classId: string
  readonly userId: string
  readonly schoolId: string
  readonly beginDate: string
  readonly endDate: string
}

/**
 * The roster lines of one reader, which does not change while they are read (a sync's
 * roster rows are written once its overlay is complete): whether each class is whole (its
 * course, school and terms exist) is looked up once per class, not once per enrollment.
 */
export class RosterLines {
  private readonly wholeClasses = new Map<string, boolean>()
  /** Per class of a line (which exists: its line would not be read otherwise), its section side. */
  private readonly sections = new Map<string, SectionSide>()
  private readonly students = new Map<string, StudentSide>()

  constructor(private readonly reader: RosterReader) {}

  /** A student's roster line as the log shows it; undefined when there is none (not a student, or the section is not valid). */
  of(enrollmentId: string): RosterView | undefined {
    return this.lineOf(enrollmentId, this.reader.get('enrollment', enrollmentId))
  }

  /** `of`, given the enrollment as this reader holds it (undefined when it holds none). */
  lineOf(enrollmentId: string, e: EnrollmentRecord | undefined): RosterView | undefined {
    const reader = this.reader
    if (!e || e.role !== 'student') return undefined
    if (!this.isWholeClass(e.classSourcedId) || !reader.get('user', e.userSourcedId)) return undefined
    return {
      enrollmentId,
      classId: e.classSourcedId,
      userId: e.userSourcedId,
      schoolId: e.schoolSourcedId,
      beginDate: e.beginDate ?? '',
      endDate: e.endDate ?? '',
    }
  }

  /**
   * The columns of a row about the roster line (enrollmentContext's): a class's side and a
   * student's side are read once each, and shared by the rows of its roster lines.
   */
  context(line: RosterView): RowContext {
    let section = this.sections.get(line.classId)
    if (section === undefined) {
      section = sectionSide(this.reader, this.reader.get('class', line.classId), line.schoolId)
      this.sections.set(line.classId, section)
    }
    let student = this.students.get(line.userId)
    if (student === undefined) {
      student = studentSide(this.reader, this.reader.get('user', line.userId))
      this.students.set(line.userId, student)
    }
    return enrollmentRow(section, student)
  }

  private isWholeClass(classId: string): boolean {
    let whole = this.wholeClasses.get(classId)
    if (whole === undefined) {
      const cls = this.reader.get('class', classId)
      whole = cls !== undefined && brokenReference(this.reader, cls) === null
      this.wholeClasses.set(classId, whole)
    }
    return whole
  }
}

/** The columns of a log row that place its record: the student, the section, the serving and home schools. */
export interface RowContext {
  readonly studentNumber: string
  readonly studentName: string
  readonly courseNumber: string
  readonly courseName: string
  readonly sectionNumber: string
  readonly serving: Place
  readonly home: Place
}

/** A row that places nothing (a term, a district). */
export const NO_CONTEXT: RowContext = {
  studentNumber: '',
  studentName: '',
  courseNumber: '',
  courseName: '',
  sectionNumber: '',
  serving: NOWHERE,
  home: NOWHERE,
}

/** A school's row: the serving side only. */
export function servingContext(place: Place): RowContext {
  return { studentNumber: '', studentName: '', courseNumber: '', courseName: '', sectionNumber: '', serving: place, home: NOWHERE }
}

/** Course number and title plus the serving side of a course. */
export function courseContext(courseNumber: string, courseName: string, serving: Place): RowContext {
  return { studentNumber: '', studentName: '', courseNumber, courseName, sectionNumber: '', serving, home: NOWHERE }
}

/** Student number and name (students only) plus the home side of a user. */
export function userContext(studentNumber: string, studentName: string, home: Place): RowContext {
  return { studentNumber, studentName, courseNumber: '', courseName: '', sectionNumber: '', serving: NOWHERE, home }
}

/** A class's row: its course's number and title, its section number and serving side. */
export function classContext(course: CourseRecord | undefined, sectionNumber: string, serving: Place): RowContext {
  return {
    studentNumber: '',
    studentName: '',
    courseNumber: course?.courseCode ?? '',
    courseName: course?.title ?? '',
    sectionNumber,
    serving,
    home: NOWHERE,
  }
}

/** Course and section numbers plus the serving side of a class. */
export function sectionContext(reader: RosterReader, cls: ClassRecord | undefined): RowContext {
  if (!cls) return NO_CONTEXT
  return classContext(reader.get('course', cls.courseSourcedId), cls.classCode ?? '', placeOf(reader, cls.schoolSourcedId))
}

/** The section side of an enrollment's row: its class's course and section number, and the serving school. */
interface SectionSide {
  readonly courseNumber: string
  readonly courseName: string
  readonly sectionNumber: string
  readonly serving: Place
}

/** The student side of an enrollment's row: number and name (students only), and the home school. */
interface StudentSide {
  readonly studentNumber: string
  readonly studentName: string
  readonly home: Place
}

function sectionSide(reader: RosterReader, cls: ClassRecord | undefined, schoolId: string): SectionSide {
  const course = cls ? reader.get('course', cls.courseSourcedId) : undefined
  return {
    courseNumber: course?.courseCode ?? '',
    courseName: course?.title ?? '',
    sectionNumber: cls?.classCode ?? '',
    serving: cls ? placeOf(reader, cls.schoolSourcedId) : schoolId ? placeOf(reader, schoolId) : NOWHERE,
  }
}

function studentSide(reader: RosterReader, user: UserRecord | undefined): StudentSide {
  const student = user?.role === 'student'
  return {
    studentNumber: student ? (user.identifier ?? '') : '',
    studentName: student ? displayName(user) : '',
    home: user ? placeOf(reader, homeSchoolId(reader, user.orgSourcedIds)) : NOWHERE,
  }
}

function enrollmentRow(section: SectionSide, student: StudentSide): RowContext {
  return {
    studentNumber: student.studentNumber,
    studentName: student.studentName,
    courseNumber: section.courseNumber,
    courseName: section.courseName,
    sectionNumber: section.sectionNumber,
    serving: section.serving,
    home: student.home,
  }
}

/** Every column an enrollment can fill: its student (number and name for a student) and home side, its section and serving side. */
export function enrollmentContext(reader: RosterReader, classId: string, userId: string, schoolId: string): RowContext {
  return enrollmentRow(sectionSide(reader, reader.get('class', classId), schoolId), studentSide(reader, reader.get('user', userId)))
}
