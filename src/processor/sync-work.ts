/**
 * What the end of one sync works on: the committed state (before), the overlay
 * the sync leaves (after), the rows it writes, and what became of the records
 * it removed or skipped. The steps of resolve-sync.ts each read and add to it.
 */
import type { EntityType, SyncEnded } from '../events/change-event.js'
import type { Causes } from './causes.js'
import { perEntity } from './per-entity.js'
import type { HoldThresholds } from './hold-thresholds.js'
import type { RowLog } from './log-rows.js'
import type { PendingSync } from './pending-sync.js'
import type { FieldReason, Removal } from './reasons.js'
import type { Overlay, RosterReader, RosterTables } from './roster-store.js'

export interface ResolveOptions {
  readonly tenant: string
  readonly holdThresholds: HoldThresholds
  /** School sourcedIds onboarded for the tenant; undefined = every school. */
  readonly onboardedSchools: ReadonlySet<string> | undefined
}

/**
 * Records the sync skipped or removed, per type, and why a class or enrollment
 * left the state; each fate also tells `causes` the root of what it causes.
 */
export class Fates {
  private readonly skipped = perEntity(() => new Set<string>())
  private readonly removed = perEntity(() => new Map<string, Removal>())

  constructor(private readonly causes: Causes) {}

  skip(entity: EntityType, id: string, reason: FieldReason): void {
    this.skipped[entity].add(id)
    this.causes.skipped(entity, id, reason)
  }

  wasSkipped(entity: EntityType, id: string): boolean {
    const ids = this.skipped[entity]
    // Most syncs skip nothing of most types: no hashing of the id then.
    return ids.size > 0 && ids.has(id)
  }

  remove(entity: EntityType, id: string, why: Removal): void {
    this.removed[entity].set(id, why)
    this.causes.removed(entity, id, why)
  }

  wasRemoved(entity: EntityType, id: string): boolean {
    const ids = this.removed[entity]
    return ids.size > 0 && ids.has(id)
  }

  /** Why the record left the state in this sync, if it did. */
  removalOf(entity: EntityType, id: string): Removal | undefined {
    return this.removed[entity].get(id)
  }
}

export interface SyncWork {
  readonly store: RosterTables
  /** The committed state, as it was before the sync. */
  readonly before: RosterReader
  /** The state as the sync leaves it so far. */
  readonly overlay: Overlay
  readonly sync: PendingSync
  readonly end: SyncEnded
  readonly options: ResolveOptions
  readonly log: RowLog
  readonly fates: Fates
  /** The root cause of each row (causes.ts). */
  readonly causes: Causes
}
