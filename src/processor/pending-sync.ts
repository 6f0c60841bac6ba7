/**
 * A sync between its SyncStarted and SyncEnded: each record is checked on
 * arrival (required fields, duplicates) and buffered; references, state
 * comparisons and deletion by absence wait for the end of the sync, so the
 * result does not depend on the order the records arrived in.
 */
import type { EntityType, RecordChanged, RecordUnreadable, SourcePosition, SyncMode } from '../events/change-event.js'
import { ARRIVAL_RULES, duplicate, firstVerdict, type ArrivalChecks, type Verdict } from './outcome-rules.js'
import type { FieldReason } from './reasons.js'
import { rowsReadAlike, type Fields } from './log-rows.js'
import type { RosterTables } from './roster-store.js'
import { sameRecord, trackedFields, type AnyRecord, type EnrollmentRecord } from './records.js'
import { readsAsStored, validateRecord, type Validation } from './validate-record.js'
import { perEntity, type PerEntity } from './per-entity.js'
import { instantMillis } from './time.js'

export interface Candidate {
  readonly entity: EntityType
  readonly sourcedId: string
  readonly op: 'upsert' | 'delete'
  /** The checked record (null for a delete). */
  readonly record: AnyRecord | null
  /** Problems that leave fields empty (the record is Invalid unless a later rule skips it). */
  readonly invalid: readonly FieldReason[]
  readonly dateLastModified: string | null
  readonly occurredAt: string
  readonly source: SourcePosition | null
  /** Raw fields as sent (context for rows about a record that was not applied). */
  readonly fields: Readonly<Record<string, unknown>>
}

/** An outcome known on arrival: Skipped (fields), Merged or Excluded (duplicates). */
export interface EarlyOutcome extends Verdict {
  readonly entity: EntityType
  readonly sourcedId: string
  readonly source: SourcePosition | null
  readonly occurredAt: string
  readonly fields: Readonly<Record<string, unknown>>
}

export interface PendingSync {
  readonly syncId: string
  readonly app: string
  readonly startedAt: string
  readonly modes: Readonly<Partial<Record<EntityType, SyncMode>>>
  readonly eventIds: Set<string>
  readonly candidates: PerEntity<Map<string, Candidate>>
  /**
   * The enrollment upserts among the candidates, per user they enroll: what tells an
   * enrollment with the class, user and role of an earlier one (a duplicate). Derived from
   * the candidates, and rebuilt from them when a snapshot is restored (`restoredPendingSync`).
   */
  readonly enrollmentsByUser: Map<string, UserEnrollments>
  readonly early: EarlyOutcome[]
  /**
   * The sourcedIds the sync carried that are not candidates (decided on arrival):
   * with the candidates, every id it carried, whatever its outcome (see `carried`).
   */
  readonly seen: PerEntity<Set<string>>
  /** `occurredAt` of the latest event taken in: a sync silent for too long is abandoned. */
  lastEventAt: string
  /** `lastEventAt` in milliseconds, so each event's instant is parsed once (absent in a snapshot written before it was kept). */
  lastEventMillis?: number
}

export function openPendingSync(syncId: string, app: string, startedAt: string, modes: PendingSync['modes']): PendingSync {
  return {
    syncId,
    app,
    startedAt,
    modes,
    eventIds: new Set(),
    candidates: perEntity(() => new Map()),
    enrollmentsByUser: new Map(),
    early: [],
    seen: perEntity(() => new Set()),
    lastEventAt: startedAt,
    lastEventMillis: instantMillis(startedAt) ?? -Infinity,
  }
}

/**
 * One user's enrollment candidates: a list while it is short (most users have a handful),
 * by class once it is long, so a user enrolled in every class of a district costs one
 * lookup per enrollment, not a scan of all the others.
 */
export type UserEnrollments = Candidate[] | Map<string, Candidate[]>

/** Enrollments a user's list holds before it is kept by class. */
const SHORT_LIST = 32

const enrollmentOf = (c: Candidate): EnrollmentRecord => c.record as EnrollmentRecord

function addByClass(byClass: Map<string, Candidate[]>, c: Candidate): void {
  const classId = enrollmentOf(c).classSourcedId
  const ofClass = byClass.get(classId)
  if (ofClass === undefined) byClass.set(classId, [c])
  else ofClass.push(c)
}

/**
 * The enrollment candidate with the class, user and role of `e`, if any: found among the
 * user's own enrollments, compared field by field. Cheaper than a key string of all three
 * built, hashed and kept for every enrollment of the sync.
 */
