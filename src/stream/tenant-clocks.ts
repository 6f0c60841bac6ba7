/**
 * Each tenant's clock for the processor's abandonment check, on the scale of the tenant's
 * own event times: the latest `occurredAt` of its open syncs, moved on by the wall time
 * since the processor last saw them take in an event (a later time, or one more event:
 * a bundle stamps all its rows with one time). The wall clock alone cannot be compared
 * with event times: a publisher whose clock is hours off, or a backfill of last month's
 * exports, would see its sync Failed as abandoned while its events are still arriving.
 * By this clock a sync is abandoned after `abandonAfterHours` of real silence, and a sync
 * older (by event time) than a newer open sync of its tenant as the fold itself would
 * abandon it when that newer sync started.
 */
import type { ProcessorState, TenantState } from '../processor/index.js'
import { lastEventMillisOf } from '../processor/pending-sync.js'

interface Progress {
  /** The latest event time of the tenant's open syncs, in ms. */
  readonly eventMs: number
  /** Events the tenant's open syncs have taken in. */
  readonly taken: number
}

interface Clock extends Progress {
  /** Wall time (ms) at which the processor saw this progress first. */
  readonly wallMs: number
}

/** How far a tenant's open syncs have got, or null when it has none. */
function progressOf(t: TenantState): Progress | null {
  let eventMs: number | null = null
  let taken = 0
  for (const sync of t.pending.values()) {
    taken += sync.eventIds.size
    const at = lastEventMillisOf(sync)
    if (at !== null && (eventMs === null || at > eventMs)) eventMs = at
  }
  return eventMs === null ? null : { eventMs, taken }
}

export class TenantClocks {
  private readonly clocks = new Map<string, Clock>()

  /** Notes how far the state's open syncs have got, at wall time `wallMs` (after each batch, and before a check). */
  observe(state: ProcessorState, wallMs: number): void {
    for (const t of state.tenants.values()) {
      const progress = progressOf(t)
      if (progress === null) {
        this.clocks.delete(t.tenant)
        continue
      }
      const known = this.clocks.get(t.tenant)
      if (known?.eventMs !== progress.eventMs || known.taken !== progress.taken) this.clocks.set(t.tenant, { ...progress, wallMs })
    }
  }

  /** The tenant's clock at wall time `wallMs`, as an ISO instant; null for a tenant with no open sync observed. */
  nowOf(tenant: string, wallMs: number): string | null {
    const clock = this.clocks.get(tenant)
    if (clock === undefined) return null
    return new Date(clock.eventMs + Math.max(0, wallMs - clock.wallMs)).toISOString()
  }
}
