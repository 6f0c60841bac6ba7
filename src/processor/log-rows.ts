/**
 * The one place a sync's rows are written: outcome rows (one per record that is
 * logged, one per problem of an Invalid record) and action rows (roster and
 * section). Reasons become message text here, and every outcome is counted here.
 */
import type { EntityType, SourcePosition } from '../events/change-event.js'
import type { LogAction, LogRow, Outcome } from '../events/sync-log-event.js'
import type { Causes } from './causes.js'
import { OutcomeCounter } from './outcome-counter.js'
import { hasOutcomeRow } from './outcome-rules.js'
import { fieldMessage, removalMessage, where, type FieldReason, type Removal } from './reasons.js'
import { displayName } from './records.js'
import type { RosterReader } from './roster-store.js'
import {
  classContext,
  courseContext,
  enrollmentContext,
  homeSchoolId,
  NO_CONTEXT,
  placeOf,
  servingContext,
  userContext,
  type RowContext,
} from './views.js'

/** Raw fields of a record, as sent or as stored. */
export type Fields = Readonly<Record<string, unknown>>

/** A tracked field that changed, with display values. */
interface Change {
  readonly field: string
  readonly oldValue: string
  readonly newValue: string
}

/** The field an action row is about, with its values as the row shows them. */
export interface ActionChange {
  readonly field: string
  readonly oldValue: string
  readonly newValue: string
}

const NO_ACTION_CHANGE: ActionChange = { field: '', oldValue: '', newValue: '' }

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/** What the action rows a record causes repeat from its outcome row (roster rows are about enrollments, section rows about classes). */
interface RecordFact {
  readonly outcome: Outcome
  readonly schoolId: string
  readonly date: string
}

/** The sync a RowLog writes for: every row carries it. */
export interface RowSync {
  readonly tenant: string
  readonly syncId: string
  readonly app: string
}

export class RowLog {
  readonly rows: LogRow[] = []
  readonly counter = new OutcomeCounter()
  /**
   * Per type that action rows are about, what each record's outcome row said. An enrollment
   * that is No Change is left out: roster rows are written only for the enrollments the sync
   * changes, and nothing changes one after its own outcome (enrollments resolve last; a
   * cascade from a parent removes them before they resolve, and is then their outcome).
   */
  private readonly facts: { readonly [E in 'class' | 'enrollment']: Map<string, RecordFact> } = { class: new Map(), enrollment: new Map() }

  constructor(
    private readonly sync: RowSync,
    /** The committed state, for a record's school when the sync removes it. */
    private readonly before: RosterReader,
    /** When the sync ended: the date of rows no record of the sync caused. */
    private readonly endedAt: string,
    /** The root cause of a row, from its reason. */
    private readonly causes: Causes,
  ) {}

  /** A record not applied (Skipped, Merged, Excluded): one row with the reason. */
  notApplied(
    outcome: Outcome,
    entity: EntityType,
    id: string,
    fields: Fields,
    reader: RosterReader,
    date: string,
    reason: FieldReason,
    source: SourcePosition | null,
  ): void {
    const schoolId = this.count(outcome, entity, id, fields, reader, date)
    if (schoolId === null) return
    const context = contextOf(entity, id, fields, reader)
    const message = fieldMessage(reason, where(source))
    this.push(
      context,
      entity,
      id,
      outcome,
      schoolId,
      date,
      outcome as LogAction,
      reason.field,
      '',
      '',
      message,
      this.causes.ofReason(reason),
    )
  }

  /** An Invalid record: one row per field left empty. */
  invalid(entity: EntityType, id: string, fields: Fields, reader: RosterReader, date: string, reasons: readonly FieldReason[]): void {
    const schoolId = this.count('Invalid', entity, id, fields, reader, date)
    if (schoolId === null) return
    const context = contextOf(entity, id, fields, reader)
    for (const reason of reasons) {
      const message = fieldMessage(reason, '; left empty')
      this.push(context, entity, id, 'Invalid', schoolId, date, 'Invalid', reason.field, '', '', message, this.causes.ofReason(reason))
    }
  }

