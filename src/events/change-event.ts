/**
 * Change events: the input contract of synclog.
 *
 * A SIS (or the OneRoster importer acting for one) publishes these. Record fields
 * travel as the SIS wrote them (strings, lists of strings): checking them is the
 * fold's job, because a bad field is an *outcome* the district must see in the
 * sync log (Skipped / Invalid), not a transport error. The Avro schema in
 * `schemas/change-event.avsc` is the wire form of exactly these types
 * (see `src/events/avro.ts` and its round-trip test).
 */

export const ENTITY_TYPES = ['org', 'academicSession', 'course', 'user', 'class', 'enrollment'] as const
/** OneRoster entity types, in the order their references resolve (parents first). */
export type EntityType = (typeof ENTITY_TYPES)[number]

export type SyncMode = 'full' | 'delta'
export type RecordOp = 'upsert' | 'delete'

/** Where a record came from, so an error can name the file and line. */
export interface SourcePosition {
  readonly file: string
  readonly line: number
}

interface EventMeta {
  /** Unique per event; a redelivered id has no effect. */
  readonly eventId: string
  /** The serving district whose SIS publishes the data. */
  readonly tenant: string
  readonly syncId: string
  /** Source application, e.g. `oneroster-csv`, `sis-nightly`. */
  readonly app: string
  /** ISO-8601 instant (UTC) at which the SIS produced the change. */
  readonly occurredAt: string
}

export interface SyncStarted extends EventMeta {
  readonly type: 'SyncStarted'
  /** Per entity type: `full` (absent records are deleted at the end) or `delta`. Types not listed are not part of the sync. */
  readonly modes: Readonly<Partial<Record<EntityType, SyncMode>>>
}

export interface SyncEnded extends EventMeta {
  readonly type: 'SyncEnded'
}

/** The source could not complete the sync (unreadable input, bad manifest, missing file). */
export interface SyncFailed extends EventMeta {
  readonly type: 'SyncFailed'
  readonly reason: string
}

/** A reviewer's decision about a sync that is On Hold. */
export interface SyncApproved extends EventMeta {
  readonly type: 'SyncApproved'
  readonly by: string
}

export interface SyncRejected extends EventMeta {
  readonly type: 'SyncRejected'
  readonly by: string
}

// ---- record payloads (OneRoster field names; every scalar is the raw text, null when absent) ----

export interface OrgFields {
  readonly name: string | null
  readonly type: string | null
  readonly identifier: string | null
  readonly parentSourcedId: string | null
}

export interface AcademicSessionFields {
  readonly title: string | null
  readonly type: string | null
  readonly startDate: string | null
  readonly endDate: string | null
  readonly parentSourcedId: string | null
  readonly schoolYear: string | null
}

export interface CourseFields {
  readonly title: string | null
  readonly schoolYearSourcedId: string | null
  readonly courseCode: string | null
  readonly grades: readonly string[]
  readonly orgSourcedId: string | null
  readonly subjects: readonly string[]
}

export interface UserFields {
  readonly enabledUser: string | null
  /** Home school first (1.2: the primary role's org). */
  readonly orgSourcedIds: readonly string[]
  readonly role: string | null
  readonly username: string | null
  readonly givenName: string | null
  readonly familyName: string | null
  readonly middleName: string | null
  /** Student number / staff number shown in the log. */
  readonly identifier: string | null
  readonly email: string | null
  readonly grades: readonly string[]
}

export interface ClassFields {
  readonly title: string | null
  readonly courseSourcedId: string | null
  readonly classCode: string | null
  readonly classType: string | null
  readonly location: string | null
  readonly schoolSourcedId: string | null
  readonly termSourcedIds: readonly string[]
  readonly periods: readonly string[]
  readonly grades: readonly string[]
  readonly subjects: readonly string[]
}

export interface EnrollmentFields {
  readonly classSourcedId: string | null
  readonly schoolSourcedId: string | null
  readonly userSourcedId: string | null
  readonly role: string | null
  readonly primary: string | null
  readonly beginDate: string | null
  readonly endDate: string | null
}

export interface EntityFieldsMap {
  readonly org: OrgFields
  readonly academicSession: AcademicSessionFields
  readonly course: CourseFields
  readonly user: UserFields
  readonly class: ClassFields
  readonly enrollment: EnrollmentFields
}

interface RecordChangedOf<E extends EntityType> extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: E
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster `dateLastModified` as sent (ISO-8601), used to refuse stale updates. */
  readonly dateLastModified: string | null
  /** The record's fields; on `delete` they may be partly or wholly null. */
  readonly fields: EntityFieldsMap[E]
  /** `metadata.*` extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

export type RecordChanged = { [E in EntityType]: RecordChangedOf<E> }[EntityType]

/**
 * A record the source could not even turn into fields (broken CSV row, wrong
 * column count, over-long field). It still gets its outcome: Skipped.
 */
export interface RecordUnreadable extends EventMeta {
  readonly type: 'RecordUnreadable'
  readonly entity: EntityType
  /** Best effort: the sourcedId if one could be read. */
  readonly sourcedId: string | null
  readonly field: string
  readonly message: string
  readonly source: SourcePosition | null
}

export type ChangeEvent =
  | SyncStarted
  | SyncEnded
  | SyncFailed
  | SyncApproved
  | SyncRejected
  | RecordChanged
  | RecordUnreadable

export type ChangeEventType = ChangeEvent['type']

/** Empty field sets, handy for deletes and for building events. */
export const EMPTY_FIELDS: EntityFieldsMap = {
  org: { name: null, type: null, identifier: null, parentSourcedId: null },
  academicSession: { title: null, type: null, startDate: null, endDate: null, parentSourcedId: null, schoolYear: null },
  course: { title: null, schoolYearSourcedId: null, courseCode: null, grades: [], orgSourcedId: null, subjects: [] },
  user: {
    enabledUser: null, orgSourcedIds: [], role: null, username: null, givenName: null, familyName: null,
    middleName: null, identifier: null, email: null, grades: [],
  },
  class: {
    title: null, courseSourcedId: null, classCode: null, classType: null, location: null, schoolSourcedId: null,
    termSourcedIds: [], periods: [], grades: [], subjects: [],
  },
  enrollment: { classSourcedId: null, schoolSourcedId: null, userSourcedId: null, role: null, primary: null, beginDate: null, endDate: null },
}

/** Field names of each entity, in OneRoster column order (list fields included). */
export const ENTITY_FIELD_NAMES: { readonly [E in EntityType]: readonly (keyof EntityFieldsMap[E] & string)[] } = {
  org: Object.keys(EMPTY_FIELDS.org) as (keyof OrgFields & string)[],
  academicSession: Object.keys(EMPTY_FIELDS.academicSession) as (keyof AcademicSessionFields & string)[],
  course: Object.keys(EMPTY_FIELDS.course) as (keyof CourseFields & string)[],
  user: Object.keys(EMPTY_FIELDS.user) as (keyof UserFields & string)[],
  class: Object.keys(EMPTY_FIELDS.class) as (keyof ClassFields & string)[],
  enrollment: Object.keys(EMPTY_FIELDS.enrollment) as (keyof EnrollmentFields & string)[],
}

/** Which fields of each entity are lists (arrays of strings). */
export const LIST_FIELDS: { readonly [E in EntityType]: readonly string[] } = {
  org: [],
  academicSession: [],
  course: ['grades', 'subjects'],
  user: ['orgSourcedIds', 'grades'],
  class: ['termSourcedIds', 'periods', 'grades', 'subjects'],
  enrollment: [],
}
