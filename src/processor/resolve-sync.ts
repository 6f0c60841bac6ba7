/**
 * The end of a sync: every buffered record gets its outcome against the state,
 * parents before children (orgs, terms, courses, users, classes, enrollments);
 * deletions (explicit, or by absence from a full file) cascade; then roster and
 * section actions are read off the difference between the committed state and
 * the overlay the sync leaves.
 */
import { ENTITY_TYPES, type EntityType, type SyncEnded } from '../events/change-event.js'
import type { LogAction, LogRow, Outcome } from '../events/sync-log-event.js'
import type { Candidate, PendingSync } from './pending-sync.js'
import { where } from './pending-sync.js'
import { OutcomeCounter } from './outcome-counter.js'
import { changedFields, displayName, type AnyRecord, type ClassRecord, type FieldIssue } from './records.js'
import { Overlay, committedReader, emptyOverlay, type OverlayData, type RosterReader, type RosterTables } from './roster-store.js'
import { instantMillis, calendarDateOf } from './time.js'
import {
  SECTION_FIELDS, enrollmentColumns, homeColumns, homeSchoolId, placeOf, rosterView, sectionColumns, sectionView, servingColumns,
} from './views.js'

export interface HoldThresholds {
  /** A full sync that would delete more than this percentage of a type's existing records is held. */
  readonly deletePercent: number
  /** ... or update more than this percentage. */
  readonly updatePercent: number
}

export interface ResolveOptions {
  readonly tenant: string
  readonly holdThresholds: HoldThresholds
  /** School sourcedIds onboarded for the tenant; undefined = every school. */
  readonly onboardedSchools: ReadonlySet<string> | undefined
}

/** A row before it gets its place (seq) in the sync's output. */
/** The fold writes only the actions and outcomes it knows (a stored row may carry a newer one). */
export type DraftRow = Omit<LogRow, 'kind' | 'tenant' | 'syncId' | 'seq' | 'app' | 'action' | 'outcome'> & {
  readonly action: LogAction
  readonly outcome: Outcome | ''
}

export interface ResolvedSync {
  readonly overlay: OverlayData
  readonly rows: DraftRow[]
  readonly counter: OutcomeCounter
  /** Why the sync must be held for review; blank when it may be applied. */
  readonly holdReason: string
  schoolName(id: string): string
}

const LABEL: Record<EntityType, string> = {
  org: 'org', academicSession: 'academic session', course: 'course', user: 'user', class: 'class', enrollment: 'enrollment',
}

const ROW_DEFAULTS: Omit<DraftRow, 'date' | 'action'> = {
  studentNumber: '', studentName: '', courseNumber: '', courseName: '', sectionNumber: '', field: '', oldValue: '', newValue: '',
  servingDistrictId: '', servingDistrict: '', servingSchoolId: '', servingSchool: '',
  homeDistrictId: '', homeDistrict: '', homeSchoolId: '', homeSchool: '', entity: '', sourcedId: '', outcome: '', message: '', recordSchoolId: '',
}

const NO_IDS: ReadonlySet<string> = new Set()
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const asFields = (r: AnyRecord): Readonly<Record<string, unknown>> => r as unknown as Readonly<Record<string, unknown>>
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

class SyncResolver {
  private readonly before: RosterReader
  private readonly overlay: Overlay
  readonly rows: DraftRow[] = []
  readonly counter = new OutcomeCounter()
  private readonly skipped = new Map<EntityType, Set<string>>(ENTITY_TYPES.map((e) => [e, new Set<string>()]))
  private readonly deleted = new Map<EntityType, Set<string>>(ENTITY_TYPES.map((e) => [e, new Set<string>()]))
  /** Why a class or enrollment left the state (`class:id` / `enrollment:id`). */
  private readonly removalReason = new Map<string, string>()
  /** Outcome of each applied input record (`entity:id`), shown on the action rows it causes. */
  private readonly outcomeOf = new Map<string, Outcome>()
  /** `entity:id` → the school its outcome is counted under. */
  private readonly recordSchoolOf = new Map<string, string>()
  /** Occurrence time of each input record, for the rows it causes. */
  private readonly timeOf = new Map<string, string>()
  private readonly asOf: string