function sameEnrollment(sync: PendingSync, e: EnrollmentRecord): Candidate | undefined {
  const ofUser = sync.enrollmentsByUser.get(e.userSourcedId)
  const candidates = ofUser === undefined || Array.isArray(ofUser) ? ofUser : ofUser.get(e.classSourcedId)
  if (candidates === undefined) return undefined
  for (const c of candidates) {
    const other = enrollmentOf(c)
    if (other.classSourcedId === e.classSourcedId && other.role === e.role) return c
  }
  return undefined
}

/** Lists an enrollment upsert candidate under its user. */
function indexEnrollment(sync: PendingSync, c: Candidate): void {
  const userId = enrollmentOf(c).userSourcedId
  const ofUser = sync.enrollmentsByUser.get(userId)
  if (ofUser === undefined) {
    sync.enrollmentsByUser.set(userId, [c])
  } else if (!Array.isArray(ofUser)) {
    addByClass(ofUser, c)
  } else if (ofUser.length < SHORT_LIST) {
    ofUser.push(c)
  } else {
    const byClass = new Map<string, Candidate[]>()
    for (const listed of ofUser) addByClass(byClass, listed)
    addByClass(byClass, c)
    sync.enrollmentsByUser.set(userId, byClass)
  }
}

/**
 * An open sync as a snapshot gave it back, with its enrollments listed by user again from
 * its candidates (in the order they were taken in). A snapshot written before that list was
 * kept holds a map of class + user + role keys instead, which is dropped.
 */
export function restoredPendingSync(sync: PendingSync): PendingSync {
  const { enrollmentKeys: _keys, ...kept } = sync as PendingSync & { enrollmentKeys?: unknown }
  const restored: PendingSync = { ...kept, enrollmentsByUser: new Map() }
  for (const c of restored.candidates.enrollment.values()) if (c.op === 'upsert' && c.record !== null) indexEnrollment(restored, c)
  return restored
}

/** Whether the sync carried the record, whatever its outcome: a full sync deletes only what it did not carry. */
export function carried(sync: PendingSync, entity: EntityType, id: string): boolean {
  return sync.candidates[entity].has(id) || sync.seen[entity].has(id)
}

/** When the sync last heard from its publisher (a snapshot written before this was kept has only its start). */
export function lastEventOf(sync: PendingSync): string {
  return (sync.lastEventAt as string | undefined) ?? sync.startedAt
}

/** `lastEventOf` in milliseconds, or null when it is not an instant. */
export function lastEventMillisOf(sync: PendingSync): number | null {
  const at = sync.lastEventMillis ?? instantMillis(lastEventOf(sync))
  return at !== null && Number.isFinite(at) ? at : null
}

function noteTime(sync: PendingSync, occurredAt: string): void {
  if (occurredAt === sync.lastEventAt) return
  const at = instantMillis(occurredAt) ?? -Infinity
  if (at > (lastEventMillisOf(sync) ?? -Infinity)) {
    sync.lastEventAt = occurredAt
    sync.lastEventMillis = at
  }
}

/**
 * Notes an event as taken in: false when it already was (a redelivery, or the same event
 * twice in one batch), which then changes nothing. One set operation, not a lookup and an add.
 */
function takenIn(sync: PendingSync, eventId: string): boolean {
  const before = sync.eventIds.size
  sync.eventIds.add(eventId)
  return sync.eventIds.size !== before
}

/** Takes an unreadable record into its open sync (nothing, if the event was taken in before). */
export function intakeUnreadable(sync: PendingSync, event: RecordUnreadable): void {
  if (!takenIn(sync, event.eventId)) return
  noteTime(sync, event.occurredAt)
  if (event.sourcedId) sync.seen[event.entity].add(event.sourcedId)
  sync.early.push({
    outcome: 'Skipped',
    reason: { kind: 'unreadable', field: event.field, text: event.message },
    entity: event.entity,
    sourcedId: event.sourcedId ?? '',
    source: event.source,
    occurredAt: event.occurredAt,
    fields: {},
  })
}

/** A record just taken in, as the arrival rules see it. */
export interface Arrival {
  readonly sync: PendingSync
  readonly event: RecordChanged
  /** The checked record (null for a delete, or when a field problem skips it). */
  readonly record: AnyRecord | null
  readonly invalid: readonly FieldReason[]
  readonly problem: FieldReason | null
}

const NO_REASONS: readonly FieldReason[] = []

