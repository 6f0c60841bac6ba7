/**
 * Each tenant's clock for the processor's abandonment check, on the scale of the tenant's
 * own event times: the latest `occurredAt` of its open syncs, moved on by the wall time
 * since the processor saw that latest time change. The wall clock alone cannot be compared
 * with event times: a publisher whose clock is hours off, or a backfill of last month's
 * exports, would see its sync Failed as abandoned while its events are still arriving.
 * By this clock a sync is abandoned after `abandonAfterHours` of real silence, and a sync
 * older (by event time) than a newer open sync of its tenant as the fold itself would
 * abandon it when that newer sync started.
 */
import type { ProcessorState, TenantState } from '../processor/index.js'
import { lastEventOf } from '../processor/pending-sync.js'
import { instantMillis } from '../processor/time.js'

interface Clock {
  /** The latest event time of the tenant's open syncs, in ms. */
  readonly eventMs: number
  /** Wall time (ms) at which the processor saw `eventMs` become the latest. */
  readonly wallMs: number
}

/** The latest event time of a tenant's open syncs, or null when it has none. */
function latestEventMs(t: TenantState): number | null {
  let latest: number | null = null
  for (const sync of t.pending.values()) {
    const at = sync.lastEventMillis ?? instantMillis(lastEventOf(sync))
    if (at !== null && Number.isFinite(at) && (latest === null || at > latest)) latest = at
  }
  return latest
}

export class TenantClocks {
  private readonly clocks = new Map<string, Clock>()

  /** Notes the event times the state's open syncs have reached, at wall time `wallMs` (after each batch, and before a check). */
  observe(state: ProcessorState, wallMs: number): void {
    for (const t of state.tenants.values()) {
      const latest = latestEventMs(t)
      if (latest === null) {
        this.clocks.delete(t.tenant)
        continue
      }
      if (this.clocks.get(t.tenant)?.eventMs !== latest) this.clocks.set(t.tenant, { eventMs: latest, wallMs })
    }
  }

  /** The tenant's clock at wall time `wallMs`, as an ISO instant; null for a tenant with no open sync observed. */
  nowOf(tenant: string, wallMs: number): string | null {
    const clock = this.clocks.get(tenant)
    if (clock === undefined) return null
    return new Date(clock.eventMs + Math.max(0, wallMs - clock.wallMs)).toISOString()
  }
}
