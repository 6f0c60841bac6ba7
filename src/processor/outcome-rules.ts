/**
 * Which outcome a record gets, in the order of docs/sync-semantics.md
 * "Outcomes (checked in the contract's order)": Skipped, then duplicates
 * (Merged, Excluded), then Invalid, then New / Updated / No Change / Deleted.
 * The first rule that applies decides. Each table reads top to bottom like the
 * document; the checks themselves live with the data they need (field rules in
 * validate-record.ts, duplicates in pending-sync.ts, references and staleness
 * in record-checks.ts) and only answer "what is wrong, if anything". Which
 * outcomes get a row, and which make a sync Completed with Errors, are here too.
 *
 * Records are checked twice: on arrival (their own fields, duplicates) and at
 * the end of the sync (against the state, parents first).
 */
import type { Outcome } from '../events/sync-log-event.js'
import type { Arrival, Candidate } from './pending-sync.js'
import type { FieldReason } from './reasons.js'

/** The outcome a rule gives a record, and why. */
export interface Verdict {
  readonly outcome: Outcome
  readonly reason: FieldReason
}

/** One rule: `check` asks `checks` about `subject` and returns the verdict when the rule applies, else null. */
export interface Rule<Checks, Subject> {
  /** The rule in the contract's words. */
  readonly rule: string
  readonly check: (checks: Checks, subject: Subject) => Verdict | null
}

/** The verdict of the first rule that applies, or null when none does. */
export function firstVerdict<Checks, Subject>(rules: readonly Rule<Checks, Subject>[], checks: Checks, subject: Subject): Verdict | null {
  for (const rule of rules) {
    const verdict = rule.check(checks, subject)
    if (verdict) return verdict
  }
  return null
}

function skipped(reason: FieldReason | null): Verdict | null {
  return reason ? { outcome: 'Skipped', reason } : null
}

/** Duplicates in one sync: identical tracked content is Merged, different is Excluded; the first one wins. */
export function duplicate(reason: FieldReason, identical: boolean): Verdict {
  return { outcome: identical ? 'Merged' : 'Excluded', reason }
}

/** What the arrival rules ask about a record just taken in. */
export interface ArrivalChecks {
  /** A required field blank or unusable. */
  fieldProblem(subject: Arrival): FieldReason | null
  duplicateId(subject: Arrival): Verdict | null
  duplicateEnrollment(subject: Arrival): Verdict | null
}

/** On arrival, before the record is buffered. */
export const ARRIVAL_RULES: readonly Rule<ArrivalChecks, Arrival>[] = [
  // Outcomes 1, Skipped: a required field blank or unusable. (A row the reader could not parse is
  // Skipped as it arrives: it has no fields to check.)
  { rule: 'Skipped: a required field is blank or unusable', check: (c, s) => skipped(c.fieldProblem(s)) },
  // Outcomes 2, Duplicates: the same sourcedId twice in one sync.
  { rule: 'Merged or Excluded: the same sourcedId as an earlier record of the sync', check: (c, s) => c.duplicateId(s) },
  // Outcomes 2, Duplicates: for enrollments, the same class + user + role.
  { rule: 'Merged or Excluded: an enrollment with the same class, user and role', check: (c, s) => c.duplicateEnrollment(s) },
]

/** What the end-of-sync rules ask about a buffered record, against the state as the sync leaves it so far. */
export interface StateChecks {
  schoolNotOnboarded(candidate: Candidate): FieldReason | null
  unresolvedReference(candidate: Candidate): FieldReason | null
  missingTeacher(candidate: Candidate): FieldReason | null
  noSuchRecord(candidate: Candidate): FieldReason | null
  staleUpdate(candidate: Candidate): FieldReason | null
}

/** At the end of the sync, an upsert. */
export const UPSERT_RULES: readonly Rule<StateChecks, Candidate>[] = [
  // Outcomes 1, Skipped: a school not onboarded (config `onboardedSchools`).
  { rule: 'Skipped: the school is not onboarded', check: (c, s) => skipped(c.schoolNotOnboarded(s)) },
  // Outcomes 1, Skipped: a required reference that does not resolve (unknown, deleted or skipped in
  // this sync, or a school not onboarded).
  { rule: 'Skipped: a required reference does not resolve', check: (c, s) => skipped(c.unresolvedReference(s)) },
  // Outcomes 1, Skipped: a class that ends the sync with no teacher enrollment.
  { rule: 'Skipped: the class has no teacher', check: (c, s) => skipped(c.missingTeacher(s)) },
  // Outcomes 1, Skipped: an update older than the stored record (`stale update`).
  { rule: 'Skipped: the update is older than the stored record', check: (c, s) => skipped(c.staleUpdate(s)) },
]

/** At the end of the sync, a delete; one no rule skips is Deleted (Outcomes 4). */
export const DELETE_RULES: readonly Rule<StateChecks, Candidate>[] = [
  // Outcomes 1, Skipped: a delete of a record that does not exist.
  { rule: 'Skipped: no such record to delete', check: (c, s) => skipped(c.noSuchRecord(s)) },
  // Outcomes 1, Skipped: a delete older than the stored record.
  { rule: 'Skipped: the delete is older than the stored record', check: (c, s) => skipped(c.staleUpdate(s)) },
]

/**
 * The outcome of an upsert that applies (no rule above skipped it):
 * Outcomes 3, Invalid (applied with the bad fields left empty), before
 * Outcomes 4, New / Updated / No Change against the state.
 */
export function appliedOutcome(leftEmpty: number, existed: boolean, changed: boolean): Outcome {
  if (leftEmpty > 0) return 'Invalid'
  if (!existed) return 'New'
  return changed ? 'Updated' : 'No Change'
}

/**
 * Rows: No Change is counted, never logged; a student enrollment that applies
 * (New, Updated, Deleted) is logged by its roster rows instead.
 */
export function hasOutcomeRow(outcome: Outcome, studentEnrollment: boolean): boolean {
  if (outcome === 'No Change') return false
  return !(studentEnrollment && (outcome === 'New' || outcome === 'Updated' || outcome === 'Deleted'))
}

/** Counts, statuses, holds: a sync with any Skipped, Invalid or Excluded record is Completed with Errors. */
export function isError(outcome: Outcome): boolean {
  return outcome === 'Skipped' || outcome === 'Invalid' || outcome === 'Excluded'
}
