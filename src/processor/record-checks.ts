/**
 * The end-of-sync checks of a buffered record against the state as the sync
 * leaves it so far: onboarding, required and optional references, the class's
 * teacher, staleness. Each answers what is wrong, as a typed reason, or null;
 * outcome-rules.ts decides the order they are asked in.
 */
import type { EntityType } from '../events/change-event.js'
import type { StateChecks } from './outcome-rules.js'
import { carried, type Candidate } from './pending-sync.js'
import type { FieldReason } from './reasons.js'
import type { AcademicSessionRecord, AnyRecord, ClassRecord, CourseRecord, EnrollmentRecord, OrgRecord, UserRecord } from './records.js'
import type { SyncWork } from './sync-work.js'
import { instantMillis } from './time.js'

/** An optional reference: the field, the type it points to (its own type, for parents), how to read and empty it. */
interface OptionalReference {
  readonly field: string
  readonly target: EntityType
  readonly sameType: boolean
  readonly id: (r: AnyRecord) => string | null
  readonly emptied: (r: AnyRecord) => AnyRecord
}

const OPTIONAL_REFERENCES: ReadonlyMap<EntityType, OptionalReference> = new Map<EntityType, OptionalReference>([
  [
    'org',
    {
      field: 'parentSourcedId',
      target: 'org',
      sameType: true,
      id: (r) => (r as OrgRecord).parentSourcedId,
      emptied: (r) => ({ ...(r as OrgRecord), parentSourcedId: null }),
    },
  ],
  [
    'academicSession',
    {
      field: 'parentSourcedId',
      target: 'academicSession',
      sameType: true,
      id: (r) => (r as AcademicSessionRecord).parentSourcedId,
      emptied: (r) => ({ ...(r as AcademicSessionRecord), parentSourcedId: null }),
    },
  ],
  [
    'course',
    {
      field: 'schoolYearSourcedId',
      target: 'academicSession',
      sameType: false,
      id: (r) => (r as CourseRecord).schoolYearSourcedId,
      emptied: (r) => ({ ...(r as CourseRecord), schoolYearSourcedId: null }),
    },
  ],
])

export class RecordChecks implements StateChecks {
  /** Teacher users of the enrollments this sync upserts, per class; built on the first class checked. */
  private teachersByClass: Map<string, string[]> | undefined
  private lastCandidate: Candidate | undefined
  private lastCurrent: AnyRecord | undefined

  constructor(private readonly work: SyncWork) {}

  schoolNotOnboarded(c: Candidate): FieldReason | null {
    const isSchool = c.entity === 'org' && (c.record as { type: string }).type === 'school'
    return isSchool && this.notOnboarded(c.sourcedId) ? { kind: 'schoolNotOnboarded', field: 'sourcedId' } : null
  }

  /** The first required reference of the record that does not resolve, in field order. */
  unresolvedReference(c: Candidate): FieldReason | null {
    switch (c.entity) {
      case 'org':
      case 'academicSession':
        return null
      case 'course':
        return this.missing('orgSourcedId', 'org', (c.record as CourseRecord).orgSourcedId)
      case 'user':
        return this.firstMissing('orgSourcedIds', 'org', (c.record as UserRecord).orgSourcedIds)
      case 'class': {
        const r = c.record as ClassRecord
        return (
          this.missing('schoolSourcedId', 'org', r.schoolSourcedId) ??
          this.missing('courseSourcedId', 'course', r.courseSourcedId) ??
          this.firstMissing('termSourcedIds', 'academicSession', r.termSourcedIds)
        )
      }
      case 'enrollment': {
        const r = c.record as EnrollmentRecord
        return (
          this.missing('schoolSourcedId', 'org', r.schoolSourcedId) ??
          this.missing('classSourcedId', 'class', r.classSourcedId) ??
          this.missing('userSourcedId', 'user', r.userSourcedId)
        )
      }
    }
  }

  /** A class needs a teacher at the end of the sync: one already enrolled and kept, or one enrolled by this sync. */
  missingTeacher(c: Candidate): FieldReason | null {
    return c.entity === 'class' && !this.hasTeacher(c.sourcedId) ? { kind: 'noTeacher', field: 'teacher' } : null
  }

