/**
 * The fold: (state, change event) -> (state, sync-log events).
 *
 * Pure and deterministic: no I/O, no clock, no randomness; time comes from the
 * events. The state is owned by the fold and updated in place. Replaying the
 * same events from the same state gives byte-identical sync-log events.
 */
import type {
  ChangeEvent, EntityType, RecordChanged, RecordUnreadable, SyncApproved, SyncEnded, SyncFailed, SyncRejected, SyncStarted,
} from '../events/change-event.js'
import type { LogRow, SyncLogEvent, SyncStatus, SyncStatusChanged } from '../events/sync-log-event.js'
import { intakeRecord, intakeUnreadable, openPendingSync, type PendingSync } from './pending-sync.js'
import { resolveSync, type HoldThresholds } from './resolve-sync.js'
import { commitOverlay, emptyIndexes, emptyTables, type OverlayData, type RosterTables } from './roster-store.js'

export interface FoldOptions {
  readonly holdThresholds: HoldThresholds
  /** Per tenant, the school sourcedIds onboarded; a tenant not listed has every school onboarded. */
  readonly onboardedSchools?: ReadonlyMap<string, readonly string[]>
}

export const DEFAULT_FOLD_OPTIONS: FoldOptions = { holdThresholds: { deletePercent: 10, updatePercent: 75 } }

