/**
 * The one place a sync's rows are written: outcome rows (one per record that is
 * logged, one per problem of an Invalid record) and action rows (roster and
 * section). Reasons become message text here, and every outcome is counted here.
 */
import type { EntityType, SourcePosition } from '../events/change-event.js'
import { BLANK_LOG_COLUMNS, type LogAction, type LogRow, type Outcome } from '../events/sync-log-event.js'
import type { Causes } from './causes.js'
import { OutcomeCounter } from './outcome-counter.js'
import { hasOutcomeRow } from './outcome-rules.js'
import { fieldMessage, removalMessage, where, type FieldReason, type Removal } from './reasons.js'
import { displayName } from './records.js'
import type { RosterReader } from './roster-store.js'
import { enrollmentColumns, homeColumns, homeSchoolId, placeOf, servingColumns } from './views.js'

/**
 * A row before it gets its place (seq) in the sync's output. The fold writes
 * only the actions and outcomes it knows (a stored row may carry a newer one).
 */
export type DraftRow = Omit<LogRow, 'kind' | 'tenant' | 'syncId' | 'seq' | 'app' | 'action' | 'outcome'> & {
  readonly action: LogAction
  readonly outcome: Outcome | ''
}

/** Raw fields of a record, as sent or as stored. */
export type Fields = Readonly<Record<string, unknown>>

/** A tracked field that changed, with display values. */
interface Change {
  readonly field: string
  readonly oldValue: string
  readonly newValue: string
}

const ROW_DEFAULTS: Omit<DraftRow, 'date' | 'action'> = BLANK_LOG_COLUMNS

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/** What the action rows a record causes repeat from its outcome row. */
interface RecordFact {
  readonly outcome: Outcome
  readonly schoolId: string
  readonly date: string
}

export class RowLog {
  readonly rows: DraftRow[] = []
  readonly counter = new OutcomeCounter()
  private readonly facts = new Map<EntityType, Map<string, RecordFact>>()

  constructor(
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
    const base = this.count(outcome, entity, id, fields, reader, date)
    if (base)
      this.rows.push({ ...base, field: reason.field, message: fieldMessage(reason, where(source)), cause: this.causes.ofReason(reason) })
  }

  /** An Invalid record: one row per field left empty. */
  invalid(entity: EntityType, id: string, fields: Fields, reader: RosterReader, date: string, reasons: readonly FieldReason[]): void {
    const base = this.count('Invalid', entity, id, fields, reader, date)
    if (!base) return
    for (const reason of reasons)
      this.rows.push({ ...base, field: reason.field, message: fieldMessage(reason, '; left empty'), cause: this.causes.ofReason(reason) })
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
    const base = this.count(outcome, entity, id, fields, reader, date)
    if (!base) return
    this.rows.push({
      ...base,
      field: changes.map((x) => x.field).join(', '),
      oldValue: changes.map((x) => `${x.field}: ${x.oldValue}`).join('; '),
      newValue: changes.map((x) => `${x.field}: ${x.newValue}`).join('; '),
    })
  }

  /** A Deleted record (by the source, or by absence from a full file), read from the committed state. */
  deleted(entity: EntityType, id: string, fields: Fields, date: string, why: Removal, source: SourcePosition | null): void {
    const base = this.count('Deleted', entity, id, fields, this.before, date)
    if (base) this.rows.push({ ...base, message: `${removalMessage(why)}${where(source)}`, cause: this.causes.ofRemoval(why) })
  }

  /** A roster or section action row about a record; it repeats the record's outcome, school and date. */
  action(
    action: LogAction,
    context: Partial<DraftRow>,
    entity: EntityType,
    id: string,
    extra: Pick<Partial<DraftRow>, 'field' | 'oldValue' | 'newValue'>,
    why?: Removal,
  ): void {
    const fact = this.facts.get(entity)?.get(id)
    this.rows.push({
      ...ROW_DEFAULTS,
      ...context,
      entity,
      sourcedId: id,
      outcome: fact?.outcome ?? '',
      recordSchoolId: fact?.schoolId ?? '',
      date: fact?.date ?? this.endedAt,
      action,
      ...extra,
      message: why ? removalMessage(why) : '',
      cause: why ? this.causes.ofRemoval(why) : '',
    })
  }

  /** Counts one record's outcome and remembers it; returns the row's columns when the outcome is logged. */
  private count(outcome: Outcome, entity: EntityType, id: string, fields: Fields, reader: RosterReader, date: string): DraftRow | null {
    const recordSchoolId = this.schoolOf(entity, id, fields, reader)
    this.counter.add(entity, recordSchoolId, outcome)
    let facts = this.facts.get(entity)
    if (!facts) this.facts.set(entity, (facts = new Map()))
    facts.set(id, { outcome, schoolId: recordSchoolId, date })
    if (!hasOutcomeRow(outcome, entity === 'enrollment' && str(fields.role) === 'student')) return null
    return {
      ...ROW_DEFAULTS,
      ...contextOf(entity, id, fields, reader),
      entity,
      sourcedId: id,
      outcome,
      recordSchoolId,
      date,
      action: outcome as LogAction,
    }
  }

  /** The school a record is counted under (docs/sync-semantics.md, Counts). */
  private schoolOf(entity: EntityType, id: string, f: Fields, reader: RosterReader): string {
    const isSchool = (orgId: string): boolean =>
      orgId !== '' && (reader.get('org', orgId) ?? this.before.get('org', orgId))?.type === 'school'
    switch (entity) {
      case 'org':
        return str(f.type) === 'school' ? id : ''
      case 'academicSession':
        return ''
      case 'course':
        return isSchool(str(f.orgSourcedId)) ? str(f.orgSourcedId) : ''
      case 'user': {
        const home = homeSchoolId(reader, list(f.orgSourcedIds))
        return isSchool(home) ? home : ''
      }
      case 'class':
      case 'enrollment':
        return str(f.schoolSourcedId)
    }
  }
}

/** Columns that place a record (student, section, schools), from its fields or record. */
function contextOf(entity: EntityType, id: string, f: Fields, reader: RosterReader): Partial<DraftRow> {
  switch (entity) {
    case 'org':
      return str(f.type) === 'school' ? servingColumns(placeOf(reader, id)) : {}
    case 'academicSession':
      return {}
    case 'course':
      return { courseNumber: str(f.courseCode), courseName: str(f.title), ...servingColumns(placeOf(reader, str(f.orgSourcedId))) }
    case 'user': {
      const home = homeColumns(placeOf(reader, homeSchoolId(reader, list(f.orgSourcedIds))))
      if (str(f.role) !== 'student') return home
      return {
        studentNumber: str(f.identifier),
        studentName: displayName({ givenName: str(f.givenName), familyName: str(f.familyName) }),
        ...home,
      }
    }
    case 'class': {
      const course = reader.get('course', str(f.courseSourcedId))
      return {
        sectionNumber: str(f.classCode),
        courseNumber: course?.courseCode ?? '',
        courseName: course?.title ?? '',
        ...servingColumns(placeOf(reader, str(f.schoolSourcedId))),
      }
    }
    case 'enrollment':
      return enrollmentColumns(reader, {
        classSourcedId: str(f.classSourcedId),
        userSourcedId: str(f.userSourcedId),
        schoolSourcedId: str(f.schoolSourcedId),
      })
  }
}
