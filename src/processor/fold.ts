/**
 * The fold, split as event-sourcing libraries split it: `decide(state, event)`
 * is pure and returns the sync-log events and the state changes; `evolve`
 * (evolve.ts) applies the changes and is the only mutator of the state.
 *
 * No I/O, no clock, no randomness; time comes from the events. Replaying the
 * same events from the same state gives byte-identical sync-log events.
 */
import type {
  ChangeEvent,
  RecordChanged,
  RecordUnreadable,
  SyncApproved,
  SyncEnded,
  SyncFailed,
  SyncRejected,
  SyncStarted,
} from '../events/change-event.js'
import type { SyncLogEvent, SyncStatus, SyncStatusChanged } from '../events/sync-log-event.js'
import { appliedCount, evolve, formatModes, type ProcessorState, type StateChange, type SyncInfo, type TenantState } from './evolve.js'
import { lastEventMillisOf, lastEventOf, type PendingSync } from './pending-sync.js'
import type { HoldThresholds } from './hold-thresholds.js'
import { resolveSync } from './resolve-sync.js'
import { Overlay } from './roster-store.js'
import { instantMillis } from './time.js'

export interface FoldOptions {
  readonly holdThresholds: HoldThresholds
  /** Per tenant, the school sourcedIds onboarded; a tenant not listed has every school onboarded. */
  readonly onboardedSchools?: ReadonlyMap<string, readonly string[]>
  /** A Running sync with no event for this long is abandoned (Failed, its records discarded). */
  readonly abandonAfterMs?: number
}

export const DEFAULT_ABANDON_AFTER_MS = 6 * 3600_000

export const DEFAULT_FOLD_OPTIONS: FoldOptions = { holdThresholds: { deletePercent: 10, updatePercent: 75 } }

/** What one event does: the sync-log events it produces and the state changes `evolve` applies. */
export interface Decision {
  readonly events: SyncLogEvent[]
  readonly changes: readonly StateChange[]
  /** The event cannot be applied (no such sync, out of place): route it to the dead letters with this reason. */
  readonly rejected: string | null
  /** The event was a redelivery or belongs to a closed sync: no effect. */
  readonly ignored: string | null
}

/** Where an event sits in its input log ('' when it has none); a sync remembers where it started. */
export interface Positioned {
  readonly event: ChangeEvent
  readonly offset: string
}

const done = (events: SyncLogEvent[] = [], changes: StateChange[] = []): Decision => ({ events, changes, rejected: null, ignored: null })
const rejected = (reason: string): Decision => ({ events: [], changes: [], rejected: reason, ignored: null })
const ignored = (reason: string): Decision => ({ events: [], changes: [], rejected: null, ignored: reason })

function statusEvent(tenant: string, info: SyncInfo): SyncStatusChanged {
  return {
    kind: 'SyncStatusChanged',
    tenant,
    syncId: info.syncId,
    app: info.app,
    status: info.status,
    version: info.version,
    startedAt: info.startedAt,
    endedAt: info.endedAt,
    message: info.message,
    modes: info.modes,
    reviewedBy: info.reviewedBy ?? '',
    reviewedAt: info.reviewedAt ?? '',
    reviewReason: info.reviewReason ?? '',
  }
}

/** Statuses that are not an end: a sync in one has no end time (a held sync ends when decided). */
const UNFINISHED: readonly SyncStatus[] = ['Running', 'On Hold', 'Preview']

/** A sync's next status: the new info (as a change) and the event announcing it. */
function transition(
  tenant: string,
  info: SyncInfo,
  status: SyncStatus,
  at: string,
  message: string,
  extra: Partial<SyncInfo> = {},
): { change: StateChange; event: SyncStatusChanged } {
  const next: SyncInfo = {
    ...info,
    ...extra,
    status,
    version: info.version + 1,
    message,
    endedAt: UNFINISHED.includes(status) ? '' : at,
  }
  return { change: { kind: 'sync', tenant, info: next }, event: statusEvent(tenant, next) }
}

