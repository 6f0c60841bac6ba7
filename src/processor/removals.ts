/**
 * Records leaving the state: deletion by absence from a full file, and the
 * cascade of a removal to its children (a school's, term's or course's classes;
 * a user's or class's enrollments), each remembering why it went.
 */
import type { EntityType } from '../events/change-event.js'
import type { Fields } from './log-rows.js'
import { carried } from './pending-sync.js'
import type { Removal } from './reasons.js'
import type { AnyRecord } from './records.js'
import type { IndexName } from './roster-store.js'
import type { SyncWork } from './sync-work.js'

/** The classes of a removed org, term or course, and what the parent is called in the reason. */
const CLASS_PARENTS: ReadonlyMap<EntityType, { readonly index: IndexName; readonly parent: string }> = new Map([
  ['org', { index: 'classesBySchool', parent: 'school' }],
  ['academicSession', { index: 'classesByTerm', parent: 'term' }],
  ['course', { index: 'classesByCourse', parent: 'course' }],
] as const)

/** Removes a record from the overlay and, with it, the children that cannot stay without it. */
export function remove(work: SyncWork, entity: EntityType, id: string, why: Removal): void {
  const { overlay } = work
  if (!overlay.get(entity, id)) return
  overlay.delete(entity, id)
  work.fates.remove(entity, id, why)
  const classParent = CLASS_PARENTS.get(entity)
  if (classParent) {
    const cascade: Removal = { kind: 'parentRemoved', parent: classParent.parent, entity, id, why }
    for (const c of overlay.related(classParent.index, id)) remove(work, 'class', c, cascade)
  } else if (entity === 'user') {
    const cascade: Removal = { kind: 'parentRemoved', parent: work.before.get('user', id)?.role ?? 'user', entity, id, why }
    for (const e of overlay.related('enrollmentsByUser', id)) remove(work, 'enrollment', e, cascade)
  } else if (entity === 'class') {
    const cascade: Removal = { kind: 'sectionRemoved', id, why }
    for (const e of overlay.related('enrollmentsByClass', id)) remove(work, 'enrollment', e, cascade)
  }
}

/** A full sync deletes the records of the type it did not carry (docs/sync-semantics.md, A sync is resolved at its end). */
export function deleteAbsent(work: SyncWork, entity: EntityType): void {
  const table = work.store.tables[entity] as Map<string, AnyRecord>
  const why: Removal = { kind: 'absentFromFull', entity }
  const absent: string[] = []
  for (const id of table.keys()) if (!carried(work.sync, entity, id)) absent.push(id)
  // In id order, not the table's: a state restored from a compacted changelog holds the same
  // records in another order, and must give the same rows.
  for (const id of absent.sort()) {
    const previous = table.get(id)!
    work.log.deleted(entity, id, previous as unknown as Fields, work.end.occurredAt, why, null)
    remove(work, entity, id, why)
  }
}
