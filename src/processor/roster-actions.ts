/**
 * Roster rows (docs/sync-semantics.md, Rows): a student's roster line compared
 * between the committed state and the overlay gives Created Roster, Deleted
 * Roster (with why it went), or Updated Roster Start / End Date. A line that
 * moves to another class is deleted from the old section and created in the new.
 */
import type { SyncWork } from './sync-work.js'
import { RosterLines } from './views.js'

export function writeRosterRows(work: SyncWork): void {
  const { before, overlay, log } = work
  const linesBefore = new RosterLines(before)
  const linesAfter = new RosterLines(overlay)
  for (const [id, after] of overlay.changed('enrollment')) {
    const was = linesBefore.of(id)
    const is = linesAfter.lineOf(id, after ?? undefined)
    const moved = was !== undefined && is !== undefined && is.classId !== was.classId
    if (was && (!is || moved)) {
      const why = work.fates.removalOf('enrollment', id) ?? { kind: 'movedSection' }
      log.action('Deleted Roster', linesBefore.context(was), 'enrollment', id, undefined, why)
    }
    if (is && (!was || moved)) {
      log.action('Created Roster', linesAfter.context(is), 'enrollment', id)
      continue
    }
    if (!was || !is) continue
    if (was.beginDate !== is.beginDate) {
      log.action('Updated Roster Start Date', linesAfter.context(is), 'enrollment', id, {
        field: 'beginDate',
        oldValue: was.beginDate,
        newValue: is.beginDate,
      })
    }
    if (was.endDate !== is.endDate) {
      log.action('Updated Roster End Date', linesAfter.context(is), 'enrollment', id, {
        field: 'endDate',
        oldValue: was.endDate,
        newValue: is.endDate,
      })
    }
  }
}