/** Why a tenant cannot take new syncs right now, or ''. A preview blocks nothing: it is checked when applied. */
function holdBlock(t: TenantState | undefined, except: string): string {
  for (const id of t?.held.keys() ?? [])
    if (id !== except && t?.syncs.get(id)?.status === 'On Hold') return `sync ${id} of this tenant is On Hold: approve or reject it first`
  return ''
}

/**
 * Why a preview can no longer be applied, or '': another sync was applied to the tenant
 * after it was computed, so its changes were worked out against a roster that is gone.
 */
export function stalePreview(t: TenantState, info: SyncInfo): string {
  const since = appliedCount(t) - (info.basedOn ?? 0)
  if (info.status !== 'Preview' || since <= 0) return ''
  return `the preview is out of date: ${since} sync${since === 1 ? ' was' : 's were'} applied to tenant ${t.tenant} since it was computed; import it again to preview the current changes`
}

function abandonAfter(options: FoldOptions): number {
  return options.abandonAfterMs ?? DEFAULT_ABANDON_AFTER_MS
}

function hours(ms: number): string {
  const h = ms / 3600_000
  return Number.isInteger(h) ? `${h} h` : `${Math.round(ms / 60_000)} min`
}

/**
 * The Running syncs of a tenant silent for longer than the options allow at
 * `now` (an event's occurredAt, or the adapter's clock): each becomes Failed and
 * what it took in is discarded.
 */
function abandon(t: TenantState | undefined, now: string, options: FoldOptions, except = ''): Decision {
  const at = instantMillis(now)
  if (!t || at === null) return done()
  const events: SyncLogEvent[] = []
  const changes: StateChange[] = []
  const limit = abandonAfter(options)
  for (const sync of t.pending.values()) {
    const info = t.syncs.get(sync.syncId)
    const last = lastEventMillisOf(sync)
    if (!info || sync.syncId === except || last === null || at - last <= limit) continue
    const message = `abandoned: no event for ${hours(limit)} since ${lastEventOf(sync)}; its publisher never ended it, so its records were discarded`
    const failed = transition(t.tenant, info, 'Failed', now, message)
    changes.push({ kind: 'closed', tenant: t.tenant, syncId: sync.syncId }, failed.change)
    events.push(failed.event)
  }
  return done(events, changes)
}

/**
 * Abandons every tenant's syncs silent for too long: `nowOf(tenant)` is the tenant's clock
 * now, as an ISO instant on the scale of its own events' times (the adapter keeps it:
 * src/stream/tenant-clocks.ts), or null to leave the tenant alone.
 */
export function decideAbandoned(
  state: ProcessorState,
  nowOf: (tenant: string) => string | null,
  options: FoldOptions = DEFAULT_FOLD_OPTIONS,
): Decision {
  const events: SyncLogEvent[] = []
  const changes: StateChange[] = []
  for (const t of state.tenants.values()) {
    const now = nowOf(t.tenant)
    if (now === null) continue
    const d = abandon(t, now, options)
    for (const e of d.events) events.push(e)
    for (const c of d.changes) changes.push(c)
  }
  return done(events, changes)
}

function onSyncStarted(state: ProcessorState, e: SyncStarted, offset: string, options: FoldOptions): Decision {
  const t = state.tenants.get(e.tenant)
  const known = t?.syncs.get(e.syncId)
  if (known)
    return known.startEventId === e.eventId
      ? ignored('redelivered SyncStarted')
      : rejected(`sync ${e.syncId} was already started by event ${known.startEventId}`)
  // A sync its publisher never ended must not be folded beside the new one.
  const stale = abandon(t, e.occurredAt, options)
  const info: SyncInfo = {
    syncId: e.syncId,
    app: e.app,
    startEventId: e.eventId,
    startedAt: e.occurredAt,
    modes: formatModes(e.modes),
    status: 'Running',
    version: 0,
    endedAt: '',
    message: '',
    statusOnApproval: 'Completed',
    decision: '',
    preview: e.preview === true,
  }
  const blocked = info.preview === true ? '' : holdBlock(t, e.syncId)
  if (blocked) {
    const failed = transition(e.tenant, info, 'Failed', e.occurredAt, blocked)
    return done([...stale.events, failed.event], [...stale.changes, failed.change])
  }
  const running = transition(e.tenant, info, 'Running', e.occurredAt, '')
  return done(
    [...stale.events, running.event],
    [...stale.changes, running.change, { kind: 'opened', tenant: e.tenant, syncId: e.syncId, inputOffset: offset }],
  )
}

