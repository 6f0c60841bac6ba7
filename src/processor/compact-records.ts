/**
 * The committed form of a roster record: the same fields and values as the
 * record a sync resolved, stored compactly, because the committed tables hold
 * every record of a tenant (millions at a state-sized tenant).
 *
 * - One object literal per entity type, its fields in the order of records.ts
 *   (the order changed fields are listed in), so every committed record of a
 *   type shares one hidden class and keeps its fields inside the object.
 * - Shared strings: a reference (a class's school, an enrollment's user) is the
 *   referenced record's own sourcedId string, an id that is already committed
 *   keeps its string, and repeated values (roles, types, dates, names, grades)
 *   come from one pool. A string parsed from an input line is never kept for
 *   long, so no slice of a line keeps the line alive either.
 * - No metadata and empty lists share one frozen empty object or array, and a
 *   one-item list is shared by every record with that item.
 */
import type { EntityType } from '../events/change-event.js'
import type {
  AcademicSessionRecord,
  AnyRecord,
  ClassRecord,
  CourseRecord,
  EnrollmentRecord,
  OrgRecord,
  RecordMap,
  UserRecord,
} from './records.js'

/** The committed tables a record's references are resolved against. */
export type CommittedTables = { readonly [E in EntityType]: ReadonlyMap<string, RecordMap[E]> }

/**
 * Distinct values the pool holds before it starts afresh: a bound on what it
 * keeps alive when values barely repeat (per-record timestamps). Starting
 * afresh changes no value, only which copies are shared.
 */
const POOL_LIMIT = 200_000

/** One string object per distinct value, shared by every record that holds the value. */
const pool = new Map<string, string>()
/** One frozen one-item list per distinct item. */
const singletons = new Map<string, readonly string[]>()

const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({})
const NO_ITEMS: readonly string[] = Object.freeze([])

/**
 * V8 makes a string a slice of another, or a concatenation, only from this
 * length on; a shorter string always holds its own characters.
 */
const SHORTEST_SLICE = 13

/** A copy that owns its characters (not a slice, nor a concatenation, of a longer string). */
function ownCopy(value: string): string {
  if (value.length < SHORTEST_SLICE) return value
  return JSON.parse(JSON.stringify(value)) as string
}

function shared(value: string): string {
  const found = pool.get(value)
  if (found !== undefined) return found
  if (pool.size >= POOL_LIMIT) pool.clear()
  const copy = ownCopy(value)
  pool.set(copy, copy)
  return copy
}

function sharedOrNull(value: string | null): string | null {
  return value === null ? null : shared(value)
}

/** The sourcedId string of the committed record `id` names, or a pooled copy when it is not committed. */
function ref(table: ReadonlyMap<string, AnyRecord>, id: string): string {
  return table.get(id)?.sourcedId ?? shared(id)
}

function refOrNull(table: ReadonlyMap<string, AnyRecord>, id: string | null): string | null {
  return id === null ? null : ref(table, id)
}

/** The shared one-item list of `value`. */
function oneItem(value: string): readonly string[] {
  let one = singletons.get(value)
  if (one === undefined) {
    if (singletons.size >= POOL_LIMIT) singletons.clear()
    singletons.set(value, (one = Object.freeze([value])))
  }
  return one
}

function sharedList(items: readonly string[]): readonly string[] {
  if (items.length === 0) return NO_ITEMS
  if (items.length === 1) return oneItem(shared(items[0]!))
  const out: string[] = []
  for (const item of items) out.push(shared(item))
  return out
}

/** A list of references, each the referenced record's sourcedId string (see `ref`). */
function refList(table: ReadonlyMap<string, AnyRecord>, ids: readonly string[]): readonly string[] {
  if (ids.length === 0) return NO_ITEMS
  if (ids.length === 1) return oneItem(ref(table, ids[0]!))
  const out: string[] = []
  for (const id of ids) out.push(ref(table, id))
  return out
}

function metadataOf(metadata: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const _ in metadata) return metadata
  return NO_METADATA
}

/** A record's own id: the string the table already keys it by, or a copy of its own. */
function idOf(record: AnyRecord, previous: AnyRecord | undefined): string {
  return previous?.sourcedId ?? ownCopy(record.sourcedId)
}

