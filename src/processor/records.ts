/**
 * The folded state's record shapes: checked, typed versions of the change
 * events' raw fields. Plain data only (the state is snapshotted with structured clone).
 */
import type { EntityType } from '../events/change-event.js'

interface RecordBase {
  readonly sourcedId: string
  readonly dateLastModified: string | null
  readonly metadata: Readonly<Record<string, string>>
}

export interface OrgRecord extends RecordBase {
  readonly name: string
  readonly type: string
  readonly identifier: string | null
  readonly parentSourcedId: string | null
}

export interface AcademicSessionRecord extends RecordBase {
  readonly title: string
  readonly type: string
  readonly startDate: string
  readonly endDate: string
  readonly parentSourcedId: string | null
  readonly schoolYear: string
}

export interface CourseRecord extends RecordBase {
  readonly title: string
  readonly schoolYearSourcedId: string | null
  readonly courseCode: string | null
  readonly grades: readonly string[]
  readonly orgSourcedId: string
  readonly subjects: readonly string[]
}

export interface UserRecord extends RecordBase {
  readonly enabledUser: boolean
  readonly orgSourcedIds: readonly string[]
  readonly role: string
  readonly username: string
  readonly givenName: string
  readonly familyName: string
  readonly middleName: string | null
  readonly identifier: string | null
  readonly email: string | null
  readonly grades: readonly string[]
}

export interface ClassRecord extends RecordBase {
  readonly title: string
  readonly courseSourcedId: string
  readonly classCode: string | null
  readonly classType: string
  readonly location: string | null
  readonly schoolSourcedId: string
  readonly termSourcedIds: readonly string[]
  readonly periods: readonly string[]
  readonly grades: readonly string[]
  readonly subjects: readonly string[]
}

export interface EnrollmentRecord extends RecordBase {
  readonly classSourcedId: string
  readonly schoolSourcedId: string
  readonly userSourcedId: string
  readonly role: string
  readonly primary: boolean
  readonly beginDate: string | null
  readonly endDate: string | null
}

export interface RecordMap {
  readonly org: OrgRecord
  readonly academicSession: AcademicSessionRecord
  readonly course: CourseRecord
  readonly user: UserRecord
  readonly class: ClassRecord
  readonly enrollment: EnrollmentRecord
}

export type AnyRecord = RecordMap[EntityType]

/**
 * The tracked fields of a record: everything but its id and dateLastModified,
 * then `metadata.<name>` in name order. A Map: metadata names come from input.
 */
export function trackedFields(record: AnyRecord): Map<string, unknown> {
  const { sourcedId: _id, dateLastModified: _dlm, metadata, ...fields } = record
  const out = new Map<string, unknown>(Object.entries(fields))
  const names = Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  for (const [name, value] of names) out.set(`metadata.${name}`, value)
  return out
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i])
  return false
}

/** Whether two records hold exactly the same values (id, dateLastModified, metadata and every field). */
export function sameRecord(a: AnyRecord, b: AnyRecord): boolean {
  const x = a as unknown as Readonly<Record<string, unknown>>
  const y = b as unknown as Readonly<Record<string, unknown>>
  let keys = 0
  for (const key in x) {
    keys++
    if (key === 'metadata') {
      if (!sameMetadata(a.metadata, b.metadata)) return false
      continue
    }
    const same = Object.hasOwn(y, key) ? Object.hasOwn(x, key) && sameValue(x[key], y[key]) : false
    if (!same) return false
  }
  for (const _key in y) keys--
  return keys === 0
}

/** Whether two metadata objects hold the same names and values. */
export function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true
  let keys = 0
  for (const name in a) {
    keys++
    const same = Object.hasOwn(b, name) ? Object.hasOwn(a, name) && a[name] === b[name] : false
    if (!same) return false
  }
  for (const _name in b) keys--
  return keys === 0
}

function show(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.join(', ')
  return String(value)
}

/** Tracked fields that differ between two versions of a record, with display values. */
export function changedFields(before: AnyRecord, after: AnyRecord): { field: string; oldValue: string; newValue: string }[] {
  const a = trackedFields(before)
  const b = trackedFields(after)
  const keys = new Set([...a.keys(), ...b.keys()])
  const changes: { field: string; oldValue: string; newValue: string }[] = []
  for (const key of keys) {
    const oldValue = show(a.get(key))
    const newValue = show(b.get(key))
    if (oldValue !== newValue) changes.push({ field: key, oldValue, newValue })
  }
  return changes
}

/** `Last, First`, as the anchor's Student Name and Teacher Display Name. */
export function displayName(user: Pick<UserRecord, 'givenName' | 'familyName'> | undefined): string {
  if (!user) return ''
  return [user.familyName, user.givenName].filter((s) => s !== '').join(', ')
}