  constructor(
    private readonly store: RosterTables,
    private readonly sync: PendingSync,
    private readonly end: SyncEnded,
    private readonly options: ResolveOptions,
  ) {
    this.before = committedReader(store)
    this.overlay = new Overlay(store, emptyOverlay())
    this.asOf = calendarDateOf(end.occurredAt)
  }

  run(): ResolvedSync {
    for (const early of this.sync.early) {
      this.outcome(early.outcome, early.entity, early.sourcedId, early.fields, this.overlay, {
        date: early.occurredAt, field: early.field, message: early.message,
      })
    }
    for (const entity of ENTITY_TYPES) {
      const candidates = [...this.sync.candidates[entity].values()]
      // Only orgs and sessions refer to their own type (parents); they alone need to know what the sync leaves.
      const willExist = entity === 'org' || entity === 'academicSession'
        ? new Set([...this.overlay.ids(entity), ...candidates.filter((c) => c.op === 'upsert').map((c) => c.sourcedId)])
        : NO_IDS
      for (const c of candidates) {
        if (c.op === 'delete') this.resolveDelete(c)
        else this.resolveUpsert(c, willExist)
      }
      if (this.sync.modes[entity] === 'full') this.deleteAbsent(entity)
    }
    this.deriveSectionActions()
    this.deriveRosterActions()
    const overlay = this.overlay
    return {
      overlay: this.overlay.data,
      rows: this.rows,
      counter: this.counter,
      holdReason: this.holdReason(),
      schoolName: (id) => overlay.get('org', id)?.name ?? this.before.get('org', id)?.name ?? '',
    }
  }

  // ---- outcomes ----

  private schoolOf(entity: EntityType, id: string, f: Readonly<Record<string, unknown>>, reader: RosterReader): string {
    const isSchool = (orgId: string): boolean =>
      orgId !== '' && (reader.get('org', orgId) ?? this.before.get('org', orgId))?.type === 'school'
    switch (entity) {
      case 'org': return str(f.type) === 'school' ? id : ''
      case 'academicSession': return ''
      case 'course': return isSchool(str(f.orgSourcedId)) ? str(f.orgSourcedId) : ''
      case 'user': {
        const home = homeSchoolId(reader, list(f.orgSourcedIds))
        return isSchool(home) ? home : ''
      }
      case 'class':
      case 'enrollment': return str(f.schoolSourcedId)
    }
  }

  /** Columns that place a record (student, section, schools), from its fields or record. */
  private contextOf(entity: EntityType, id: string, f: Readonly<Record<string, unknown>>, reader: RosterReader): Partial<DraftRow> {
    switch (entity) {
      case 'org': return str(f.type) === 'school' ? servingColumns(placeOf(reader, id)) : {}
      case 'academicSession': return {}
      case 'course': return { courseNumber: str(f.courseCode), courseName: str(f.title), ...servingColumns(placeOf(reader, str(f.orgSourcedId))) }
      case 'user': {
        const home = homeColumns(placeOf(reader, homeSchoolId(reader, list(f.orgSourcedIds))))
        if (str(f.role) !== 'student') return home
        return { studentNumber: str(f.identifier), studentName: displayName({ givenName: str(f.givenName), familyName: str(f.familyName) }), ...home }
      }
      case 'class': {
        const course = reader.get('course', str(f.courseSourcedId))
        return {
          sectionNumber: str(f.classCode), courseNumber: course?.courseCode ?? '', courseName: course?.title ?? '',
          ...servingColumns(placeOf(reader, str(f.schoolSourcedId))),
        }
      }
      case 'enrollment':
        return enrollmentColumns(reader, { classSourcedId: str(f.classSourcedId), userSourcedId: str(f.userSourcedId), schoolSourcedId: str(f.schoolSourcedId) })
    }
  }

