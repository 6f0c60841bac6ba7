import { describe, expect, it } from 'vitest'
import type { SyncStatusChanged } from '../../src/events/sync-log-event.js'
import { applyEvent, createProcessorState, decideAbandoned, evolve, DEFAULT_FOLD_OPTIONS } from '../../src/processor/index.js'
import { TenantClocks } from '../../src/stream/tenant-clocks.js'
import { DELTA, smallDistrict, student, sync } from '../support/sis.js'

const statuses = (events: readonly { kind: string }[]): string[] =>
  events.filter((e): e is SyncStatusChanged => e.kind === 'SyncStatusChanged').map((e) => `${e.syncId} ${e.status}: ${e.message}`)

describe('a sync whose publisher died half-way', () => {
  function halfPublished() {
    const state = createProcessorState()
    for (const e of smallDistrict(sync(undefined, 'night-1'), { students: 3 }).end()) applyEvent(state, e)
    const night2 = sync(DELTA, 'night-2')
      .upsert('user', 'stu9', student('Half', 'Way', 'sch1', 'S9'))
      .end()
    night2.pop() // never ended
    for (const e of night2) applyEvent(state, e)
    return { state, startedAt: night2[0]!.occurredAt }
  }

  it('is Failed as abandoned when the next sync of its tenant starts more than 6 hours later, and the new sync runs alone', () => {
    const { state } = halfPublished()
    const night3 = smallDistrict(sync(undefined, 'night-3'), { students: 3 }).end()
    const out = night3.flatMap((e) => applyEvent(state, e).events)
    expect(statuses(out)[0]).toMatch(/^night-2 Failed: abandoned: no event for 6 h since .*its records were discarded$/)
    expect(statuses(out).slice(1)).toEqual(['night-3 Running: ', 'night-3 Completed: '])
    // What night 2 took in never reached the roster.
    expect(state.tenants.get('district-a')!.tables.user.has('stu9')).toBe(false)
  })

  it("is Failed by the processor's clock once silent longer than the configured time, and not before", () => {
    const { state, startedAt } = halfPublished()
    const at = (hours: number): string => new Date(Date.parse(startedAt) + hours * 3600_000).toISOString()
    expect(decideAbandoned(state, () => at(5.9), DEFAULT_FOLD_OPTIONS).events).toEqual([])
    const late = decideAbandoned(state, () => at(2.5), { ...DEFAULT_FOLD_OPTIONS, abandonAfterMs: 2 * 3600_000 })
    expect(statuses(late.events)).toEqual([expect.stringMatching(/^night-2 Failed: abandoned: no event for 2 h/)])
    evolve(state, late.changes)
    expect(state.tenants.get('district-a')!.pending.size).toBe(0)
    expect(decideAbandoned(state, () => at(30), DEFAULT_FOLD_OPTIONS).events).toEqual([])
  })

  it("is measured on the processor's clock from when its events stopped arriving, whatever times the events carry", () => {
    // The events of night 2 carry their publisher's times (a backfill, or a clock hours off): far from the wall clock.
    const { state } = halfPublished()
    const clocks = new TenantClocks()
    const hour = 3600_000
    const wall = Date.parse('2031-06-01T00:00:00Z')
    clocks.observe(state, wall)
    const check = (wallMs: number) => decideAbandoned(state, (tenant) => clocks.nowOf(tenant, wallMs), DEFAULT_FOLD_OPTIONS)
    // Minutes or hours of real time later, with nothing new, it is still Running.
    expect(check(wall + 60_000).events).toEqual([])
    expect(check(wall + 5.9 * hour).events).toEqual([])
    // An event of it arrives after 5 h: its silence starts again from then.
    const more = sync(DELTA, 'night-2')
      .upsert('user', 'stu8', student('Late', 'Comer', 'sch1', 'S8'))
      .end()
    applyEvent(state, {
      ...more[1]!,
      eventId: 'night-2-late',
      occurredAt: new Date(Date.parse(more[1]!.occurredAt) + 60_000).toISOString(),
    })
    clocks.observe(state, wall + 5 * hour)
    expect(check(wall + 10.9 * hour).events).toEqual([])
    const late = check(wall + 11.1 * hour)
    expect(statuses(late.events)).toEqual([expect.stringMatching(/^night-2 Failed: abandoned: no event for 6 h since /)])
  })

  it('is not Failed while its events keep arriving, even when they all carry the same time', () => {
    const { state } = halfPublished()
    const clocks = new TenantClocks()
    const hour = 3600_000
    clocks.observe(state, 0)
    const check = (wallMs: number) => decideAbandoned(state, (tenant) => clocks.nowOf(tenant, wallMs), DEFAULT_FOLD_OPTIONS)
    const [, first] = sync(DELTA, 'night-2')
      .upsert('user', 'stu7', student('Same', 'Time', 'sch1', 'S7'))
      .end()
    // One more event of the sync every 4 hours of real time, each stamped as the last one was.
    const pending = state.tenants.get('district-a')!.pending.get('night-2')!
    for (let k = 1; k <= 3; k++) {
      applyEvent(state, { ...first!, eventId: `night-2-same-${k}`, occurredAt: pending.lastEventAt })
      clocks.observe(state, k * 4 * hour)
      expect(check(k * 4 * hour + 5 * hour).events).toEqual([])
    }
    expect(statuses(check(12 * hour + 6.1 * hour).events)).toEqual([expect.stringMatching(/^night-2 Failed: abandoned/)])
  })

  it('leaves a tenant with no open sync alone', () => {
    const state = createProcessorState()
    for (const e of smallDistrict(sync(undefined, 'night-1'), { students: 3 }).end()) applyEvent(state, e)
    const clocks = new TenantClocks()
    clocks.observe(state, 0)
    expect(clocks.nowOf('district-a', 10 * 24 * 3600_000)).toBeNull()
  })
})