function arrivalOf(sync: PendingSync, event: RecordChanged, stored: AnyRecord | undefined): Arrival {
  if (event.op === 'delete') {
    const problem: FieldReason | null = event.sourcedId.trim() === '' ? { kind: 'required', field: 'sourcedId' } : null
    return { sync, event, record: null, invalid: NO_REASONS, problem }
  }
  // A row that reads exactly as its committed record is that record, with no problem: what validation would build.
  const checked: Validation =
    stored !== undefined && readsAsStored(event, stored) ? { ok: true, record: stored, invalid: NO_REASONS } : validateRecord(event)
  if (!checked.ok) return { sync, event, record: null, invalid: NO_REASONS, problem: checked.skip }
  return { sync, event, record: checked.record, invalid: checked.invalid, problem: null }
}

/** Canonical content tells Merged from Excluded duplicates; computed only when two records collide. */
function sameContent(a: AnyRecord | null, b: AnyRecord | null): boolean {
  const content = (r: AnyRecord | null): string => (r ? JSON.stringify([...trackedFields(r)]) : 'delete')
  return content(a) === content(b)
}

const ARRIVAL_CHECKS: ArrivalChecks = {
  fieldProblem: (a) => a.problem,
  duplicateId: (a) => {
    const first = a.sync.candidates[a.event.entity].get(a.event.sourcedId)
    if (!first) return null
    const identical = sameContent(first.record, a.record)
    return duplicate({ kind: 'duplicateId', field: 'sourcedId', id: a.event.sourcedId, first: first.source, identical }, identical)
  },
  duplicateEnrollment: (a) => {
    if (a.event.entity !== 'enrollment' || a.record === null) return null
    const other = sameEnrollment(a.sync, a.record as EnrollmentRecord)
    if (!other) return null
    const identical = sameContent(other.record, a.record)
    return duplicate(
      { kind: 'duplicateEnrollment', field: 'userSourcedId', otherId: other.sourcedId, other: other.source, identical },
      identical,
    )
  },
}

/**
 * A record the committed state already holds with exactly the same values, and
 * whose rows would read the same from the committed record as from its raw
 * fields: the committed record, else null. Its candidate keeps the committed
 * record in place of its own copy and its raw fields, so an unchanged record
 * costs an open sync next to nothing, and it resolves as any other.
 */
function committedTwin(stored: AnyRecord | undefined, event: RecordChanged, arrival: Arrival): AnyRecord | null {
  if (arrival.record === null || arrival.invalid.length > 0 || !stored) return null
  // Recognised on arrival (readsAsStored): every raw field is the stored value, so its rows read alike too.
  if (arrival.record === stored) return stored
  if (!sameRecord(stored, arrival.record)) return null
  const fields = event.fields as unknown as Fields
  return rowsReadAlike(event.entity, fields, stored as unknown as Fields) ? stored : null
}

/** Takes a record event into its open sync (nothing, if the event was taken in before); `committed`: the tenant's committed tables. */
export function intakeRecord(sync: PendingSync, event: RecordChanged, committed: RosterTables): void {
  if (!takenIn(sync, event.eventId)) return
  noteTime(sync, event.occurredAt)
  const stored = committed.tables[event.entity].get(event.sourcedId)
  const arrival = arrivalOf(sync, event, stored)
  const verdict = firstVerdict(ARRIVAL_RULES, ARRIVAL_CHECKS, arrival)
  if (verdict) {
    sync.seen[event.entity].add(event.sourcedId)
    sync.early.push({
      outcome: verdict.outcome,
      reason: verdict.reason,
      entity: event.entity,
      sourcedId: event.sourcedId,
      source: event.source,
      occurredAt: event.occurredAt,
      fields: event.fields as unknown as Fields,
    })
    return
  }
  const twin = committedTwin(stored, event, arrival)
  const record = twin ?? arrival.record
  const sourcedId = twin?.sourcedId ?? event.sourcedId
  const candidate: Candidate = {
    entity: event.entity,
    sourcedId,
    op: event.op,
    record,
    invalid: arrival.invalid,
    dateLastModified: record ? record.dateLastModified : event.dateLastModified,
    occurredAt: event.occurredAt,
    source: event.source,
    fields: twin ? (twin as unknown as Fields) : (event.fields as unknown as Fields),
  }
  sync.candidates[event.entity].set(sourcedId, candidate)
  if (event.entity === 'enrollment' && record !== null) indexEnrollment(sync, candidate)
}
