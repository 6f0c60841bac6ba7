// Generated from schemas/change-event.avsc by scripts/event-types.ts (npm run gen:types); do not edit.

export const ENTITY_TYPES = ['org', 'academicSession', 'course', 'user', 'class', 'enrollment'] as const
export type EntityType = (typeof ENTITY_TYPES)[number]

/** The fields every change event carries (the top-level fields of the schema). */
interface EventMeta {
  /** Unique per event; a redelivered id has no effect. */
  readonly eventId: string
  /** The serving district whose SIS publishes the data. */
  readonly tenant: string
  readonly syncId: string
  /** Source application, e.g. oneroster-csv, sis-nightly. */
  readonly app: string
  /** ISO-8601 instant (UTC) at which the SIS produced the change. */
  readonly occurredAt: string
}

export const SYNC_MODES = ['full', 'delta'] as const
export type SyncMode = (typeof SYNC_MODES)[number]

export interface SyncModes {
  readonly org?: SyncMode
  readonly academicSession?: SyncMode
  readonly course?: SyncMode
  readonly user?: SyncMode
  readonly class?: SyncMode
  readonly enrollment?: SyncMode
}

export interface SyncStarted extends EventMeta {
  readonly type: 'SyncStarted'
  /** Per entity type: full or delta; null = not part of the sync. */
  readonly modes: SyncModes
  /** Compute the sync without applying it: it ends in Preview, for a reviewer to apply or discard. */
  readonly preview?: boolean
}

export interface SyncEnded extends EventMeta {
  readonly type: 'SyncEnded'
}

export interface SyncFailed extends EventMeta {
  readonly type: 'SyncFailed'
  readonly reason: string
}

/** A reviewer applies a sync On Hold or in Preview. */
export interface SyncApproved extends EventMeta {
  readonly type: 'SyncApproved'
  readonly by: string
  /** Why; required by synclog's API and CLI. */
  readonly reason?: string
}

/** A reviewer discards a sync On Hold or in Preview. */
export interface SyncRejected extends EventMeta {
  readonly type: 'SyncRejected'
  readonly by: string
  /** Why; required by synclog's API and CLI. */
  readonly reason?: string
}

/** Where a record came from (file and line). */
export interface SourcePosition {
  readonly file: string
  readonly line: number
}

/** A record the source could not turn into fields; its outcome is Skipped. */
export interface RecordUnreadable extends EventMeta {
  readonly type: 'RecordUnreadable'
  readonly entity: EntityType
  /** Best effort: the sourcedId if one could be read. */
  readonly sourcedId: string | null
  readonly field: string
  readonly message: string
  readonly source: SourcePosition | null
}

export const RECORD_OPS = ['upsert', 'delete'] as const
export type RecordOp = (typeof RECORD_OPS)[number]

/** Every field of the entity as the SIS wrote it; null when absent. */
export interface OrgFields {
  readonly name: string | null
  readonly type: string | null
  readonly identifier: string | null
  readonly parentSourcedId: string | null
}

/** An org record was upserted or deleted (RecordChanged with entity 'org'). */
export interface OrgChanged extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: 'org'
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster dateLastModified as sent (ISO-8601). */
  readonly dateLastModified: string | null
  readonly fields: OrgFields
  /** metadata.* extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

/** Every field of the entity as the SIS wrote it; null when absent. */
export interface AcademicSessionFields {
  readonly title: string | null
  readonly type: string | null
  readonly startDate: string | null
  readonly endDate: string | null
  readonly parentSourcedId: string | null
  readonly schoolYear: string | null
}

/** An academicSession record was upserted or deleted (RecordChanged with entity 'academicSession'). */
export interface AcademicSessionChanged extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: 'academicSession'
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster dateLastModified as sent (ISO-8601). */
  readonly dateLastModified: string | null
  readonly fields: AcademicSessionFields
  /** metadata.* extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

/** Every field of the entity as the SIS wrote it; null when absent. */
export interface CourseFields {
  readonly title: string | null
  readonly schoolYearSourcedId: string | null
  readonly courseCode: string | null
  readonly grades: readonly string[]
  readonly orgSourcedId: string | null
  readonly subjects: readonly string[]
}