  /** Counts one record's outcome and logs it (No Change is counted, not logged; student enrollments are logged by their roster rows). */
  private outcome(
    outcome: Outcome, entity: EntityType, id: string, f: Readonly<Record<string, unknown>>, reader: RosterReader,
    row: { date: string; field?: string; message?: string; oldValue?: string; newValue?: string },
    issues: readonly FieldIssue[] = [],
  ): void {
    const recordSchoolId = this.schoolOf(entity, id, f, reader)
    this.counter.add(entity, recordSchoolId, outcome)
    this.outcomeOf.set(`${entity}:${id}`, outcome)
    this.recordSchoolOf.set(`${entity}:${id}`, recordSchoolId)
    this.timeOf.set(`${entity}:${id}`, row.date)
    const studentEnrollment = entity === 'enrollment' && str(f.role) === 'student'
    const logged = outcome !== 'No Change' && !(studentEnrollment && (outcome === 'New' || outcome === 'Updated' || outcome === 'Deleted'))
    if (!logged) return
    const context = this.contextOf(entity, id, f, reader)
    const base = { ...ROW_DEFAULTS, ...context, entity, sourcedId: id, outcome, recordSchoolId, date: row.date }
    if (issues.length > 0) {
      for (const issue of issues) this.rows.push({ ...base, action: outcome as LogAction, field: issue.field, message: issue.message })
      return
    }
    this.rows.push({
      ...base, action: outcome as LogAction, field: row.field ?? '', message: row.message ?? '',
      oldValue: row.oldValue ?? '', newValue: row.newValue ?? '',
    })
  }

  private skip(c: Candidate, field: string, message: string): void {
    this.skipped.get(c.entity)?.add(c.sourcedId)
    this.outcome('Skipped', c.entity, c.sourcedId, c.fields, this.overlay, { date: c.occurredAt, field, message: `${message}${where(c.source)}` })
  }

  private isStale(c: Candidate, current: AnyRecord | undefined): string {
    if (!current || !c.dateLastModified || !current.dateLastModified) return ''
    const incoming = instantMillis(c.dateLastModified)
    const stored = instantMillis(current.dateLastModified)
    if (incoming === null || stored === null || incoming >= stored) return ''
    return `stale update: dateLastModified ${c.dateLastModified} is older than the stored ${current.dateLastModified}`
  }

  private resolveDelete(c: Candidate): void {
    const current = this.overlay.get(c.entity, c.sourcedId)
    const existed = current !== undefined || this.overlay.existedBefore(c.entity, c.sourcedId)
    if (!existed) return this.skip(c, 'sourcedId', `cannot delete ${LABEL[c.entity]} '${c.sourcedId}': no such record`)
    const stale = this.isStale(c, current)
    if (stale) return this.skip(c, 'dateLastModified', stale)
    const previous = current ?? this.before.get(c.entity, c.sourcedId)
    this.outcome('Deleted', c.entity, c.sourcedId, previous ? asFields(previous) : c.fields, this.before, { date: c.occurredAt, message: `deleted by the source${where(c.source)}` })
    if (current) this.remove(c.entity, c.sourcedId, 'deleted by the source')
  }

  private deleteAbsent(entity: EntityType): void {
    const seen = this.sync.seen[entity]
    const table = this.store.tables[entity] as Map<string, AnyRecord>
    // In id order, not the table's: a state restored from a compacted changelog holds the same
    // records in another order, and must give the same rows.
    for (const id of [...table.keys()].filter((k) => !seen.has(k)).sort()) {
      const previous = table.get(id)!
      const reason = `absent from the full ${LABEL[entity]} file`
      this.outcome('Deleted', entity, id, asFields(previous), this.before, { date: this.end.occurredAt, message: reason })
      if (this.overlay.get(entity, id)) this.remove(entity, id, reason)
    }
  }

  // ---- references ----

  private notOnboarded(schoolId: string): boolean {
    const onboarded = this.options.onboardedSchools
    if (!onboarded || onboarded.has(schoolId)) return false
    const org = this.overlay.get('org', schoolId) ?? this.sync.candidates.org.get(schoolId)?.record
    return !org || (org as { type?: string }).type === 'school'
  }

  /** Why a required reference does not resolve, or ''. */
  private missing(entity: EntityType, id: string): string {
    if (entity === 'org' && this.notOnboarded(id)) return `school '${id}' is not onboarded for this tenant; the school and all its records are not synced`
    if (this.skipped.get(entity)?.has(id)) return `${LABEL[entity]} '${id}' was skipped in this sync`
    if (this.overlay.get(entity, id)) return ''
    if (this.deleted.get(entity)?.has(id)) return `${LABEL[entity]} '${id}' was deleted in this sync`
    return `unknown ${LABEL[entity]} '${id}'`
  }

