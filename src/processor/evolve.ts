/**
 * The state and the only code that changes it.
 *
 * `decide` (fold.ts) reads the state and says what should change as a list of
 * state changes; `evolve` applies them. Nothing else mutates a ProcessorState,
 * so an adapter can hold the changes until its write is durable (a Kafka
 * transaction committed, a batch written) and drop them on failure: the state
 * is never ahead of what was stored. Evolve is idempotent: applying the same
 * changes twice leaves the same state, so a redelivered batch is harmless.
 */
import type { EntityType, RecordChanged, RecordUnreadable, SyncMode } from '../events/change-event.js'
import type { SyncStatus } from '../events/sync-log-event.js'
import { intakeRecord, intakeUnreadable, openPendingSync, type PendingSync } from './pending-sync.js'
import { commitOverlay, emptyIndexes, emptyTables, type OverlayData, type RosterTables } from './roster-store.js'

export interface SyncInfo {
  readonly syncId: string
  readonly app: string
  readonly startEventId: string
  readonly startedAt: string
  readonly modes: string
  readonly status: SyncStatus
  readonly version: number
  readonly endedAt: string
  readonly message: string
  /** What a held sync becomes when approved. */
  readonly statusOnApproval: SyncStatus
  /** The reviewer's decision on a hold or a preview, once made. */
  readonly decision: '' | 'approved' | 'rejected'
  /** Started as a preview: computed, then kept for a reviewer instead of applied. */
  readonly preview?: boolean
  /** Who decided, when (ISO instant) and why; blank until decided. */
  readonly reviewedBy?: string
  readonly reviewedAt?: string
  readonly reviewReason?: string
  /** The tenant's count of applied syncs once this one was applied (1 for the first); 0 or absent = not applied. */
  readonly appliedSeq?: number
  /** A preview: the tenant's count of applied syncs when it was computed; applying it needs the same count. */
  readonly basedOn?: number
}

/** How many syncs of the tenant have been applied: what a preview was computed on, and what applying it checks. */
export function appliedCount(t: TenantState): number {
  let max = 0
  for (const info of t.syncs.values()) max = Math.max(max, info.appliedSeq ?? 0)
  return max
}

export interface TenantState extends RosterTables {
  readonly tenant: string
  readonly syncs: Map<string, SyncInfo>
  readonly pending: Map<string, PendingSync>
  /** Syncs On Hold: their changes, applied only if approved. */
  readonly held: Map<string, OverlayData>
}

export interface ProcessorState {
  readonly tenants: Map<string, TenantState>
}

/**
 * One change of the state, as data. A stream processor writes these (all but
 * `intake`, which it restores by reading its input again) to its changelog.
 */
export type StateChange =
  /** A sync's status and bookkeeping, whole (the latest one wins). */
  | { readonly kind: 'sync'; readonly tenant: string; readonly info: SyncInfo }
  /** A sync starts taking records in; `inputOffset` is where its SyncStarted sits in the input ('' when there is no input log). */
  | { readonly kind: 'opened'; readonly tenant: string; readonly syncId: string; readonly inputOffset: string }
  /** A record event taken into an open sync. */
  | { readonly kind: 'intake'; readonly tenant: string; readonly syncId: string; readonly event: RecordChanged | RecordUnreadable }
  /** An open sync stops taking records (ended, failed or abandoned); what it took in is dropped. */
  | { readonly kind: 'closed'; readonly tenant: string; readonly syncId: string }
  /** A sync's changes are applied to the roster. */
  | { readonly kind: 'committed'; readonly tenant: string; readonly overlay: OverlayData }
  /** A sync's changes wait for a reviewer. */
  | { readonly kind: 'held'; readonly tenant: string; readonly syncId: string; readonly overlay: OverlayData }
  /** A hold is decided; `size` is the number of changes it held. */
  | { readonly kind: 'released'; readonly tenant: string; readonly syncId: string; readonly size: number }

export function createProcessorState(): ProcessorState {
  return { tenants: new Map() }
}

export function createTenantState(tenant: string): TenantState {
  return { tenant, tables: emptyTables(), indexes: emptyIndexes(), syncs: new Map(), pending: new Map(), held: new Map() }
}

function tenantOf(state: ProcessorState, tenant: string): TenantState {
  let t = state.tenants.get(tenant)
  if (!t) state.tenants.set(tenant, (t = createTenantState(tenant)))
  return t
}

export function parseModes(modes: string): Partial<Record<EntityType, SyncMode>> {
  const out: Partial<Record<EntityType, SyncMode>> = {}
  for (const pair of modes.split(',').filter(Boolean)) {
    const [entity, mode] = pair.split('=') as [EntityType, SyncMode]
    out[entity] = mode
  }
  return out
}

export function formatModes(modes: Partial<Record<EntityType, string>>): string {
  return (Object.entries(modes) as [EntityType, string][]).map(([k, v]) => `${k}=${v}`).join(',')
}

/** Applies state changes in order. The only mutator of a ProcessorState. */
export function evolve(state: ProcessorState, changes: Iterable<StateChange>): void {
  for (const c of changes) {
    const t = tenantOf(state, c.tenant)
    switch (c.kind) {
      case 'sync':
        t.syncs.set(c.info.syncId, c.info)
        break
      case 'opened': {
        const info = t.syncs.get(c.syncId)
        if (info && !t.pending.has(c.syncId))
          t.pending.set(c.syncId, openPendingSync(c.syncId, info.app, info.startedAt, parseModes(info.modes)))
        break
      }
      case 'intake': {
        const sync = t.pending.get(c.syncId)
        // An event already taken in (a redelivery, or twice in one batch) changes nothing; the intake tells.
        if (!sync) break
        if (c.event.type === 'RecordChanged') intakeRecord(sync, c.event, t)
        else intakeUnreadable(sync, c.event)
        break
      }
      case 'closed':
        t.pending.delete(c.syncId)
        break
      case 'committed':
        commitOverlay(t, c.overlay)
        break
      case 'held':
        t.held.set(c.syncId, c.overlay)
        break
      case 'released':
        t.held.delete(c.syncId)
        break
      default: {
        const unknown: never = c
        throw new Error(`unknown state change ${(unknown as { kind?: string }).kind ?? '?'}`)
      }
    }
  }
}
