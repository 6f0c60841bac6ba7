/**
 * A sync between its SyncStarted and SyncEnded: each record is checked on
 * arrival (required fields, duplicates) and buffered; references, state
 * comparisons and deletion by absence wait for the end of the sync, so the
 * result does not depend on the order the records arrived in.
 */
import type { EntityType, RecordChanged, RecordUnreadable, SourcePosition, SyncMode } from '../events/change-event.js'
import type { Outcome } from '../events/sync-log-event.js'
import { trackedFields, type AnyRecord, type EnrollmentRecord, type FieldIssue } from './records.js'
import { validateRecord } from './validate-record.js'
import { instantMillis } from './time.js'

export interface Candidate {
  readonly entity: EntityType
  readonly sourcedId: string
  readonly op: 'upsert' | 'delete'
  /** The checked record (null for a delete). */
  readonly record: AnyRecord | null
  readonly invalid: readonly FieldIssue[]
  readonly dateLastModified: string | null
  readonly occurredAt: string
  readonly source: SourcePosition | null
  /** Raw fields as sent (context for rows about a record that was not applied). */
  readonly fields: Readonly<Record<string, unknown>>
}

/** An outcome known on arrival: Skipped (fields), Merged or Excluded (duplicates). */
export interface EarlyOutcome {
  readonly outcome: Extract<Outcome, 'Skipped' | 'Merged' | 'Excluded'>
  readonly entity: EntityType
  readonly sourcedId: string
  readonly field: string
  readonly message: string
  readonly occurredAt: string
  readonly fields: Readonly<Record<string, unknown>>
}

type PerEntity<T> = { [E in EntityType]: T }

export interface PendingSync {
  readonly syncId: string
  readonly app: string
  readonly startedAt: string
  readonly modes: Readonly<Partial<Record<EntityType, SyncMode>>>
  readonly eventIds: Set<string>
  readonly candidates: PerEntity<Map<string, Candidate>>
  /** class|user|role of each enrollment candidate → its sourcedId. */
  readonly enrollmentKeys: Map<string, string>
  readonly early: EarlyOutcome[]
  /** Every sourcedId the sync carried, whatever its outcome: a full sync deletes only what it did not carry. */
  readonly seen: PerEntity<Set<string>>
  /** `occurredAt` of the latest event taken in: a sync silent for too long is abandoned. */
  lastEventAt: string
}

function perEntity<T>(make: () => T): PerEntity<T> {
  return { org: make(), academicSession: make(), course: make(), user: make(), class: make(), enrollment: make() }
}

export function openPendingSync(syncId: string, app: string, startedAt: string, modes: PendingSync['modes']): PendingSync {
  return {
    syncId, app, startedAt, modes, eventIds: new Set(), candidates: perEntity(() => new Map()),
    enrollmentKeys: new Map(), early: [], seen: perEntity(() => new Set()), lastEventAt: startedAt,
  }
}

export function where(source: SourcePosition | null): string {
  return source ? ` (${source.file}:${source.line})` : ''
}

/** Class + user + role; JSON keeps the parts apart whatever characters the ids hold. */
function enrollmentKey(e: EnrollmentRecord): string {
  return JSON.stringify([e.classSourcedId, e.userSourcedId, e.role])
}

/** When the sync last heard from its publisher (a snapshot written before this was kept has only its start). */
export function lastEventOf(sync: PendingSync): string {
  return (sync.lastEventAt as string | undefined) ?? sync.startedAt
}

function noteTime(sync: PendingSync, occurredAt: string): void {
  if ((instantMillis(occurredAt) ?? -Infinity) > (instantMillis(lastEventOf(sync)) ?? -Infinity)) sync.lastEventAt = occurredAt
}

export function intakeUnreadable(sync: PendingSync, event: RecordUnreadable): void {
  sync.eventIds.add(event.eventId)
  noteTime(sync, event.occurredAt)
  if (event.sourcedId) sync.seen[event.entity].add(event.sourcedId)
  sync.early.push({
    outcome: 'Skipped', entity: event.entity, sourcedId: event.sourcedId ?? '', field: event.field,
    message: `${event.message}${where(event.source)}`, occurredAt: event.occurredAt, fields: {},
  })
}

export function intakeRecord(sync: PendingSync, event: RecordChanged): void {
  sync.eventIds.add(event.eventId)
  noteTime(sync, event.occurredAt)
  sync.seen[event.entity].add(event.sourcedId)
  const fields = event.fields as unknown as Readonly<Record<string, unknown>>
  const early = (outcome: EarlyOutcome['outcome'], field: string, message: string): void => {
    sync.early.push({ outcome, entity: event.entity, sourcedId: event.sourcedId, field, message: `${message}${where(event.source)}`, occurredAt: event.occurredAt, fields })
  }

  let record: AnyRecord | null = null
  let invalid: readonly FieldIssue[] = []
  if (event.op === 'upsert') {
    const checked = validateRecord(event)
    if (!checked.ok) return early('Skipped', checked.skip.field, checked.skip.message)
    record = checked.record
    invalid = checked.invalid
  } else if (event.sourcedId.trim() === '') {
    return early('Skipped', 'sourcedId', 'sourcedId is required')
  }
  // Canonical content tells Merged from Excluded duplicates; computed only when two records collide.
  const content = (r: AnyRecord | null): string => (r ? JSON.stringify([...trackedFields(r)]) : 'delete')

  const candidates = sync.candidates[event.entity]
  const first = candidates.get(event.sourcedId)
  if (first) {
    const identical = content(first.record) === content(record)
    return early(identical ? 'Merged' : 'Excluded', 'sourcedId',
      `duplicate of sourcedId '${event.sourcedId}'${where(first.source)}${identical ? '' : '; the first one wins'}`)
  }
  if (record && event.entity === 'enrollment') {
    const key = enrollmentKey(record as EnrollmentRecord)
    const otherId = sync.enrollmentKeys.get(key)
    const other = otherId === undefined ? undefined : candidates.get(otherId)
    if (other) {
      const identical = content(other.record) === content(record)
      return early(identical ? 'Merged' : 'Excluded', 'userSourcedId',
        `same class, user and role as enrollment '${other.sourcedId}'${where(other.source)}${identical ? '' : '; the first one wins'}`)
    }
    sync.enrollmentKeys.set(key, event.sourcedId)
  }
  candidates.set(event.sourcedId, {
    entity: event.entity, sourcedId: event.sourcedId, op: event.op, record, invalid,
    dateLastModified: record ? record.dateLastModified : event.dateLastModified,
    occurredAt: event.occurredAt, source: event.source, fields,
  })
}