  /** Required references of a record: [field, entity, id]. */
  private references(entity: EntityType, r: AnyRecord): [string, EntityType, string][] {
    switch (entity) {
      case 'org': case 'academicSession': return []
      case 'course': return [['orgSourcedId', 'org', (r as { orgSourcedId: string }).orgSourcedId]]
      case 'user': return (r as { orgSourcedIds: readonly string[] }).orgSourcedIds.map((id) => ['orgSourcedIds', 'org', id])
      case 'class': {
        const c = r as ClassRecord
        return [['schoolSourcedId', 'org', c.schoolSourcedId], ['courseSourcedId', 'course', c.courseSourcedId],
          ...c.termSourcedIds.map((t): [string, EntityType, string] => ['termSourcedIds', 'academicSession', t])]
      }
      case 'enrollment': {
        const e = r as { schoolSourcedId: string; classSourcedId: string; userSourcedId: string }
        return [['schoolSourcedId', 'org', e.schoolSourcedId], ['classSourcedId', 'class', e.classSourcedId], ['userSourcedId', 'user', e.userSourcedId]]
      }
    }
  }

  /** Optional references that leave the record Invalid (field emptied) when they do not resolve. */
  private optionalReference(entity: EntityType, r: AnyRecord, willExist: ReadonlySet<string>): { record: AnyRecord; issue: FieldIssue } | undefined {
    const check = (field: string, target: EntityType, id: string | null, sameType: boolean): FieldIssue | undefined => {
      if (id === null) return undefined
      const exists = sameType ? willExist.has(id) : this.overlay.get(target, id) !== undefined
      return exists ? undefined : { field, message: `unknown ${LABEL[target]} '${id}'; left empty` }
    }
    let issue: FieldIssue | undefined
    if (entity === 'org' && (issue = check('parentSourcedId', 'org', (r as { parentSourcedId: string | null }).parentSourcedId, true))) {
      return { record: { ...r, parentSourcedId: null } as AnyRecord, issue }
    }
    if (entity === 'academicSession' && (issue = check('parentSourcedId', 'academicSession', (r as { parentSourcedId: string | null }).parentSourcedId, true))) {
      return { record: { ...r, parentSourcedId: null } as AnyRecord, issue }
    }
    if (entity === 'course' && (issue = check('schoolYearSourcedId', 'academicSession', (r as { schoolYearSourcedId: string | null }).schoolYearSourcedId, false))) {
      return { record: { ...r, schoolYearSourcedId: null } as AnyRecord, issue }
    }
    return undefined
  }

  /** A class needs a teacher at the end of the sync: one already enrolled and kept, or one enrolled by this sync. */
  /** Teacher users of the enrollments this sync upserts, per class; built once, on the first class. */
  private teachersByClass: Map<string, string[]> | undefined

  private incomingTeachers(classId: string): readonly string[] {
    if (!this.teachersByClass) {
      this.teachersByClass = new Map()
      for (const c of this.sync.candidates.enrollment.values()) {
        const e = c.record as { role?: string; classSourcedId?: string; userSourcedId?: string } | null
        if (c.op !== 'upsert' || e?.role !== 'teacher' || !e.classSourcedId || !e.userSourcedId) continue
        const list = this.teachersByClass.get(e.classSourcedId)
        if (list) list.push(e.userSourcedId)
        else this.teachersByClass.set(e.classSourcedId, [e.userSourcedId])
      }
    }
    return this.teachersByClass.get(classId) ?? []
  }

  private hasTeacher(classId: string): boolean {
    if (this.incomingTeachers(classId).some((user) => this.overlay.get('user', user))) return true
    const enrollments = this.sync.candidates.enrollment
    const fullEnrollments = this.sync.modes.enrollment === 'full'
    for (const id of this.overlay.related('enrollmentsByClass', classId)) {
      const e = this.overlay.get('enrollment', id)
      if (!e || e.role !== 'teacher' || !this.overlay.get('user', e.userSourcedId)) continue
      const candidate = enrollments.get(id)
      if (candidate?.op === 'delete') continue
      if (fullEnrollments && !this.sync.seen.enrollment.has(id)) continue
      return true
    }
    return false
  }