/** A course record was upserted or deleted (RecordChanged with entity 'course'). */
export interface CourseChanged extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: 'course'
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster dateLastModified as sent (ISO-8601). */
  readonly dateLastModified: string | null
  readonly fields: CourseFields
  /** metadata.* extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

/** Every field of the entity as the SIS wrote it; null when absent. */
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

/** A user record was upserted or deleted (RecordChanged with entity 'user'). */
export interface UserChanged extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: 'user'
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster dateLastModified as sent (ISO-8601). */
  readonly dateLastModified: string | null
  readonly fields: UserFields
  /** metadata.* extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

/** Every field of the entity as the SIS wrote it; null when absent. */
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

/** A class record was upserted or deleted (RecordChanged with entity 'class'). */
export interface ClassChanged extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: 'class'
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster dateLastModified as sent (ISO-8601). */
  readonly dateLastModified: string | null
  readonly fields: ClassFields
  /** metadata.* extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

/** Every field of the entity as the SIS wrote it; null when absent. */
export interface EnrollmentFields {
  readonly classSourcedId: string | null
  readonly schoolSourcedId: string | null
  readonly userSourcedId: string | null
  readonly role: string | null
  readonly primary: string | null
  readonly beginDate: string | null
  readonly endDate: string | null
}

/** An enrollment record was upserted or deleted (RecordChanged with entity 'enrollment'). */
export interface EnrollmentChanged extends EventMeta {
  readonly type: 'RecordChanged'
  readonly entity: 'enrollment'
  readonly sourcedId: string
  readonly op: RecordOp
  /** OneRoster dateLastModified as sent (ISO-8601). */
  readonly dateLastModified: string | null
  readonly fields: EnrollmentFields
  /** metadata.* extension columns, kept as sent. */
  readonly metadata: Readonly<Record<string, string>>
  readonly source: SourcePosition | null
}

/** A RecordChanged of any entity type (`entity` tells which, and the type of `fields`). */
export type RecordChanged = OrgChanged | AcademicSessionChanged | CourseChanged | UserChanged | ClassChanged | EnrollmentChanged

export interface EntityFieldsMap {
  readonly org: OrgFields
  readonly academicSession: AcademicSessionFields
  readonly course: CourseFields
  readonly user: UserFields
  readonly class: ClassFields
  readonly enrollment: EnrollmentFields
}

export type ChangeEvent = SyncStarted | SyncEnded | SyncFailed | SyncApproved | SyncRejected | RecordUnreadable | RecordChanged

/** Empty field sets (every field null, every list empty), handy for deletes and for building events. */
export const EMPTY_FIELDS: EntityFieldsMap = {
  org: { name: null, type: null, identifier: null, parentSourcedId: null },
  academicSession: { title: null, type: null, startDate: null, endDate: null, parentSourcedId: null, schoolYear: null },
  course: { title: null, schoolYearSourcedId: null, courseCode: null, grades: [], orgSourcedId: null, subjects: [] },
  user: {
    enabledUser: null,
    orgSourcedIds: [],
    role: null,
    username: null,
    givenName: null,
    familyName: null,
    middleName: null,
    identifier: null,
    email: null,
    grades: [],
  },
  class: {
    title: null,
    courseSourcedId: null,
    classCode: null,
    classType: null,
    location: null,
    schoolSourcedId: null,
    termSourcedIds: [],
    periods: [],
    grades: [],
    subjects: [],
  },
  enrollment: {
    classSourcedId: null,
    schoolSourcedId: null,
    userSourcedId: null,
    role: null,
    primary: null,
    beginDate: null,
    endDate: null,
  },
}