  /** A New, Updated or No Change record, with the fields that changed. */
  applied(
    outcome: Outcome,
    entity: EntityType,
    id: string,
    fields: Fields,
    reader: RosterReader,
    date: string,
    changes: readonly Change[],
  ): void {
    const schoolId = this.count(outcome, entity, id, fields, reader, date)
    if (schoolId === null) return
    const context = contextOf(entity, id, fields, reader)
    const field = changes.length === 0 ? '' : changes.map((x) => x.field).join(', ')
    const oldValue = changes.length === 0 ? '' : changes.map((x) => `${x.field}: ${x.oldValue}`).join('; ')
    const newValue = changes.length === 0 ? '' : changes.map((x) => `${x.field}: ${x.newValue}`).join('; ')
    this.push(context, entity, id, outcome, schoolId, date, outcome as LogAction, field, oldValue, newValue, '', '')
  }

  /** A Deleted record (by the source, or by absence from a full file), read from the committed state. */
  deleted(entity: EntityType, id: string, fields: Fields, date: string, why: Removal, source: SourcePosition | null): void {
    const schoolId = this.count('Deleted', entity, id, fields, this.before, date)
    if (schoolId === null) return
    const context = contextOf(entity, id, fields, this.before)
    const message = `${removalMessage(why)}${where(source)}`
    this.push(context, entity, id, 'Deleted', schoolId, date, 'Deleted', '', '', '', message, this.causes.ofRemoval(why))
  }

  /** A roster or section action row about a record; it repeats the record's outcome, school and date. */
  action(
    action: LogAction,
    context: RowContext,
    entity: 'enrollment' | 'class',
    id: string,
    change: ActionChange = NO_ACTION_CHANGE,
    why?: Removal,
  ): void {
    const fact = this.facts[entity].get(id)
    this.push(
      context,
      entity,
      id,
      fact?.outcome ?? '',
      fact?.schoolId ?? '',
      fact?.date ?? this.endedAt,
      action,
      change.field,
      change.oldValue,
      change.newValue,
      why ? removalMessage(why) : '',
      why ? this.causes.ofRemoval(why) : '',
    )
  }

  /** Appends one row, built whole in one literal (one shape for every row), numbered in the order written. */
  private push(
    context: RowContext,
    entity: EntityType,
    sourcedId: string,
    outcome: Outcome | '',
    recordSchoolId: string,
    date: string,
    action: LogAction,
    field: string,
    oldValue: string,
    newValue: string,
    message: string,
    cause: string,
  ): void {
    const { serving, home } = context
    this.rows.push({
      kind: 'LogRow',
      tenant: this.sync.tenant,
      syncId: this.sync.syncId,
      seq: this.rows.length + 1,
      app: this.sync.app,
      studentNumber: context.studentNumber,
      studentName: context.studentName,
      courseNumber: context.courseNumber,
      courseName: context.courseName,
      sectionNumber: context.sectionNumber,
      field,
      oldValue,
      newValue,
      servingDistrictId: serving.districtId,
      servingDistrict: serving.district,
      servingSchoolId: serving.schoolId,
      servingSchool: serving.school,
      homeDistrictId: home.districtId,
      homeDistrict: home.district,
      homeSchoolId: home.schoolId,
      homeSchool: home.school,
      entity,
      sourcedId,
      outcome,
      message,
      recordSchoolId,
      cause,
      date,
      action,
    })
  }

  /**
   * Counts one record's outcome and remembers it; returns the school it is
   * counted under when the outcome is logged, else null.
   */
  private count(outcome: Outcome, entity: EntityType, id: string, fields: Fields, reader: RosterReader, date: string): string | null {
    const recordSchoolId = this.schoolOf(entity, id, fields, reader)
    this.counter.add(entity, recordSchoolId, outcome)
    if (entity === 'class' || (entity === 'enrollment' && outcome !== 'No Change'))
      this.facts[entity].set(id, { outcome, schoolId: recordSchoolId, date })
    return hasOutcomeRow(outcome, entity === 'enrollment' && str(fields.role) === 'student') ? recordSchoolId : null
  }

