/**
 * Field rules of each entity (sync-semantics.md outcomes 1 and 3): a required
 * field missing or unusable makes the record Skipped; a malformed optional
 * field makes it Invalid, applied with that field left empty. References are
 * checked later, against the state (record-checks.ts). Problems are returned as
 * typed reasons; outcome-rules.ts says in which order they count.
 */
import type { EntityFieldsMap, EntityType, RecordChanged } from '../events/change-event.js'
import { sameMetadata, type AnyRecord } from './records.js'
import type { FieldReason } from './reasons.js'
import { instantMillis, isCalendarDate } from './time.js'
import { CLASS_TYPES, EMAIL_RE, ENROLLMENT_ROLES, GRADES, ORG_TYPES, SESSION_TYPES, USER_ROLES, inVocabulary } from './vocabulary.js'

export type Validation =
  | { readonly ok: true; readonly record: AnyRecord; readonly invalid: readonly FieldReason[] }
  | { readonly ok: false; readonly skip: FieldReason }

/**
 * Reads one record's fields: collects the Invalid problems, and keeps the first
 * problem that skips the record (later reads return placeholders, and their
 * problems are not kept, so the record's reason is the first one found).
 */
class FieldReader<F> {
  readonly invalid: FieldReason[] = []
  skip: FieldReason | null = null
  constructor(private readonly fields: F) {}

  skipWith(reason: FieldReason): void {
    if (this.skip === null) this.skip = reason
  }

  required(name: keyof F & string): string {
    const value = this.fields[name]
    if (typeof value === 'string' && value.trim() !== '') return value
    this.skipWith({ kind: 'required', field: name })
    return ''
  }

  optional(name: keyof F & string): string | null {
    const value = this.fields[name]
    return typeof value === 'string' && value.trim() !== '' ? value : null
  }

  list(name: keyof F & string): string[] {
    const value = this.fields[name]
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : []
  }

  requiredList(name: keyof F & string): string[] {
    const values = this.list(name)
    if (values.length === 0) this.skipWith({ kind: 'required', field: name })
    return values
  }

  requiredEnum(name: keyof F & string, vocabulary: readonly string[]): string {
    const value = this.required(name)
    if (value !== '' && !inVocabulary(value, vocabulary)) this.skipWith({ kind: 'notInVocabulary', field: name, value, vocabulary })
    return value
  }

  requiredDate(name: keyof F & string): string {
    const value = this.required(name)
    if (value !== '' && !isCalendarDate(value)) this.skipWith({ kind: 'notDate', field: name, value })
    return value
  }

  optionalDate(name: keyof F & string): string | null {
    const value = this.optional(name)
    if (value !== null && !isCalendarDate(value)) {
      this.invalid.push({ kind: 'notDate', field: name, value })
      return null
    }
    return value
  }

  grades(name: keyof F & string): string[] {
    const values = this.list(name)
    const unknown = values.filter((g) => !inVocabulary(g, GRADES))
    if (unknown.length > 0) {
      this.invalid.push({ kind: 'notGrades', field: name, values: unknown })
      return []
    }
    return values
  }

  requiredBoolean(name: keyof F & string): boolean {
    const value = this.required(name)
    const lower = value.toLowerCase()
    if (value !== '' && lower !== 'true' && lower !== 'false') this.skipWith({ kind: 'notBoolean', field: name, value })
    return lower === 'true'
  }

  optionalBoolean(name: keyof F & string): boolean {
    const value = this.optional(name)
    if (value === null) return false
    const lower = value.toLowerCase()
    if (lower !== 'true' && lower !== 'false') {
      this.invalid.push({ kind: 'notBoolean', field: name, value })
      return false
    }
    return lower === 'true'
  }
}

/** The record's dateLastModified: null when blank, or when malformed (then Invalid, left empty). */
function dateLastModifiedOf(event: RecordChanged, invalid: FieldReason[]): string | null {
  const value = event.dateLastModified
  if (value === null || value.trim() === '') return null
  if (instantMillis(value) !== null) return value
  invalid.push({ kind: 'notInstant', field: 'dateLastModified', value })
  return null
}

