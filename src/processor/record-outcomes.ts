/**
 * Each record of the sync gets its outcome: those decided on arrival are
 * logged as they are; buffered ones are checked against the state by the rules
 * of outcome-rules.ts, then applied to the overlay (New, Updated, No Change,
 * Invalid, Deleted) or Skipped.
 */
import type { Fields } from './log-rows.js'
import { appliedOutcome, DELETE_RULES, firstVerdict, UPSERT_RULES, type Verdict } from './outcome-rules.js'
import type { Candidate, EarlyOutcome } from './pending-sync.js'
import type { RecordChecks } from './record-checks.js'
import { storedReason, type FieldReason } from './reasons.js'
import { changedFields, type AnyRecord } from './records.js'
import { remove } from './removals.js'
import type { SyncWork } from './sync-work.js'

const asFields = (r: AnyRecord): Fields => r as unknown as Fields

const NO_CHANGES: readonly { field: string; oldValue: string; newValue: string }[] = []

/** An outcome decided on arrival (a field problem, a duplicate). */
export function logEarly(work: SyncWork, early: EarlyOutcome): void {
  // A sync an earlier version left open in a snapshot holds `{ field, message }` and no source.
  const reason = storedReason((early as Partial<EarlyOutcome>).reason ?? (early as unknown as { field: string; message: string }))
  // A record skipped on arrival is not in the state; what refers to it names it as the cause.
  if (early.outcome === 'Skipped') work.causes.skipped(early.entity, early.sourcedId, reason)
  work.log.notApplied(
    early.outcome,
    early.entity,
    early.sourcedId,
    early.fields,
    work.overlay,
    early.occurredAt,
    reason,
    early.source ?? null,
  )
}

function skip(work: SyncWork, c: Candidate, verdict: Verdict): void {
  work.fates.skip(c.entity, c.sourcedId, verdict.reason)
  work.log.notApplied(verdict.outcome, c.entity, c.sourcedId, c.fields, work.overlay, c.occurredAt, verdict.reason, c.source)
}

export function resolveDelete(work: SyncWork, checks: RecordChecks, c: Candidate): void {
  const verdict = firstVerdict(DELETE_RULES, checks, c)
  if (verdict) return skip(work, c, verdict)
  const current = work.overlay.get(c.entity, c.sourcedId)
  const previous = current ?? work.before.get(c.entity, c.sourcedId)
  work.log.deleted(c.entity, c.sourcedId, previous ? asFields(previous) : c.fields, c.occurredAt, { kind: 'deletedBySource' }, c.source)
  if (current) remove(work, c.entity, c.sourcedId, { kind: 'deletedBySource' })
}

/** `willExist`: ids of the record's own type that the sync leaves (for orgs' and sessions' parents). */
export function resolveUpsert(work: SyncWork, checks: RecordChecks, c: Candidate, willExist: ReadonlySet<string>): void {
  const verdict = firstVerdict(UPSERT_RULES, checks, c)
  if (verdict) return skip(work, c, verdict)
  let record = c.record as AnyRecord
  let leftEmpty: readonly FieldReason[] = c.invalid.length === 0 ? c.invalid : c.invalid.map(storedReason)
  const optional = checks.unresolvedOptional(c.entity, record, willExist)
  if (optional) {
    record = optional.record
    leftEmpty = [...leftEmpty, optional.reason]
  }
  const current = checks.currentOf(c)
  // An unchanged record taken in as its committed twin is the current record itself.
  const changes = current === undefined || current === record ? NO_CHANGES : changedFields(current, record)
  const changed = !current || changes.length > 0
  if (changed) work.overlay.set(c.entity, record as never)
  const outcome = appliedOutcome(leftEmpty.length, current !== undefined, changed)
  if (outcome === 'Invalid') work.log.invalid(c.entity, c.sourcedId, asFields(record), work.overlay, c.occurredAt, leftEmpty)
  else work.log.applied(outcome, c.entity, c.sourcedId, asFields(record), work.overlay, c.occurredAt, changes)
}
