/**
 * The processor's state as a compacted changelog (the Kafka Streams way): each
 * state change the fold reports becomes keyed entries; replaying the latest
 * entry per key rebuilds the state. Keys:
 *   r␀tenant␀entity␀id        a committed roster record (null = deleted)
 *   s␀tenant␀syncId           a sync's status and bookkeeping
 *   h␀tenant␀syncId           the changes of a sync On Hold (null = decided)
 *   p␀tenant␀syncId␀eventId   an event of a sync still open (null = closed)
 * Pending syncs are restored by taking their events in again, in order.
 */
import { ENTITY_TYPES, type ChangeEvent, type EntityType, type SyncMode } from '../events/change-event.js'
import {
  commitOverlay, createProcessorState, createTenantState, intakeRecord, intakeUnreadable, openPendingSync,
  type OverlayData, type ProcessorState, type StateChange, type SyncInfo, type TenantState,
} from '../processor/index.js'
import { emptyOverlay } from '../processor/roster-store.js'
import type { AnyRecord } from '../processor/records.js'

export interface ChangelogEntry {
  readonly key: string
  /** null is a tombstone. */
  readonly value: ChangelogValue | null
}

export type ChangelogValue =
  | { readonly kind: 'record'; readonly record: AnyRecord }
  | { readonly kind: 'sync'; readonly info: SyncInfo }
  | { readonly kind: 'held'; readonly overlay: OverlayData }
  | { readonly kind: 'event'; readonly event: ChangeEvent }

const SEP = '\u0000'
const key = (...parts: string[]): string => parts.join(SEP)

/** The changelog entries that record the given state changes. */
export function changelogEntries(changes: readonly StateChange[]): ChangelogEntry[] {
  const out: ChangelogEntry[] = []
  for (const c of changes) {
    switch (c.kind) {
      case 'sync':
        out.push({ key: key('s', c.tenant, c.info.syncId), value: { kind: 'sync', info: c.info } })
        break
      case 'intake':
        out.push({ key: key('p', c.tenant, c.syncId, c.event.eventId), value: { kind: 'event', event: c.event } })
        break
      case 'closed':
        for (const id of c.eventIds) out.push({ key: key('p', c.tenant, c.syncId, id), value: null })
        break
      case 'committed':
        for (const entity of ENTITY_TYPES) {
          for (const [id, record] of c.overlay.changes[entity] as Map<string, AnyRecord | null>) {
            out.push({ key: key('r', c.tenant, entity, id), value: record ? { kind: 'record', record } : null })
          }
        }
        break
      case 'held':
        out.push({ key: key('h', c.tenant, c.syncId), value: { kind: 'held', overlay: c.overlay } })
        break
      case 'released':
        out.push({ key: key('h', c.tenant, c.syncId), value: null })
        break
      default: {
        const unknown: never = c
        throw new Error(`unknown state change ${(unknown as { kind?: string }).kind ?? '?'}`)
      }
    }
  }
  return out
}

function parseModes(modes: string): Partial<Record<EntityType, SyncMode>> {
  const out: Partial<Record<EntityType, SyncMode>> = {}
  for (const pair of modes.split(',').filter(Boolean)) {
    const [entity, mode] = pair.split('=') as [EntityType, SyncMode]
    out[entity] = mode
  }
  return out
}

/**
 * Rebuilds the state from changelog entries read in offset order (compacted or
 * not: only the latest value of each key counts).
 */
export function restoreState(entries: Iterable<ChangelogEntry>): ProcessorState {
  const latest = new Map<string, ChangelogValue | null>()
  for (const e of entries) {
    latest.delete(e.key) // keep offset order of the latest write
    latest.set(e.key, e.value)
  }
  const state = createProcessorState()
  const tenant = (id: string): TenantState => {
    let t = state.tenants.get(id)
    if (!t) state.tenants.set(id, (t = createTenantState(id)))
    return t
  }
  const records = new Map<string, OverlayData>()
  const pendingEvents: [string, ChangeEvent][] = []
  for (const [k, value] of latest) {
    if (value === null) continue
    const [kind, tenantId = ''] = k.split(SEP)
    const t = tenant(tenantId)
    switch (value.kind) {
      case 'record': {
        const entity = k.split(SEP)[2] as EntityType
        let overlay = records.get(tenantId)
        if (!overlay) records.set(tenantId, (overlay = emptyOverlay()))
        ;(overlay.changes[entity] as Map<string, AnyRecord | null>).set(value.record.sourcedId, value.record)
        break
      }
      case 'sync':
        t.syncs.set(value.info.syncId, { ...value.info })
        break
      case 'held':
        t.held.set(k.split(SEP)[2] ?? '', value.overlay)
        break
      case 'event':
        if (kind === 'p') pendingEvents.push([tenantId, value.event])
        break
    }
  }
  for (const [tenantId, overlay] of records) commitOverlay(tenant(tenantId), overlay)
  for (const t of state.tenants.values()) {
    for (const info of t.syncs.values()) {
      if (info.status === 'Running') t.pending.set(info.syncId, openPendingSync(info.syncId, info.app, info.startedAt, parseModes(info.modes)))
    }
  }
  for (const [tenantId, event] of pendingEvents) {
    const sync = tenant(tenantId).pending.get(event.syncId)
    if (!sync) continue
    if (event.type === 'RecordChanged') intakeRecord(sync, event)
    else if (event.type === 'RecordUnreadable') intakeUnreadable(sync, event)
  }
  return state
}