/** The open sync an event belongs to, or the decision to return when there is none. */
function openSyncOf(state: ProcessorState, e: ChangeEvent): { t: TenantState; sync: PendingSync; info: SyncInfo } | Decision {
  const t = state.tenants.get(e.tenant)
  const info = t?.syncs.get(e.syncId)
  if (!t || !info) return rejected(`no SyncStarted for sync ${e.syncId} of tenant ${e.tenant}`)
  const sync = t.pending.get(e.syncId)
  if (!sync) return ignored(`sync ${e.syncId} is ${info.status}`)
  if (sync.eventIds.has(e.eventId)) return ignored('redelivered event')
  return { t, sync, info }
}

function onRecord(state: ProcessorState, e: RecordChanged | RecordUnreadable): Decision {
  const open = openSyncOf(state, e)
  if ('events' in open) return open
  return done([], [{ kind: 'intake', tenant: open.t.tenant, syncId: e.syncId, event: e }])
}

function onSyncEnded(state: ProcessorState, e: SyncEnded, options: FoldOptions): Decision {
  const open = openSyncOf(state, e)
  if ('events' in open) return open
  const { t, sync, info } = open
  const closed: StateChange = { kind: 'closed', tenant: t.tenant, syncId: e.syncId }
  const blocked = info.preview === true ? '' : holdBlock(t, e.syncId)
  if (blocked) {
    const failed = transition(t.tenant, info, 'Failed', e.occurredAt, blocked)
    return done([failed.event], [closed, failed.change])
  }

  const onboarded = options.onboardedSchools?.get(t.tenant)
  const resolved = resolveSync(t, sync, e, {
    tenant: t.tenant,
    holdThresholds: options.holdThresholds,
    onboardedSchools: onboarded ? new Set(onboarded) : undefined,
  })
  const rows = resolved.rows
  const counts: SyncLogEvent[] = resolved.counter.entries().map(({ entity, schoolId, counts }) => ({
    kind: 'SyncCounts',
    tenant: t.tenant,
    syncId: sync.syncId,
    app: sync.app,
    entity,
    schoolId,
    schoolName: resolved.schoolName(schoolId),
    startedAt: info.startedAt,
    counts,
  }))
  const statusOnApproval: SyncStatus = resolved.counter.hasErrors() ? 'Completed with Errors' : 'Completed'
  const applied = appliedCount(t)
  if (info.preview === true) {
    const would = resolved.holdReason ? `; applying it now would put it On Hold (${resolved.holdReason})` : ''
    const previewed = transition(t.tenant, info, 'Preview', e.occurredAt, `preview, not applied: apply or discard it${would}`, {
      statusOnApproval,
      basedOn: applied,
    })
    return done(
      [...rows, ...counts, previewed.event],
      [closed, { kind: 'held', tenant: t.tenant, syncId: sync.syncId, overlay: resolved.overlay }, previewed.change],
    )
  }
  if (resolved.holdReason) {
    const held = transition(t.tenant, info, 'On Hold', e.occurredAt, resolved.holdReason, { statusOnApproval })
    return done(
      [...rows, ...counts, held.event],
      [closed, { kind: 'held', tenant: t.tenant, syncId: sync.syncId, overlay: resolved.overlay }, held.change],
    )
  }
  const completed = transition(t.tenant, info, statusOnApproval, e.occurredAt, '', { statusOnApproval, appliedSeq: applied + 1 })
  return done(
    [...rows, ...counts, completed.event],
    [closed, { kind: 'committed', tenant: t.tenant, overlay: resolved.overlay }, completed.change],
  )
}