/** Shared by the records with no Invalid problem (most), which keep it until their sync ends. */
const NO_PROBLEMS: readonly FieldReason[] = []

/** One shared object for the records without metadata (most): records are plain data, never changed in place. */
const NO_METADATA: Readonly<Record<string, string>> = {}

/** The record's own copy of the event's metadata. */
function metadataOf(event: RecordChanged): Readonly<Record<string, string>> {
  for (const _name in event.metadata) return { ...event.metadata }
  return NO_METADATA
}

/*
 * Each record is built as one literal, so records of a type share one shape. The
 * order of the reads is the order problems are found in: the first skip wins, and
 * Invalid problems are listed in that order.
 */
const readers: { [E in EntityType]: (r: FieldReader<EntityFieldsMap[E]>, event: RecordChanged) => AnyRecord } = {
  org: (r, e) => ({
    sourcedId: e.sourcedId,
    dateLastModified: dateLastModifiedOf(e, r.invalid),
    metadata: metadataOf(e),
    name: r.required('name'),
    type: r.requiredEnum('type', ORG_TYPES),
    identifier: r.optional('identifier'),
    parentSourcedId: r.optional('parentSourcedId'),
  }),
  academicSession: (r, e) => {
    const title = r.required('title')
    const type = r.requiredEnum('type', SESSION_TYPES)
    const startDate = r.requiredDate('startDate')
    const endDate = r.requiredDate('endDate')
    const schoolYear = r.required('schoolYear')
    if (schoolYear !== '' && !/^\d{4}$/.test(schoolYear)) r.skipWith({ kind: 'notYear', field: 'schoolYear', value: schoolYear })
    return {
      sourcedId: e.sourcedId,
      dateLastModified: dateLastModifiedOf(e, r.invalid),
      metadata: metadataOf(e),
      title,
      type,
      startDate,
      endDate,
      parentSourcedId: r.optional('parentSourcedId'),
      schoolYear,
    }
  },
  course: (r, e) => ({
    sourcedId: e.sourcedId,
    dateLastModified: dateLastModifiedOf(e, r.invalid),
    metadata: metadataOf(e),
    title: r.required('title'),
    schoolYearSourcedId: r.optional('schoolYearSourcedId'),
    courseCode: r.optional('courseCode'),
    grades: r.grades('grades'),
    orgSourcedId: r.required('orgSourcedId'),
    subjects: r.list('subjects'),
  }),
  user: (r, e) => {
    const enabledUser = r.requiredBoolean('enabledUser')
    const orgSourcedIds = r.requiredList('orgSourcedIds')
    const role = r.requiredEnum('role', USER_ROLES)
    const username = r.required('username')
    const givenName = r.required('givenName')
    const familyName = r.required('familyName')
    let email = r.optional('email')
    const staff = role === 'teacher' || role === 'administrator'
    if (email !== null && !EMAIL_RE.test(email.trim())) {
      if (staff) r.skipWith({ kind: 'staffEmail', field: 'email', value: email })
      else r.invalid.push({ kind: 'notEmail', field: 'email', value: email })
      email = null
    } else if (staff && email === null) {
      r.skipWith({ kind: 'staffEmail', field: 'email', value: null })
    }
    return {
      sourcedId: e.sourcedId,
      dateLastModified: dateLastModifiedOf(e, r.invalid),
      metadata: metadataOf(e),
      enabledUser,
      orgSourcedIds,
      role,
      username,
      givenName,
      familyName,
      middleName: r.optional('middleName'),
      identifier: r.optional('identifier'),
      email: email?.trim() ?? null,
      grades: r.grades('grades'),
    }
  },
  class: (r, e) => ({
    sourcedId: e.sourcedId,
    dateLastModified: dateLastModifiedOf(e, r.invalid),
    metadata: metadataOf(e),
    title: r.required('title'),
    courseSourcedId: r.required('courseSourcedId'),
    classCode: r.optional('classCode'),
    classType: r.requiredEnum('classType', CLASS_TYPES),
    location: r.optional('location'),
    schoolSourcedId: r.required('schoolSourcedId'),
    termSourcedIds: r.requiredList('termSourcedIds'),
    periods: r.list('periods'),
    grades: r.grades('grades'),
    subjects: r.list('subjects'),
  }),
  enrollment: (r, e) => {
    const classSourcedId = r.required('classSourcedId')
    const schoolSourcedId = r.required('schoolSourcedId')
    const userSourcedId = r.required('userSourcedId')
    const role = r.requiredEnum('role', ENROLLMENT_ROLES)
    const primary = r.optionalBoolean('primary')
    const beginDate = r.optionalDate('beginDate')
    let endDate = r.optionalDate('endDate')
    if (beginDate !== null && endDate !== null && endDate < beginDate) {
      r.invalid.push({ kind: 'endBeforeBegin', field: 'endDate', beginDate, endDate })
      endDate = null
    }
    return {
      sourcedId: e.sourcedId,
      dateLastModified: dateLastModifiedOf(e, r.invalid),
      metadata: metadataOf(e),
      classSourcedId,
      schoolSourcedId,
      userSourcedId,
      role,
      primary,
      beginDate,
      endDate,
    }
  },
}

