/**
 * The end of a sync: every buffered record gets its outcome against the state,
 * parents before children (orgs, terms, courses, users, classes, enrollments);
 * deletions (explicit, or by absence from a full file) cascade; then roster and
 * section actions are read off the difference between the committed state and
 * the overlay the sync leaves.
 */
import { ENTITY_TYPES, type SyncEnded } from '../events/change-event.js'
import type { LogRow } from '../events/sync-log-event.js'
import { causeLabel, Causes } from './causes.js'
import { holdReason } from './hold-thresholds.js'
import { RowLog } from './log-rows.js'
import type { OutcomeCounter } from './outcome-counter.js'
import type { PendingSync } from './pending-sync.js'
import { RecordChecks } from './record-checks.js'
import { logEarly, resolveDelete, resolveUpsert } from './record-outcomes.js'
import { deleteAbsent } from './removals.js'
import { Overlay, committedReader, emptyOverlay, type OverlayData, type RosterTables } from './roster-store.js'
import { writeRosterRows } from './roster-actions.js'
import { writeSectionRows } from './section-actions.js'
import { Fates, type ResolveOptions, type SyncWork } from './sync-work.js'
import { calendarDateOf } from './time.js'

export interface ResolvedSync {
  readonly overlay: OverlayData
  /** The sync's rows, numbered (seq) in order. */
  readonly rows: LogRow[]
  readonly counter: OutcomeCounter
  /** Why the sync must be held for review; blank when it may be applied. */
  readonly holdReason: string
  schoolName(id: string): string
}

const NO_IDS: ReadonlySet<string> = new Set()

export function resolveSync(store: RosterTables, sync: PendingSync, end: SyncEnded, options: ResolveOptions): ResolvedSync {
  const before = committedReader(store)
  const overlay = new Overlay(store, emptyOverlay())
  const isSchool = (orgId: string): boolean => {
    const org = overlay.get('org', orgId) ?? before.get('org', orgId) ?? sync.candidates.org.get(orgId)?.record
    return (org as { type?: string } | null | undefined)?.type === 'school'
  }
  const causes = new Causes(causeLabel(isSchool))
  const log = new RowLog({ tenant: options.tenant, syncId: sync.syncId, app: sync.app }, before, end.occurredAt, causes)
  const work: SyncWork = { store, before, overlay, sync, end, options, log, fates: new Fates(causes), causes }
  const checks = new RecordChecks(work)

  for (const early of sync.early) logEarly(work, early)
  for (const entity of ENTITY_TYPES) {
    const candidates = [...sync.candidates[entity].values()]
    // Only orgs and sessions refer to their own type (parents); they alone need to know what the sync leaves.
    const willExist =
      entity === 'org' || entity === 'academicSession'
        ? new Set([...overlay.ids(entity), ...candidates.filter((c) => c.op === 'upsert').map((c) => c.sourcedId)])
        : NO_IDS
    for (const c of candidates) {
      if (c.op === 'delete') resolveDelete(work, checks, c)
      else resolveUpsert(work, checks, c, willExist)
    }
    if (sync.modes[entity] === 'full') deleteAbsent(work, entity)
  }
  writeSectionRows(work, calendarDateOf(end.occurredAt))
  writeRosterRows(work)
  return {
    overlay: overlay.data,
    rows: log.rows,
    counter: log.counter,
    holdReason: holdReason(store, sync, log.counter, options.holdThresholds),
    schoolName: (id) => overlay.get('org', id)?.name ?? before.get('org', id)?.name ?? '',
  }
}
