/**
 * Why a record got its outcome, or why a row was written, as data. The checks
 * (fields, duplicates, references, staleness, removals) return these; the
 * message text is rendered from them only when a row is written (log-rows.ts),
 * so no code decides anything by reading message text.
 */
import type { EntityType, SourcePosition } from '../events/change-event.js'

export const LABEL: Readonly<Record<EntityType, string>> = {
  org: 'org',
  academicSession: 'academic session',
  course: 'course',
  user: 'user',
  class: 'class',
  enrollment: 'enrollment',
}

/** A problem with one field of a record: the record is Skipped, or Invalid with the field left empty. */
export type FieldReason =
  | { readonly kind: 'required'; readonly field: string }
  | { readonly kind: 'notInVocabulary'; readonly field: string; readonly value: string; readonly vocabulary: readonly string[] }
  | { readonly kind: 'notDate'; readonly field: string; readonly value: string }
  | { readonly kind: 'notYear'; readonly field: string; readonly value: string }
  | { readonly kind: 'notBoolean'; readonly field: string; readonly value: string }
  | { readonly kind: 'notInstant'; readonly field: string; readonly value: string }
  | { readonly kind: 'notEmail'; readonly field: string; readonly value: string }
  /** A teacher or administrator without a usable email (`value`: the malformed one, if any). */
  | { readonly kind: 'staffEmail'; readonly field: string; readonly value: string | null }
  | { readonly kind: 'notGrades'; readonly field: string; readonly values: readonly string[] }
  | { readonly kind: 'endBeforeBegin'; readonly field: string; readonly beginDate: string; readonly endDate: string }
  /** A row the reader could not parse; `text` is the reader's own words. */
  | { readonly kind: 'unreadable'; readonly field: string; readonly text: string }
  | {
      readonly kind: 'duplicateId'
      readonly field: string
      readonly id: string
      readonly first: SourcePosition | null
      readonly identical: boolean
    }
  | {
      readonly kind: 'duplicateEnrollment'
      readonly field: string
      readonly otherId: string
      readonly other: SourcePosition | null
      readonly identical: boolean
    }
  | { readonly kind: 'noSuchRecord'; readonly field: string; readonly entity: EntityType; readonly id: string }
  | { readonly kind: 'stale'; readonly field: string; readonly incoming: string; readonly stored: string }
  | { readonly kind: 'schoolNotOnboarded'; readonly field: string }
  | { readonly kind: 'referenceNotOnboarded'; readonly field: string; readonly id: string }
  | { readonly kind: 'referenceSkipped'; readonly field: string; readonly entity: EntityType; readonly id: string }
  | { readonly kind: 'referenceDeleted'; readonly field: string; readonly entity: EntityType; readonly id: string }
  | { readonly kind: 'referenceUnknown'; readonly field: string; readonly entity: EntityType; readonly id: string }
  | { readonly kind: 'noTeacher'; readonly field: string }
  /** A problem an earlier version stored as its finished message, in a sync still open in a state snapshot. */
  | { readonly kind: 'stored'; readonly field: string; readonly message: string }

/** Why a record left the state in a sync, or why a roster or section row was written. */
export type Removal =
  | { readonly kind: 'deletedBySource' }
  | { readonly kind: 'absentFromFull'; readonly entity: EntityType }
  /** Removed with its parent of type `entity` (`parent` names it: school, term, course, or the user's role). */
  | { readonly kind: 'parentRemoved'; readonly parent: string; readonly entity: EntityType; readonly id: string; readonly why: Removal }
  /** A roster line removed with its section (`id`: the class). */
  | { readonly kind: 'sectionRemoved'; readonly id: string; readonly why: Removal }
  /** A section whose course, school or term is gone without being removed in this sync. */
  | { readonly kind: 'referenceGone'; readonly parent: 'course' | 'school' | 'term'; readonly id: string }
  | { readonly kind: 'sectionGone' }
  | { readonly kind: 'movedSection' }

const q = (id: string): string => `'${id}'`

type Templates<R extends { kind: string }> = { readonly [K in R['kind']]: (r: Extract<R, { kind: K }>) => string }