/** Checks an upsert's fields and builds its typed record. */
export function validateRecord(event: RecordChanged): Validation {
  if (event.sourcedId.trim() === '') return { ok: false, skip: { kind: 'required', field: 'sourcedId' } }
  const reader = new FieldReader(event.fields)
  const build = readers[event.entity] as (r: FieldReader<unknown>, e: RecordChanged) => AnyRecord
  const record = build(reader as FieldReader<unknown>, event)
  if (reader.skip) return { ok: false, skip: reader.skip }
  return { ok: true, record, invalid: reader.invalid.length === 0 ? NO_PROBLEMS : reader.invalid }
}

/**
 * One raw field against the value a valid record holds for it: whether reading the raw
 * value gives exactly that value, with no problem. Only the exact spellings count (a
 * string that is the value itself, a list of the same items, `true`/`false` for a
 * boolean, null for null); any other spelling may read the same, but is left to
 * `validateRecord` to say so.
 */
function readsAs(raw: unknown, value: unknown): boolean {
  if (raw === value) return true
  if (value === null) return raw === undefined
  if (typeof value === 'boolean') return raw === (value ? 'true' : 'false')
  if (!Array.isArray(value) || !Array.isArray(raw) || raw.length !== value.length) return false
  for (let i = 0; i < value.length; i++) if (raw[i] !== value[i]) return false
  return true
}

/**
 * Whether `validateRecord(event)` would give exactly `stored` (a record that passed it
 * before, committed) with no problem, without building a record: every field, the id,
 * dateLastModified and metadata read as the stored values (see `readsAs`). Each value a
 * valid record holds reads back as itself (a list keeps only non-blank items, an email
 * is kept trimmed, a date or vocabulary value as sent), so an unchanged row, the bulk of
 * every full export, is recognised by comparison alone.
 */
export function readsAsStored(event: RecordChanged, stored: AnyRecord): boolean {
  if (event.op !== 'upsert' || event.sourcedId !== stored.sourcedId || event.dateLastModified !== stored.dateLastModified) return false
  const fields = event.fields as unknown as Readonly<Record<string, unknown>>
  const record = stored as unknown as Readonly<Record<string, unknown>>
  for (const name in record) {
    if (name === 'sourcedId' || name === 'dateLastModified') continue
    if (name === 'metadata') {
      if (!sameMetadata(event.metadata, stored.metadata)) return false
    } else if (!readsAs(Object.hasOwn(fields, name) ? fields[name] : undefined, Object.hasOwn(record, name) ? record[name] : undefined)) {
      return false
    }
  }
  return true
}
