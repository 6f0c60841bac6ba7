/**
 * On Hold (docs/sync-semantics.md, Counts, statuses, holds): a full type that
 * would delete more than `deletePercent` or update more than `updatePercent` of
 * the tenant's existing records of that type holds the sync for review; a type
 * with no existing records never holds.
 */
import { ENTITY_TYPES } from '../events/change-event.js'
import type { OutcomeCounter } from './outcome-counter.js'
import type { PendingSync } from './pending-sync.js'
import { LABEL } from './reasons.js'
import type { RosterTables } from './roster-store.js'

export interface HoldThresholds {
  /** A full sync that would delete more than this percentage of a type's existing records is held. */
  readonly deletePercent: number
  /** ... or update more than this percentage. */
  readonly updatePercent: number
}

/** Why the sync must be held for review; blank when it may be applied. */
export function holdReason(store: RosterTables, sync: PendingSync, counter: OutcomeCounter, thresholds: HoldThresholds): string {
  const reasons: string[] = []
  const { deletePercent, updatePercent } = thresholds
  for (const entity of ENTITY_TYPES) {
    if (sync.modes[entity] !== 'full') continue
    const existing = store.tables[entity].size
    if (existing === 0) continue
    const deleted = counter.total(entity, 'deleted')
    const updated = counter.total(entity, 'updated')
    const pct = (n: number): string => `${((100 * n) / existing).toFixed(1)}%`
    if (deleted * 100 > deletePercent * existing)
      reasons.push(`would delete ${deleted} of ${existing} ${LABEL[entity]} records (${pct(deleted)} > ${deletePercent}%)`)
    if (updated * 100 > updatePercent * existing)
      reasons.push(`would update ${updated} of ${existing} ${LABEL[entity]} records (${pct(updated)} > ${updatePercent}%)`)
  }
  return reasons.join('; ')
}