export interface SyncInfo {
  readonly syncId: string
  readonly app: string
  readonly startEventId: string
  readonly startedAt: string
  readonly modes: string
  status: SyncStatus
  version: number
  endedAt: string
  message: string
  /** What a held sync becomes when approved. */
  statusOnApproval: SyncStatus
  /** The reviewer's decision on a hold, once made. */
  decision: '' | 'approved' | 'rejected'
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
 * How the state changed, as data, so a stream processor can keep a changelog of
 * it (the fold itself never writes anywhere).
 */
export type StateChange =
  | { readonly kind: 'sync'; readonly tenant: string; readonly info: SyncInfo }
  | { readonly kind: 'intake'; readonly tenant: string; readonly syncId: string; readonly event: ChangeEvent }
  | { readonly kind: 'closed'; readonly tenant: string; readonly syncId: string; readonly eventIds: readonly string[] }
  | { readonly kind: 'committed'; readonly tenant: string; readonly overlay: OverlayData }
  | { readonly kind: 'held'; readonly tenant: string; readonly syncId: string; readonly overlay: OverlayData }
  | { readonly kind: 'released'; readonly tenant: string; readonly syncId: string }

export interface FoldResult {
  readonly events: SyncLogEvent[]
  readonly changes: readonly StateChange[]
  /** The event cannot be applied (no such sync, out of place): route it to the dead letters with this reason. */
  readonly rejected: string | null
  /** The event was a redelivery or belongs to a closed sync: no effect. */
  readonly ignored: string | null
}

export function createProcessorState(): ProcessorState {
  return { tenants: new Map() }
}

export function createTenantState(tenant: string): TenantState {
  return { tenant, tables: emptyTables(), indexes: emptyIndexes(), syncs: new Map(), pending: new Map(), held: new Map() }
}

const done = (events: SyncLogEvent[] = [], changes: StateChange[] = []): FoldResult => ({ events, changes, rejected: null, ignored: null })
const rejected = (reason: string): FoldResult => ({ events: [], changes: [], rejected: reason, ignored: null })
const ignored = (reason: string): FoldResult => ({ events: [], changes: [], rejected: null, ignored: reason })
const syncChange = (t: TenantState, info: SyncInfo): StateChange => ({ kind: 'sync', tenant: t.tenant, info: { ...info } })

function tenantOf(state: ProcessorState, tenant: string): TenantState {
  let t = state.tenants.get(tenant)
  if (!t) state.tenants.set(tenant, (t = createTenantState(tenant)))
  return t
}

function statusEvent(tenant: string, info: SyncInfo): SyncStatusChanged {
  return {
    kind: 'SyncStatusChanged', tenant, syncId: info.syncId, app: info.app, status: info.status, version: info.version,
    startedAt: info.startedAt, endedAt: info.endedAt, message: info.message, modes: info.modes,
  }
}

function transition(t: TenantState, info: SyncInfo, status: SyncStatus, at: string, message: string): SyncStatusChanged {
  info.status = status
  info.version += 1
  info.message = message
  if (status !== 'Running') info.endedAt = at
  return statusEvent(t.tenant, info)
}

/** Why a tenant cannot take new syncs right now, or ''. */
function holdBlock(t: TenantState, except: string): string {
  for (const id of t.held.keys()) if (id !== except) return `sync ${id} of this tenant is On Hold: approve or reject it first`
  return ''
}

function onSyncStarted(state: ProcessorState, e: SyncStarted): FoldResult {
  const t = tenantOf(state, e.tenant)
  const known = t.syncs.get(e.syncId)
  if (known) return known.startEventId === e.eventId ? ignored('redelivered SyncStarted') : rejected(`sync ${e.syncId} was already started by event ${known.startEventId}`)
  const modes = (Object.entries(e.modes) as [EntityType, string][]).map(([k, v]) => `${k}=${v}`).join(',')
  const info: SyncInfo = {
    syncId: e.syncId, app: e.app, startEventId: e.eventId, startedAt: e.occurredAt, modes,
    status: 'Running', version: 0, endedAt: '', message: '', statusOnApproval: 'Completed', decision: '',
  }
  t.syncs.set(e.syncId, info)
  const blocked = holdBlock(t, e.syncId)
  if (blocked) {
    const failed = transition(t, info, 'Failed', e.occurredAt, blocked)
    return done([failed], [syncChange(t, info)])
  }
  t.pending.set(e.syncId, openPendingSync(e.syncId, e.app, e.occurredAt, e.modes))
  const running = transition(t, info, 'Running', e.occurredAt, '')
  return done([running], [syncChange(t, info)])
}

/** The open sync an event belongs to, or the result to return when there is none. */
function openSyncOf(state: ProcessorState, e: ChangeEvent): { t: TenantState; sync: PendingSync; info: SyncInfo } | FoldResult {
  const t = state.tenants.get(e.tenant)
  const info = t?.syncs.get(e.syncId)
  if (!t || !info) return rejected(`no SyncStarted for sync ${e.syncId} of tenant ${e.tenant}`)
  const sync = t.pending.get(e.syncId)
  if (!sync) return ignored(`sync ${e.syncId} is ${info.status}`)
  if (sync.eventIds.has(e.eventId)) return ignored('redelivered event')
  return { t, sync, info }
}

function onRecord(state: ProcessorState, e: RecordChanged | RecordUnreadable): FoldResult {
  const open = openSyncOf(state, e)
  if ('events' in open) return open
  if (e.type === 'RecordChanged') intakeRecord(open.sync, e)
  else intakeUnreadable(open.sync, e)
  return done([], [{ kind: 'intake', tenant: open.t.tenant, syncId: e.syncId, event: e }])
}

function onSyncEnded(state: ProcessorState, e: SyncEnded, options: FoldOptions): FoldResult {
  const open = openSyncOf(state, e)
  if ('events' in open) return open
  const { t, sync, info } = open
  t.pending.delete(e.syncId)
  const closed: StateChange = { kind: 'closed', tenant: t.tenant, syncId: e.syncId, eventIds: [...sync.eventIds] }
  const blocked = holdBlock(t, e.syncId)
  if (blocked) {
    const failed = transition(t, info, 'Failed', e.occurredAt, blocked)
    return done([failed], [closed, syncChange(t, info)])
  }

  const onboarded = options.onboardedSchools?.get(t.tenant)
  const resolved = resolveSync(t, sync, e, {
    tenant: t.tenant, holdThresholds: options.holdThresholds, onboardedSchools: onboarded ? new Set(onboarded) : undefined,
  })
  const rows: LogRow[] = resolved.rows.map((row, i) => ({ kind: 'LogRow', tenant: t.tenant, syncId: sync.syncId, seq: i + 1, app: sync.app, ...row }))
  const counts: SyncLogEvent[] = resolved.counter.entries().map(({ entity, schoolId, counts }) => ({
    kind: 'SyncCounts', tenant: t.tenant, syncId: sync.syncId, app: sync.app, entity, schoolId, schoolName: resolved.schoolName(schoolId),
    startedAt: info.startedAt, counts,
  }))
  info.statusOnApproval = resolved.counter.hasErrors() ? 'Completed with Errors' : 'Completed'
  let status: SyncStatusChanged
  let applied: StateChange
  if (resolved.holdReason) {
    t.held.set(sync.syncId, resolved.overlay)
    applied = { kind: 'held', tenant: t.tenant, syncId: sync.syncId, overlay: resolved.overlay }
    status = transition(t, info, 'On Hold', e.occurredAt, resolved.holdReason)
  } else {
    commitOverlay(t, resolved.overlay)
    applied = { kind: 'committed', tenant: t.tenant, overlay: resolved.overlay }
    status = transition(t, info, info.statusOnApproval, e.occurredAt, '')
  }
  return done([...rows, ...counts, status], [closed, applied, syncChange(t, info)])
}

function onSyncFailed(state: ProcessorState, e: SyncFailed): FoldResult {
  const open = openSyncOf(state, e)
  if ('events' in open) return open
  const sync = open.t.pending.get(e.syncId)
  open.t.pending.delete(e.syncId)
  const failed = transition(open.t, open.info, 'Failed', e.occurredAt, e.reason)
  return done([failed], [
    { kind: 'closed', tenant: open.t.tenant, syncId: e.syncId, eventIds: [...(sync?.eventIds ?? [])] }, syncChange(open.t, open.info),
  ])
}

function onDecision(state: ProcessorState, e: SyncApproved | SyncRejected): FoldResult {
  const t = state.tenants.get(e.tenant)
  const info = t?.syncs.get(e.syncId)
  if (!t || !info) return rejected(`no sync ${e.syncId} for tenant ${e.tenant}`)
  const overlay = t.held.get(e.syncId)
  if (!overlay) {
    if (info.decision !== '') return ignored(`sync ${e.syncId} was already decided`)
    return rejected(`sync ${e.syncId} is ${info.status}, not On Hold`)
  }
  t.held.delete(e.syncId)
  info.decision = e.type === 'SyncApproved' ? 'approved' : 'rejected'
  const released: StateChange = { kind: 'released', tenant: t.tenant, syncId: e.syncId }
  if (e.type === 'SyncApproved') {
    commitOverlay(t, overlay)
    const approved = transition(t, info, info.statusOnApproval, e.occurredAt, `approved by ${e.by}`)
    return done([approved], [released, { kind: 'committed', tenant: t.tenant, overlay }, syncChange(t, info)])
  }
  const rejectedStatus = transition(t, info, 'Rejected', e.occurredAt, `rejected by ${e.by}`)
  return done([rejectedStatus], [released, syncChange(t, info)])
}

/** Applies one change event to the state and returns the sync-log events it produces. */
export function applyEvent(state: ProcessorState, event: ChangeEvent, options: FoldOptions = DEFAULT_FOLD_OPTIONS): FoldResult {
  switch (event.type) {
    case 'SyncStarted': return onSyncStarted(state, event)
    case 'RecordChanged':
    case 'RecordUnreadable': return onRecord(state, event)
    case 'SyncEnded': return onSyncEnded(state, event, options)
    case 'SyncFailed': return onSyncFailed(state, event)
    case 'SyncApproved':
    case 'SyncRejected': return onDecision(state, event)
    default: {
      const unknown: never = event
      return rejected(`unknown event type ${(unknown as { type?: string }).type ?? '?'}`)
    }
  }
}

/** The tenant a sync belongs to, searching the state (for approve/reject by sync id). */
export function findSync(state: ProcessorState, syncId: string): { tenant: string; info: SyncInfo } | undefined {
  for (const t of state.tenants.values()) {
    const info = t.syncs.get(syncId)
    if (info) return { tenant: t.tenant, info }
  }
  return undefined
}
