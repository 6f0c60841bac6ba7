import { describe, expect, it } from 'vitest'
import { applyEvent, createProcessorState, type ProcessorState, type StateChange } from '../../src/processor/index.js'
import { changelogEntries, restoreState } from '../../src/stream/state-changelog.js'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { DELTA, FULL, smallDistrict, student, sync, teacher } from '../support/sis.js'

function foldAll(state: ProcessorState, events: readonly ChangeEvent[], changes: StateChange[] = []): string {
  const out: unknown[] = []
  for (const e of events) {
    const r = applyEvent(state, e)
    out.push(...r.events)
    changes.push(...r.changes)
  }
  return JSON.stringify(out)
}

describe('the state changelog', () => {
  it('restores a state that folds the next sync exactly as the original does', () => {
    const original = createProcessorState()
    const changes: StateChange[] = []
    foldAll(original, smallDistrict(sync(), { students: 12 }).end(), changes)
    foldAll(original, sync(DELTA).upsert('user', 'tch1', teacher('Jordan', 'Staff', 'sch1')).delete('user', 'stu3').end(), changes)
    const restored = restoreState(changelogEntries(changes))
    const next = smallDistrict(sync(), { students: 10 }).upsert('user', 'stu99', student('New', 'Kid', 'sch1', 'S99')).end()
    expect(foldAll(restored, next)).toBe(foldAll(original, next))
  })

  it('restores a sync that was still open, so its end resolves every record it had taken in', () => {
    const original = createProcessorState()
    const changes: StateChange[] = []
    foldAll(original, smallDistrict(sync(), { students: 4 }).end(), changes)
    const open = smallDistrict(sync(FULL, 'open-sync'), { students: 3 }).end()
    const ending = open.pop()!
    foldAll(original, open, changes)
    const restored = restoreState(changelogEntries(changes))
    expect(foldAll(restored, [ending])).toBe(foldAll(original, [ending]))
  })

  it('restores a sync On Hold, which can then be approved', () => {
    const original = createProcessorState()
    const changes: StateChange[] = []
    foldAll(original, smallDistrict(sync(), { students: 10 }).end(), changes)
    foldAll(original, smallDistrict(sync(FULL, 'held-sync'), { students: 2 }).end(), changes)
    const restored = restoreState(changelogEntries(changes))
    const approve: ChangeEvent = { type: 'SyncApproved', eventId: 'ok', tenant: 'district-a', syncId: 'held-sync', app: 'cli', occurredAt: '2024-11-01T00:00:00Z', by: 'me' }
    expect(foldAll(restored, [approve])).toBe(foldAll(original, [approve]))
    const after = smallDistrict(sync(), { students: 2 }).end()
    expect(foldAll(restored, after)).toBe(foldAll(original, after))
  })

  it('keeps only the latest value of each key, as a compacted topic does', () => {
    const original = createProcessorState()
    const changes: StateChange[] = []
    foldAll(original, smallDistrict(sync(), { students: 3 }).end(), changes)
    foldAll(original, sync(DELTA).delete('user', 'stu1').end(), changes)
    const entries = changelogEntries(changes)
    const compacted = [...new Map(entries.map((e) => [e.key, e])).values()]
    expect(compacted.length).toBeLessThan(entries.length)
    const restored = restoreState(compacted)
    expect(restored.tenants.get('district-a')?.tables.user.has('stu1')).toBe(false)
    expect(restored.tenants.get('district-a')?.tables.user.has('stu2')).toBe(true)
  })
})
