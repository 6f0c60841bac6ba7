/**
 * Root causes: a row whose error or cascade comes from another record's error
 * or absence names that record, as `<entity> '<sourcedId>' <what>` (`class
 * 'CHEM-02' deleted`, `school 'S9' not onboarded`). The cause is read from the
 * typed reasons, never from message text, and a chain is followed to its root:
 * an enrollment skipped because its class went with its deleted course names
 * the course. A row that is its own cause (a bad field, a record deleted by the
 * source) has no cause ('').
 */
import type { EntityType } from '../events/change-event.js'
import { LABEL, type FieldReason, type Removal } from './reasons.js'

/** What became of the record at the root. */
export type CauseWhat = 'deleted' | 'skipped' | 'unknown' | 'not onboarded'

export interface Cause {
  readonly entity: EntityType
  readonly id: string
  readonly what: CauseWhat
}

/** How a record is named in a cause: its type's label, or `school` for an org that is one. */
export type CauseLabel = (entity: EntityType, id: string) => string

/** The section parents a `referenceGone` names, as record types. */
const GONE_PARENTS = { course: 'course', school: 'org', term: 'academicSession' } as const satisfies Record<string, EntityType>

export class Causes {
  /** The root cause of each record this sync skipped or removed, per type. */
  private readonly roots = new Map<EntityType, Map<string, Cause>>()

  constructor(private readonly label: CauseLabel) {}

  /** A record skipped for `reason`: what it causes traces back to the reason's root, or to the record. */
  skipped(entity: EntityType, id: string, reason: FieldReason): void {
    if (id === '') return
    const own: Cause = { entity, id, what: reason.kind === 'schoolNotOnboarded' ? 'not onboarded' : 'skipped' }
    this.setRoot(entity, id, this.rootOfReason(reason) ?? own)
  }

  /** A record removed for `why`: what it causes traces back to the removal's root, or to the record. */
  removed(entity: EntityType, id: string, why: Removal): void {
    this.setRoot(entity, id, this.rootOfRemoval(why) ?? { entity, id, what: 'deleted' })
  }

  /** The cause of a row written for a field reason ('' when the record is its own cause). */
  ofReason(reason: FieldReason): string {
    return this.text(this.rootOfReason(reason))
  }

  /** The cause of a row written for a removal ('' when the record is its own cause). */
  ofRemoval(why: Removal): string {
    return this.text(this.rootOfRemoval(why))
  }

  private rootOfReason(reason: FieldReason): Cause | null {
    switch (reason.kind) {
      case 'referenceNotOnboarded':
        return { entity: 'org', id: reason.id, what: 'not onboarded' }
      case 'referenceSkipped':
        return this.rootOf(reason.entity, reason.id) ?? { entity: reason.entity, id: reason.id, what: 'skipped' }
      case 'referenceDeleted':
        return this.rootOf(reason.entity, reason.id) ?? { entity: reason.entity, id: reason.id, what: 'deleted' }
      case 'referenceUnknown':
        // A record skipped as it arrived (a bad field) is not in the state: the reason calls it unknown.
        return this.rootOf(reason.entity, reason.id) ?? { entity: reason.entity, id: reason.id, what: 'unknown' }
      default:
        // The record's own field, duplicate, staleness or teacher: it is its own cause.
        return null
    }
  }

  private rootOfRemoval(why: Removal): Cause | null {
    switch (why.kind) {
      case 'parentRemoved':
        return this.rootOfRemoval(why.why) ?? { entity: why.entity, id: why.id, what: 'deleted' }
      case 'sectionRemoved':
        return this.rootOfRemoval(why.why) ?? { entity: 'class', id: why.id, what: 'deleted' }
      case 'referenceGone': {
        const entity = GONE_PARENTS[why.parent]
        return this.rootOf(entity, why.id) ?? { entity, id: why.id, what: 'unknown' }
      }
      case 'deletedBySource':
      case 'absentFromFull':
      case 'sectionGone':
      case 'movedSection':
        return null
      default: {
        const unknown: never = why
        return unknown
      }
    }
  }

  private rootOf(entity: EntityType, id: string): Cause | undefined {
    return this.roots.get(entity)?.get(id)
  }

  private setRoot(entity: EntityType, id: string, root: Cause): void {
    let byId = this.roots.get(entity)
    if (!byId) this.roots.set(entity, (byId = new Map()))
    byId.set(id, root)
  }

  private text(cause: Cause | null): string {
    if (!cause) return ''
    const label = cause.what === 'not onboarded' ? 'school' : this.label(cause.entity, cause.id)
    return `${label} '${cause.id}' ${cause.what}`
  }
}

/** Labels records by type, calling an org `school` when `isSchool` says it is one. */
export function causeLabel(isSchool: (orgId: string) => boolean): CauseLabel {
  return (entity, id) => (entity === 'org' && isSchool(id) ? 'school' : LABEL[entity])
}