  private isSchool(reader: RosterReader, orgId: string): boolean {
    return orgId !== '' && (reader.get('org', orgId) ?? this.before.get('org', orgId))?.type === 'school'
  }

  /** The school a record is counted under (docs/sync-semantics.md, Counts); reads only ROW_FIELDS. */
  private schoolOf(entity: EntityType, id: string, f: Fields, reader: RosterReader): string {
    switch (entity) {
      case 'org':
        return str(f.type) === 'school' ? id : ''
      case 'academicSession':
        return ''
      case 'course':
        return this.isSchool(reader, str(f.orgSourcedId)) ? str(f.orgSourcedId) : ''
      case 'user': {
        const home = homeSchoolId(reader, list(f.orgSourcedIds))
        return this.isSchool(reader, home) ? home : ''
      }
      case 'class':
      case 'enrollment':
        return str(f.schoolSourcedId)
    }
  }
}

/**
 * The fields a record's outcome row reads (schoolOf, contextOf, and the role of an
 * enrollment), per type: lists are read with `list`, the rest with `str`.
 */
type RowField =
  | 'type'
  | 'orgSourcedId'
  | 'courseCode'
  | 'title'
  | 'orgSourcedIds'
  | 'role'
  | 'identifier'
  | 'givenName'
  | 'familyName'
  | 'schoolSourcedId'
  | 'courseSourcedId'
  | 'classCode'
  | 'classSourcedId'
  | 'userSourcedId'

const ROW_FIELDS: { readonly [E in EntityType]: readonly RowField[] } = {
  org: ['type'],
  academicSession: [],
  course: ['orgSourcedId', 'courseCode', 'title'],
  user: ['orgSourcedIds', 'role', 'identifier', 'givenName', 'familyName'],
  class: ['schoolSourcedId', 'courseSourcedId', 'classCode'],
  enrollment: ['schoolSourcedId', 'role', 'classSourcedId', 'userSourcedId'],
}

/** Whether a row written from `other` reads the same columns as one written from `fields` (raw fields, or a record's). */
export function rowsReadAlike(entity: EntityType, fields: Fields, other: Fields): boolean {
  for (const name of ROW_FIELDS[entity]) {
    const a = fields[name]
    const b = other[name]
    if (!Array.isArray(a) && !Array.isArray(b)) {
      if (str(a) !== str(b)) return false
      continue
    }
    const x = list(a)
    const y = list(b)
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) return false
  }
  return true
}

/** Columns that place a record (student, section, schools), from its fields or record; reads only ROW_FIELDS. */
function contextOf(entity: EntityType, id: string, f: Fields, reader: RosterReader): RowContext {
  switch (entity) {
    case 'org':
      return str(f.type) === 'school' ? servingContext(placeOf(reader, id)) : NO_CONTEXT
    case 'academicSession':
      return NO_CONTEXT
    case 'course':
      return courseContext(str(f.courseCode), str(f.title), placeOf(reader, str(f.orgSourcedId)))
    case 'user': {
      const home = placeOf(reader, homeSchoolId(reader, list(f.orgSourcedIds)))
      if (str(f.role) !== 'student') return userContext('', '', home)
      return userContext(str(f.identifier), displayName({ givenName: str(f.givenName), familyName: str(f.familyName) }), home)
    }
    case 'class':
      return classContext(reader.get('course', str(f.courseSourcedId)), str(f.classCode), placeOf(reader, str(f.schoolSourcedId)))
    case 'enrollment':
      return enrollmentContext(reader, str(f.classSourcedId), str(f.userSourcedId), str(f.schoolSourcedId))
  }
}
