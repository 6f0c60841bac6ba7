/**
 * The rostering files, in the order their events are emitted (parents first), and
 * how a row of each becomes the entity's fields (docs/oneroster.md#columns).
 *
 * Required columns are those whose value the spec requires; the other standard
 * columns may be left out of the header (they read as null). `password`, `sms`,
 * `phone`, `userIds` and other columns without a field are never read.
 */
import type {
  AcademicSessionFields,
  ClassFields,
  CourseFields,
  EnrollmentFields,
  EntityFieldsMap,
  EntityType,
  OrgFields,
  UserFields,
} from '../events/change-event.js'
import type { RowValues } from './columns.js'
import type { OneRosterVersion } from './manifest.js'
import type { UserRoles } from './user-roles.js'

export interface FieldContext {
  /** 1.2: roles.csv by user; null when roles.csv is not read. */
  readonly roles: UserRoles | null
}

export interface EntityFile<E extends EntityType> {
  readonly entity: E
  /** Manifest name; the file is `<name>.csv`. */
  readonly name: string
  readonly requiredColumns: (version: OneRosterVersion) => readonly string[]
  readonly fields: (row: RowValues, ctx: FieldContext) => EntityFieldsMap[E]
}

export type AnyEntityFile = { [E in EntityType]: EntityFile<E> }[EntityType]

const orgs: EntityFile<'org'> = {
  entity: 'org',
  name: 'orgs',
  requiredColumns: () => ['sourcedId', 'name', 'type'],
  fields: (r): OrgFields => ({
    name: r.text('name'),
    type: r.text('type'),
    identifier: r.text('identifier'),
    parentSourcedId: r.text('parentSourcedId'),
  }),
}

const academicSessions: EntityFile<'academicSession'> = {
  entity: 'academicSession',
  name: 'academicSessions',
  requiredColumns: () => ['sourcedId', 'title', 'type', 'startDate', 'endDate', 'schoolYear'],
  fields: (r): AcademicSessionFields => ({
    title: r.text('title'),
    type: r.text('type'),
    startDate: r.text('startDate'),
    endDate: r.text('endDate'),
    parentSourcedId: r.text('parentSourcedId'),
    schoolYear: r.text('schoolYear'),
  }),
}

const courses: EntityFile<'course'> = {
  entity: 'course',
  name: 'courses',
  requiredColumns: () => ['sourcedId', 'title', 'orgSourcedId'],
  fields: (r): CourseFields => ({
    title: r.text('title'),
    schoolYearSourcedId: r.text('schoolYearSourcedId'),
    courseCode: r.text('courseCode'),
    grades: r.list('grades'),
    orgSourcedId: r.text('orgSourcedId'),
    subjects: r.list('subjects'),
  }),
}

/** The user's orgs: `primaryOrgSourcedId`, then those of roles.csv, then `orgSourcedIds`, without repeats. */
function userOrgs(primaryOrg: string | null, fromRoles: readonly string[], listed: readonly string[]): readonly string[] {
  // A 1.1 user (the common case) has only its listed orgs, most often one: no set needed.
  if (primaryOrg === null && fromRoles.length === 0 && listed.length < 2) return listed
  const orgs = new Set<string>()
  if (primaryOrg !== null) orgs.add(primaryOrg)
  for (const org of fromRoles) orgs.add(org)
  for (const org of listed) orgs.add(org)
  return [...orgs]
}

const users: EntityFile<'user'> = {
  entity: 'user',
  name: 'users',
  requiredColumns: (version) =>
    version === '1.1'
      ? ['sourcedId', 'enabledUser', 'orgSourcedIds', 'role', 'username', 'givenName', 'familyName']
      : ['sourcedId', 'enabledUser', 'username', 'givenName', 'familyName'],
  fields: (r, ctx): UserFields => {
    const primaryOrg = r.text('primaryOrgSourcedId')
    const fromRoles = ctx.roles?.resolve(r.text('sourcedId') ?? '', primaryOrg) ?? null
    return {
      enabledUser: r.text('enabledUser'),
      role: fromRoles?.role ?? r.text('role'),
      orgSourcedIds: userOrgs(primaryOrg, fromRoles?.orgSourcedIds ?? [], r.list('orgSourcedIds')),
      username: r.text('username'),
      givenName: r.text('givenName'),
      familyName: r.text('familyName'),
      middleName: r.text('middleName'),
      identifier: r.text('identifier'),
      email: r.text('email'),
      grades: r.list('grades'),
    }
  },
}

const classes: EntityFile<'class'> = {
  entity: 'class',
  name: 'classes',
  requiredColumns: () => ['sourcedId', 'title', 'courseSourcedId', 'classType', 'schoolSourcedId', 'termSourcedIds'],
  fields: (r): ClassFields => ({
    title: r.text('title'),
    courseSourcedId: r.text('courseSourcedId'),
    classCode: r.text('classCode'),
    classType: r.text('classType'),
    location: r.text('location'),
    schoolSourcedId: r.text('schoolSourcedId'),
    termSourcedIds: r.list('termSourcedIds'),
    periods: r.list('periods'),
    grades: r.list('grades'),
    subjects: r.list('subjects'),
  }),
}

const enrollments: EntityFile<'enrollment'> = {
  entity: 'enrollment',
  name: 'enrollments',
  requiredColumns: () => ['sourcedId', 'classSourcedId', 'schoolSourcedId', 'userSourcedId', 'role'],
  fields: (r): EnrollmentFields => ({
    classSourcedId: r.text('classSourcedId'),
    schoolSourcedId: r.text('schoolSourcedId'),
    userSourcedId: r.text('userSourcedId'),
    role: r.text('role'),
    primary: r.text('primary'),
    beginDate: r.text('beginDate'),
    endDate: r.text('endDate'),
  }),
}

/** Emission order: each file's references point to files read before it. */
export const ENTITY_FILES: readonly AnyEntityFile[] = [orgs, academicSessions, courses, users, classes, enrollments]

/** roles.csv (1.2), read into a `UserRoles` map before users.csv. */
export const ROLES_FILE = { name: 'roles', requiredColumns: ['sourcedId', 'userSourcedId', 'roleType', 'role', 'orgSourcedId'] } as const