function org(t: CommittedTables, r: OrgRecord, previous: AnyRecord | undefined): OrgRecord {
  return {
    sourcedId: idOf(r, previous),
    dateLastModified: sharedOrNull(r.dateLastModified),
    metadata: metadataOf(r.metadata),
    name: shared(r.name),
    type: shared(r.type),
    identifier: sharedOrNull(r.identifier),
    parentSourcedId: refOrNull(t.org, r.parentSourcedId),
  }
}

function academicSession(t: CommittedTables, r: AcademicSessionRecord, previous: AnyRecord | undefined): AcademicSessionRecord {
  return {
    sourcedId: idOf(r, previous),
    dateLastModified: sharedOrNull(r.dateLastModified),
    metadata: metadataOf(r.metadata),
    title: shared(r.title),
    type: shared(r.type),
    startDate: shared(r.startDate),
    endDate: shared(r.endDate),
    parentSourcedId: refOrNull(t.academicSession, r.parentSourcedId),
    schoolYear: shared(r.schoolYear),
  }
}

function course(t: CommittedTables, r: CourseRecord, previous: AnyRecord | undefined): CourseRecord {
  return {
    sourcedId: idOf(r, previous),
    dateLastModified: sharedOrNull(r.dateLastModified),
    metadata: metadataOf(r.metadata),
    title: shared(r.title),
    schoolYearSourcedId: refOrNull(t.academicSession, r.schoolYearSourcedId),
    courseCode: sharedOrNull(r.courseCode),
    grades: sharedList(r.grades),
    orgSourcedId: ref(t.org, r.orgSourcedId),
    subjects: sharedList(r.subjects),
  }
}

function user(t: CommittedTables, r: UserRecord, previous: AnyRecord | undefined): UserRecord {
  return {
    sourcedId: idOf(r, previous),
    dateLastModified: sharedOrNull(r.dateLastModified),
    metadata: metadataOf(r.metadata),
    enabledUser: r.enabledUser,
    orgSourcedIds: refList(t.org, r.orgSourcedIds),
    role: shared(r.role),
    username: ownCopy(r.username),
    givenName: shared(r.givenName),
    familyName: shared(r.familyName),
    middleName: sharedOrNull(r.middleName),
    identifier: r.identifier === null ? null : ownCopy(r.identifier),
    email: r.email === null ? null : ownCopy(r.email),
    grades: sharedList(r.grades),
  }
}

function class_(t: CommittedTables, r: ClassRecord, previous: AnyRecord | undefined): ClassRecord {
  return {
    sourcedId: idOf(r, previous),
    dateLastModified: sharedOrNull(r.dateLastModified),
    metadata: metadataOf(r.metadata),
    title: shared(r.title),
    courseSourcedId: ref(t.course, r.courseSourcedId),
    classCode: sharedOrNull(r.classCode),
    classType: shared(r.classType),
    location: sharedOrNull(r.location),
    schoolSourcedId: ref(t.org, r.schoolSourcedId),
    termSourcedIds: refList(t.academicSession, r.termSourcedIds),
    periods: sharedList(r.periods),
    grades: sharedList(r.grades),
    subjects: sharedList(r.subjects),
  }
}

function enrollment(t: CommittedTables, r: EnrollmentRecord, previous: AnyRecord | undefined): EnrollmentRecord {
  return {
    sourcedId: idOf(r, previous),
    dateLastModified: sharedOrNull(r.dateLastModified),
    metadata: metadataOf(r.metadata),
    classSourcedId: ref(t.class, r.classSourcedId),
    schoolSourcedId: ref(t.org, r.schoolSourcedId),
    userSourcedId: ref(t.user, r.userSourcedId),
    role: shared(r.role),
    primary: r.primary,
    beginDate: sharedOrNull(r.beginDate),
    endDate: sharedOrNull(r.endDate),
  }
}

const BUILDERS: { readonly [E in EntityType]: (t: CommittedTables, r: RecordMap[E], previous: AnyRecord | undefined) => RecordMap[E] } = {
  org,
  academicSession,
  course,
  user,
  class: class_,
  enrollment,
}

/**
 * The committed form of `record`, equal to it field for field. `previous` is the
 * version it replaces, if any; references resolve against `tables`.
 */
export function compactRecord<E extends EntityType>(
  tables: CommittedTables,
  entity: E,
  record: RecordMap[E],
  previous: AnyRecord | undefined,
): RecordMap[E] {
  return (BUILDERS[entity] as (t: CommittedTables, r: RecordMap[E], previous: AnyRecord | undefined) => RecordMap[E])(
    tables,
    record,
    previous,
  )
}
