/**
 * Records of the model as OneRoster 1.1 rows (column name -> text, lists
 * comma-joined), the one form both writers start from: the CSV writer prints
 * them, the NDJSON writer turns them into change-event fields.
 */
import type { Row } from '../demo/write-oneroster.js'
import { SCHOOL_YEAR, TERMS } from './catalog.js'
import type { Course, DistrictShape, Person, SchoolShape, Section } from './district.js'
import type { Enrollment } from './school.js'

export type { Row } from '../demo/write-oneroster.js'

export function orgRows(d: DistrictShape): Row[] {
  const { neighbour } = d
  return [
    { sourcedId: d.id, name: d.name, type: 'district', identifier: d.identifier, parentSourcedId: '' },
    ...d.schools.map((s) => ({ sourcedId: s.id, name: s.name, type: 'school', identifier: s.identifier, parentSourcedId: d.id })),
    {
      sourcedId: neighbour.district.id,
      name: neighbour.district.name,
      type: 'district',
      identifier: neighbour.district.identifier,
      parentSourcedId: '',
    },
    {
      sourcedId: neighbour.school.id,
      name: neighbour.school.name,
      type: 'school',
      identifier: neighbour.school.identifier,
      parentSourcedId: neighbour.district.id,
    },
  ]
}

export function sessionRows(d: DistrictShape): Row[] {
  return TERMS.map((t) => ({
    sourcedId: d.sessions[t.key],
    title: t.title,
    type: t.type,
    startDate: t.start,
    endDate: t.end,
    parentSourcedId: t.key === 'year' ? '' : d.sessions.year,
    schoolYear: SCHOOL_YEAR,
  }))
}

function gradesOf(shape: SchoolShape, course: Course): string {
  return (course.spec.grades.length > 0 ? course.spec.grades : shape.level.grades).join(',')
}

export function courseRow(d: DistrictShape, shape: SchoolShape, course: Course): Row {
  return {
    sourcedId: course.id,
    schoolYearSourcedId: d.sessions.year,
    title: course.title,
    courseCode: course.spec.code,
    grades: gradesOf(shape, course),
    orgSourcedId: shape.id,
    subjects: course.spec.subject,
  }
}

export function classRow(d: DistrictShape, shape: SchoolShape, section: Section): Row {
  const course = shape.courses[section.course]!
  return {
    sourcedId: section.id,
    title: `${course.title} - Period ${section.period}`,
    grades: gradesOf(shape, course),
    courseSourcedId: course.id,
    classCode: section.classCode,
    classType: course.spec.classType,
    location: section.location,
    schoolSourcedId: shape.id,
    termSourcedIds: section.terms.map((t) => d.sessions[t.key]).join(','),
    subjects: course.spec.subject,
    periods: section.period,
  }
}

export function userRow(p: Person): Row {
  return {
    sourcedId: p.id,
    enabledUser: 'true',
    orgSourcedIds: p.orgIds.join(','),
    role: p.role,
    username: p.username,
    givenName: p.givenName,
    familyName: p.familyName,
    middleName: p.middleName,
    identifier: p.identifier,
    email: p.badEmail ? `${p.email.split('@')[0] ?? p.username}@` : p.email,
    grades: p.grade,
  }
}

export function enrollmentRow(e: Enrollment, userId: string): Row {
  return {
    sourcedId: e.id,
    classSourcedId: e.classId,
    schoolSourcedId: e.schoolId,
    userSourcedId: userId,
    role: 'student',
    primary: 'false',
    beginDate: e.begin,
    endDate: e.end,
  }
}

export function teacherEnrollmentRow(shape: SchoolShape, section: Section): Row {
  const teacher = shape.teachers[section.assignment.teacher]!
  return {
    sourcedId: section.assignment.enrollmentId,
    classSourcedId: section.id,
    schoolSourcedId: shape.id,
    userSourcedId: teacher.id,
    role: 'teacher',
    primary: 'true',
    beginDate: section.assignment.begin,
    endDate: section.terms[section.terms.length - 1]!.end,
  }
}
