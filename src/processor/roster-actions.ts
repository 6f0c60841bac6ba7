/**
 * Roster rows (docs/sync-semantics.md, Rows): a student's roster line compared
 * between the committed state and the overlay gives Created Roster, Deleted
 * Roster (with why it went), or Updated Roster Start / End Date. A line that
 * moves to another class is deleted from the old section and created in the new.
 */
import type { DraftRow } from './log-rows.js'
import type { RosterReader } from './roster-store.js'
import type { SyncWork } from './sync-work.js'
import { enrollmentColumns, rosterView } from './views.js'

export function writeRosterRows(work: SyncWork): void {
  const { before, overlay, log } = work
  for (const id of [...overlay.changedIds('enrollment')]) {
    const was = rosterView(before, id)
    const is = rosterView(overlay, id)
    const columns = (reader: RosterReader): Partial<DraftRow> => {
      const e = reader.get('enrollment', id)
      return e ? enrollmentColumns(reader, e) : {}
    }
    if (was && (!is || is.classId !== was.classId)) {
      log.action(
        'Deleted Roster',
        columns(before),
        'enrollment',
        id,
        {},
        work.fates.removalOf('enrollment', id) ?? { kind: 'movedSection' },
      )
    }
    if (is && (!was || is.classId !== was.classId)) {
      log.action('Created Roster', columns(overlay), 'enrollment', id, {})
      continue
    }
    if (!was || !is) continue
    if (was.beginDate !== is.beginDate) {
      log.action('Updated Roster Start Date', columns(overlay), 'enrollment', id, {
        field: 'beginDate',
        oldValue: was.beginDate,
        newValue: is.beginDate,
      })
    }
    if (was.endDate !== is.endDate) {
      log.action('Updated Roster End Date', columns(overlay), 'enrollment', id, {
        field: 'endDate',
        oldValue: was.endDate,
        newValue: is.endDate,
      })
    }
  }
}