/** The message of each field reason, as the log shows it. */
const FIELD_MESSAGES: Templates<FieldReason> = {
  required: (r) => `${r.field} is required`,
  notInVocabulary: (r) => `${r.field} ${q(r.value)} is not one of ${r.vocabulary.join(', ')} (values are case-sensitive)`,
  notDate: (r) => `${r.field} ${q(r.value)} is not a date (YYYY-MM-DD)`,
  notYear: (r) => `${r.field} ${q(r.value)} is not a year (YYYY)`,
  notBoolean: (r) => `${r.field} ${q(r.value)} is not true or false`,
  notInstant: (r) => `${r.field} ${q(r.value)} is not an ISO-8601 date-time`,
  notEmail: (r) => `${r.field} ${q(r.value)} is not an email address`,
  staffEmail: (r) =>
    `Email is required for users with teacher or administrator roles${r.value === null ? '' : `; ${q(r.value)} is not an email address`}`,
  notGrades: (r) => `${r.field} ${r.values.map(q).join(', ')} not in the grade vocabulary`,
  endBeforeBegin: (r) => `endDate ${r.endDate} is before beginDate ${r.beginDate}`,
  unreadable: (r) => r.text,
  duplicateId: (r) => `duplicate of sourcedId ${q(r.id)}${where(r.first)}${r.identical ? '' : '; the first one wins'}`,
  duplicateEnrollment: (r) =>
    `same class, user and role as enrollment ${q(r.otherId)}${where(r.other)}${r.identical ? '' : '; the first one wins'}`,
  noSuchRecord: (r) => `cannot delete ${LABEL[r.entity]} ${q(r.id)}: no such record`,
  stale: (r) => `stale update: dateLastModified ${r.incoming} is older than the stored ${r.stored}`,
  schoolNotOnboarded: () => 'school is not onboarded for this tenant; the school and all its records are not synced',
  referenceNotOnboarded: (r) => `school ${q(r.id)} is not onboarded for this tenant; the school and all its records are not synced`,
  referenceSkipped: (r) => `${LABEL[r.entity]} ${q(r.id)} was skipped in this sync`,
  referenceDeleted: (r) => `${LABEL[r.entity]} ${q(r.id)} was deleted in this sync`,
  referenceUnknown: (r) => `unknown ${LABEL[r.entity]} ${q(r.id)}`,
  noTeacher: () => 'primary teacher is required',
  stored: (r) => r.message,
}

const REMOVAL_MESSAGES: Templates<Removal> = {
  deletedBySource: () => 'deleted by the source',
  absentFromFull: (r) => `absent from the full ${LABEL[r.entity]} file`,
  parentRemoved: (r) => `${r.parent} ${q(r.id)} ${removalMessage(r.why)}`,
  // A section that went with its course, school or term was invalidated; one deleted itself was not.
  sectionRemoved: (r) => `section ${r.why.kind === 'parentRemoved' ? 'invalidated: ' : ''}${removalMessage(r.why)}`,
  referenceGone: (r) => `${r.parent} ${q(r.id)} is gone`,
  sectionGone: () => 'section removed',
  movedSection: () => 'moved to another section',
}

/** The reason's message; `suffix` (where the record sits, or that the field was left empty) completes it. */
export function fieldMessage(reason: FieldReason, suffix: string): string {
  if (reason.kind === 'stored') return reason.message
  return `${(FIELD_MESSAGES[reason.kind] as (r: FieldReason) => string)(reason)}${suffix}`
}

/**
 * A reason as the state holds it. An earlier version stored problems as
 * `{ field, message }`; a sync it left open in a snapshot still holds them.
 */
export function storedReason(reason: FieldReason | { readonly field: string; readonly message: string }): FieldReason {
  return 'kind' in reason ? reason : { kind: 'stored', field: reason.field, message: reason.message }
}

export function removalMessage(reason: Removal): string {
  return (REMOVAL_MESSAGES[reason.kind] as (r: Removal) => string)(reason)
}

/** Where a record sits in its input file, as a message suffix ('' for a change event). */
export function where(source: SourcePosition | null): string {
  return source ? ` (${source.file}:${source.line})` : ''
}