  private resolveUpsert(c: Candidate, willExist: ReadonlySet<string>): void {
    let record = c.record as AnyRecord
    if (c.entity === 'org' && (record as { type: string }).type === 'school' && this.notOnboarded(c.sourcedId)) {
      return this.skip(c, 'sourcedId', 'school is not onboarded for this tenant; the school and all its records are not synced')
    }
    for (const [field, target, id] of this.references(c.entity, record)) {
      const why = this.missing(target, id)
      if (why) return this.skip(c, field, why)
    }
    if (c.entity === 'class' && !this.hasTeacher(c.sourcedId)) return this.skip(c, 'teacher', 'primary teacher is required')
    const current = this.overlay.get(c.entity, c.sourcedId)
    const stale = this.isStale(c, current)
    if (stale) return this.skip(c, 'dateLastModified', stale)

    const issues = [...c.invalid]
    const optional = this.optionalReference(c.entity, record, willExist)
    if (optional) {
      record = optional.record
      issues.push(optional.issue)
    }
    const changes = current ? changedFields(current, record) : []
    const changed = !current || changes.length > 0
    if (changed) this.overlay.set(c.entity, record as never)
    const outcome: Outcome = issues.length > 0 ? 'Invalid' : !current ? 'New' : changed ? 'Updated' : 'No Change'
    this.outcome(outcome, c.entity, c.sourcedId, asFields(record), this.overlay, {
      date: c.occurredAt,
      field: changes.map((x) => x.field).join(', '),
      oldValue: changes.map((x) => `${x.field}: ${x.oldValue}`).join('; '),
      newValue: changes.map((x) => `${x.field}: ${x.newValue}`).join('; '),
    }, issues)
  }

  // ---- cascades ----

  private remove(entity: EntityType, id: string, reason: string): void {
    if (!this.overlay.get(entity, id)) return
    this.overlay.delete(entity, id)
    this.deleted.get(entity)?.add(id)
    if (entity === 'class' || entity === 'enrollment') this.removalReason.set(`${entity}:${id}`, reason)
    switch (entity) {
      case 'org':
        for (const c of this.overlay.related('classesBySchool', id)) this.remove('class', c, `school '${id}' ${reason}`)
        break
      case 'academicSession':
        for (const c of this.overlay.related('classesByTerm', id)) this.remove('class', c, `term '${id}' ${reason}`)
        break
      case 'course':
        for (const c of this.overlay.related('classesByCourse', id)) this.remove('class', c, `course '${id}' ${reason}`)
        break
      case 'user': {
        const role = this.before.get('user', id)?.role ?? 'user'
        for (const e of this.overlay.related('enrollmentsByUser', id)) this.remove('enrollment', e, `${role} '${id}' ${reason}`)
        break
      }
      case 'class': {
        const cascaded = /^(course|school|term) /.test(reason)
        for (const e of this.overlay.related('enrollmentsByClass', id)) this.remove('enrollment', e, `section ${cascaded ? 'invalidated: ' : ''}${reason}`)
        break
      }
      case 'enrollment':
        break
    }
  }

  // ---- actions ----

  private affectedClasses(): string[] {
    const ids = new Set<string>(this.overlay.changedIds('class'))
    const readers = [this.before, this.overlay]
    const addRelated = (index: 'classesByCourse' | 'classesByTerm', key: string): void => {
      for (const r of readers) for (const c of r.related(index, key)) ids.add(c)
    }
    for (const id of this.overlay.changedIds('course')) addRelated('classesByCourse', id)
    for (const id of this.overlay.changedIds('academicSession')) addRelated('classesByTerm', id)
    for (const id of this.overlay.changedIds('enrollment')) {
      for (const r of readers) {
        const e = r.get('enrollment', id)
        if (e?.role === 'teacher') ids.add(e.classSourcedId)
      }
    }
    for (const id of this.overlay.changedIds('user')) {
      if (this.before.get('user', id)?.role !== 'teacher' && this.overlay.get('user', id)?.role !== 'teacher') continue
      for (const r of readers) {
        for (const e of r.related('enrollmentsByUser', id)) {
          const enrollment = r.get('enrollment', e)
          if (enrollment?.role === 'teacher') ids.add(enrollment.classSourcedId)
        }
      }
    }
    return [...ids]
  }

