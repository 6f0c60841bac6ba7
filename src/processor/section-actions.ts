/**
 * Section rows (docs/sync-semantics.md, Rows): Updated Section Data for each
 * section field that differs between the committed state and the overlay, and
 * Invalidated Section for a section with active rosters that is removed or
 * loses its course, school or a term. Read off the views, so they appear
 * whatever caused the change (the class, its course, terms or teacher).
 */
import type { RosterReader } from './roster-store.js'
import type { SyncWork } from './sync-work.js'
import { SECTION_FIELDS, sectionContext, sectionView } from './views.js'

/** Classes whose section view may differ: changed classes, and the classes of changed courses, terms, teachers. */
function affectedClasses(work: SyncWork): string[] {
  const { before, overlay } = work
  const ids = new Set<string>(overlay.changedIds('class'))
  const readers: readonly RosterReader[] = [before, overlay]
  const addRelated = (index: 'classesByCourse' | 'classesByTerm', key: string): void => {
    for (const r of readers) for (const c of r.related(index, key)) ids.add(c)
  }
  for (const id of overlay.changedIds('course')) addRelated('classesByCourse', id)
  for (const id of overlay.changedIds('academicSession')) addRelated('classesByTerm', id)
  // The overlay's side of a changed enrollment is its change itself (null once deleted): no lookup.
  for (const [id, after] of overlay.changed('enrollment')) {
    const was = before.get('enrollment', id)
    if (was?.role === 'teacher') ids.add(was.classSourcedId)
    if (after?.role === 'teacher') ids.add(after.classSourcedId)
  }
  for (const id of overlay.changedIds('user')) {
    if (before.get('user', id)?.role !== 'teacher' && overlay.get('user', id)?.role !== 'teacher') continue
    for (const r of readers) {
      for (const e of r.related('enrollmentsByUser', id)) {
        const enrollment = r.get('enrollment', e)
        if (enrollment?.role === 'teacher') ids.add(enrollment.classSourcedId)
      }
    }
  }
  return [...ids]
}

/** Student rosters of the class that are active on the sync's date (no end date, or one after it). */
function activeRosters(reader: RosterReader, classId: string, asOf: string): number {
  let n = 0
  for (const id of reader.related('enrollmentsByClass', classId)) {
    const e = reader.get('enrollment', id)
    if (e?.role === 'student' && (e.endDate === null || e.endDate > asOf)) n++
  }
  return n
}

export function writeSectionRows(work: SyncWork, asOf: string): void {
  const { before, overlay, log } = work
  for (const classId of affectedClasses(work)) {
    const was = sectionView(before, classId)
    // A section that was not whole before the sync has no rows: its view after is not read.
    if (!was || was.brokenReference) continue
    const is = sectionView(overlay, classId)
    if (is && !is.brokenReference) {
      const context = sectionContext(overlay, overlay.get('class', classId))
      for (const field of SECTION_FIELDS) {
        const oldValue = was.fields[field]
        const newValue = is.fields[field]
        if (oldValue === newValue) continue
        log.action('Updated Section Data', context, 'class', classId, {
          field,
          oldValue: `${field}: ${oldValue}`,
          newValue: `${field}: ${newValue}`,
        })
      }
    } else if (activeRosters(before, classId, asOf) > 0) {
      const why = work.fates.removalOf('class', classId) ?? is?.brokenReference ?? { kind: 'sectionGone' }
      log.action('Invalidated Section', sectionContext(before, before.get('class', classId)), 'class', classId, undefined, why)
    }
  }
}