  noSuchRecord(c: Candidate): FieldReason | null {
    const { overlay } = this.work
    if (overlay.get(c.entity, c.sourcedId) !== undefined || overlay.existedBefore(c.entity, c.sourcedId)) return null
    return { kind: 'noSuchRecord', field: 'sourcedId', entity: c.entity, id: c.sourcedId }
  }

  /**
   * The record the overlay holds under the candidate's id. The rules do not change the
   * overlay, so the last candidate's is kept: its outcome reads it again once the rules pass.
   */
  currentOf(c: Candidate): AnyRecord | undefined {
    if (this.lastCandidate !== c) {
      this.lastCurrent = this.work.overlay.get(c.entity, c.sourcedId)
      this.lastCandidate = c
    }
    return this.lastCurrent
  }

  staleUpdate(c: Candidate): FieldReason | null {
    const current = this.currentOf(c)
    // The same instant as stored is not older (most records of a night keep theirs).
    if (!current || !c.dateLastModified || !current.dateLastModified || c.dateLastModified === current.dateLastModified) return null
    const incoming = instantMillis(c.dateLastModified)
    const stored = instantMillis(current.dateLastModified)
    if (incoming === null || stored === null || incoming >= stored) return null
    return { kind: 'stale', field: 'dateLastModified', incoming: c.dateLastModified, stored: current.dateLastModified }
  }

  /**
   * An optional reference that does not resolve: the record with that field
   * emptied and the reason (the record is Invalid). `willExist`: ids of the
   * record's own type that the sync leaves (parents of the same type).
   */
  unresolvedOptional(
    entity: EntityType,
    r: AnyRecord,
    willExist: ReadonlySet<string>,
  ): { record: AnyRecord; reason: FieldReason } | undefined {
    const ref = OPTIONAL_REFERENCES.get(entity)
    if (!ref) return undefined
    const id = ref.id(r)
    if (id === null) return undefined
    const exists = ref.sameType ? willExist.has(id) : this.work.overlay.get(ref.target, id) !== undefined
    if (exists) return undefined
    return { record: ref.emptied(r), reason: { kind: 'referenceUnknown', field: ref.field, entity: ref.target, id } }
  }

  private notOnboarded(schoolId: string): boolean {
    const onboarded = this.work.options.onboardedSchools
    if (!onboarded || onboarded.has(schoolId)) return false
    const org = this.work.overlay.get('org', schoolId) ?? this.work.sync.candidates.org.get(schoolId)?.record
    return !org || (org as { type?: string }).type === 'school'
  }

  /** Why the first of a list of required references that does not resolve does not, or null. */
  private firstMissing(field: string, entity: EntityType, ids: readonly string[]): FieldReason | null {
    for (const id of ids) {
      const why = this.missing(field, entity, id)
      if (why) return why
    }
    return null
  }

  /** Why a required reference does not resolve, or null. */
  private missing(field: string, entity: EntityType, id: string): FieldReason | null {
    const { overlay, fates } = this.work
    if (entity === 'org' && this.notOnboarded(id)) return { kind: 'referenceNotOnboarded', field, id }
    if (fates.wasSkipped(entity, id)) return { kind: 'referenceSkipped', field, entity, id }
    if (overlay.get(entity, id)) return null
    if (fates.wasRemoved(entity, id)) return { kind: 'referenceDeleted', field, entity, id }
    return { kind: 'referenceUnknown', field, entity, id }
  }

  private incomingTeachers(classId: string): readonly string[] {
    if (!this.teachersByClass) {
      this.teachersByClass = new Map()
      for (const c of this.work.sync.candidates.enrollment.values()) {
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
    const { overlay, sync } = this.work
    if (this.incomingTeachers(classId).some((user) => overlay.get('user', user))) return true
    const fullEnrollments = sync.modes.enrollment === 'full'
    for (const id of overlay.related('enrollmentsByClass', classId)) {
      const e = overlay.get('enrollment', id)
      if (!e || e.role !== 'teacher' || !overlay.get('user', e.userSourcedId)) continue
      if (sync.candidates.enrollment.get(id)?.op === 'delete') continue
      if (fullEnrollments && !carried(sync, 'enrollment', id)) continue
      return true
    }
    return false
  }
}