  private activeRosters(classId: string): number {
    let n = 0
    for (const id of this.before.related('enrollmentsByClass', classId)) {
      const e = this.before.get('enrollment', id)
      if (e?.role === 'student' && (e.endDate === null || e.endDate > this.asOf)) n++
    }
    return n
  }

  private actionRow(action: LogAction, context: Partial<DraftRow>, key: string, extra: Partial<DraftRow>): void {
    // `entity:id`: entity names have no ':', ids may (`sch:001`), so only the first one separates.
    const colon = key.indexOf(':')
    const entity = key.slice(0, colon) as EntityType
    const id = key.slice(colon + 1)
    this.rows.push({
      ...ROW_DEFAULTS, ...context, entity, sourcedId: id, outcome: this.outcomeOf.get(key) ?? '', recordSchoolId: this.recordSchoolOf.get(key) ?? '',
      date: this.timeOf.get(key) ?? this.end.occurredAt, action, ...extra,
    })
  }

  private deriveSectionActions(): void {
    for (const classId of this.affectedClasses()) {
      const before = sectionView(this.before, classId)
      const after = sectionView(this.overlay, classId)
      if (!before || before.brokenReference !== '') continue
      const key = `class:${classId}`
      if (after && after.brokenReference === '') {
        const context = sectionColumns(this.overlay, this.overlay.get('class', classId))
        for (const field of SECTION_FIELDS) {
          const oldValue = before.fields[field]
          const newValue = after.fields[field]
          if (oldValue === newValue) continue
          this.actionRow('Updated Section Data', context, key, { field, oldValue: `${field}: ${oldValue}`, newValue: `${field}: ${newValue}` })
        }
      } else if (this.activeRosters(classId) > 0) {
        const context = sectionColumns(this.before, this.before.get('class', classId))
        const reason = this.removalReason.get(key) ?? after?.brokenReference ?? 'section removed'
        this.actionRow('Invalidated Section', context, key, { message: reason })
      }
    }
  }

  private deriveRosterActions(): void {
    for (const id of [...this.overlay.changedIds('enrollment')]) {
      const before = rosterView(this.before, id)
      const after = rosterView(this.overlay, id)
      const key = `enrollment:${id}`
      const columns = (reader: RosterReader): Partial<DraftRow> => {
        const e = reader.get('enrollment', id)
        return e ? enrollmentColumns(reader, e) : {}
      }
      if (before && (!after || after.classId !== before.classId)) {
        this.actionRow('Deleted Roster', columns(this.before), key, { message: this.removalReason.get(key) ?? 'moved to another section' })
      }
      if (after && (!before || after.classId !== before.classId)) {
        this.actionRow('Created Roster', columns(this.overlay), key, {})
        continue
      }
      if (!before || !after) continue
      if (before.beginDate !== after.beginDate) {
        this.actionRow('Updated Roster Start Date', columns(this.overlay), key, { field: 'beginDate', oldValue: before.beginDate, newValue: after.beginDate })
      }
      if (before.endDate !== after.endDate) {
        this.actionRow('Updated Roster End Date', columns(this.overlay), key, { field: 'endDate', oldValue: before.endDate, newValue: after.endDate })
      }
    }
  }

  private holdReason(): string {
    const reasons: string[] = []
    const { deletePercent, updatePercent } = this.options.holdThresholds
    for (const entity of ENTITY_TYPES) {
      if (this.sync.modes[entity] !== 'full') continue
      const existing = this.store.tables[entity].size
      if (existing === 0) continue
      const deleted = this.counter.total(entity, 'deleted')
      const updated = this.counter.total(entity, 'updated')
      const pct = (n: number): string => `${((100 * n) / existing).toFixed(1)}%`
      if (deleted * 100 > deletePercent * existing) reasons.push(`would delete ${deleted} of ${existing} ${LABEL[entity]} records (${pct(deleted)} > ${deletePercent}%)`)
      if (updated * 100 > updatePercent * existing) reasons.push(`would update ${updated} of ${existing} ${LABEL[entity]} records (${pct(updated)} > ${updatePercent}%)`)
    }
    return reasons.join('; ')
  }
}

export function resolveSync(store: RosterTables, sync: PendingSync, end: SyncEnded, options: ResolveOptions): ResolvedSync {
  return new SyncResolver(store, sync, end, options).run()
}