function onSyncFailed(state: ProcessorState, e: SyncFailed): Decision {
  const open = openSyncOf(state, e)
  if ('events' in open) return open
  const failed = transition(open.t.tenant, open.info, 'Failed', e.occurredAt, e.reason)
  return done([failed.event], [{ kind: 'closed', tenant: open.t.tenant, syncId: e.syncId }, failed.change])
}

function onDecision(state: ProcessorState, e: SyncApproved | SyncRejected): Decision {
  const t = state.tenants.get(e.tenant)
  const info = t?.syncs.get(e.syncId)
  if (!t || !info) return rejected(`no sync ${e.syncId} for tenant ${e.tenant}`)
  const overlay = t.held.get(e.syncId)
  if (!overlay) {
    if (info.decision !== '') return ignored(`sync ${e.syncId} was already decided`)
    return rejected(`sync ${e.syncId} is ${info.status}, not On Hold or Preview`)
  }
  const review = { reviewedBy: e.by, reviewedAt: e.occurredAt, reviewReason: e.reason ?? '' }
  const released: StateChange = { kind: 'released', tenant: t.tenant, syncId: e.syncId, size: new Overlay(t, overlay).size }
  const preview = info.status === 'Preview'
  if (e.type === 'SyncApproved') {
    const stale = stalePreview(t, info)
    if (stale) return rejected(stale)
    const approved = transition(
      t.tenant,
      info,
      info.statusOnApproval,
      e.occurredAt,
      `${preview ? 'preview applied' : 'approved'} by ${e.by}`,
      {
        decision: 'approved',
        appliedSeq: appliedCount(t) + 1,
        ...review,
      },
    )
    return done([approved.event], [released, { kind: 'committed', tenant: t.tenant, overlay }, approved.change])
  }
  const rejectedStatus = transition(t.tenant, info, 'Rejected', e.occurredAt, `${preview ? 'preview discarded' : 'rejected'} by ${e.by}`, {
    decision: 'rejected',
    ...review,
  })
  return done([rejectedStatus.event], [released, rejectedStatus.change])
}

/**
 * What one change event does to the state, without changing it: pure, reads
 * only `state`, `input` and `options`. Apply the decision's changes with `evolve`.
 */
export function decide(state: ProcessorState, input: Positioned, options: FoldOptions = DEFAULT_FOLD_OPTIONS): Decision {
  const event = input.event
  switch (event.type) {
    case 'SyncStarted':
      return onSyncStarted(state, event, input.offset, options)
    case 'RecordChanged':
    case 'RecordUnreadable':
      return onRecord(state, event)
    case 'SyncEnded':
      return onSyncEnded(state, event, options)
    case 'SyncFailed':
      return onSyncFailed(state, event)
    case 'SyncApproved':
    case 'SyncRejected':
      return onDecision(state, event)
    default: {
      const unknown: never = event
      return rejected(`unknown event type ${(unknown as { type?: string }).type ?? '?'}`)
    }
  }
}

/** Decides one event and evolves the state with it at once (for callers with nothing to make durable first). */
export function applyEvent(state: ProcessorState, event: ChangeEvent, options: FoldOptions = DEFAULT_FOLD_OPTIONS): Decision {
  const decision = decide(state, { event, offset: '' }, options)
  evolve(state, decision.changes)
  return decision
}

/** The tenant a sync belongs to, searching the state (for approve/reject by sync id). */
export function findSync(state: ProcessorState, syncId: string): { tenant: string; info: SyncInfo } | undefined {
  for (const t of state.tenants.values()) {
    const info = t.syncs.get(syncId)
    if (info) return { tenant: t.tenant, info }
  }
  return undefined
}
