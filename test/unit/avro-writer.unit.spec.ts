/**
 * Sync-log events are written by a writer compiled from the schema (src/events/avro-writer.ts),
 * not by avsc: every value must come out as the bytes avsc writes for it, read back as it
 * went in, and a value that does not fit must be refused as avsc refuses it.
 */
import { describe, expect, it } from 'vitest'
import {
  decodeSyncLogEvent,
  encodeSyncLogEvent,
  encodeSyncLogEventInto,
  processorStateType,
  syncLogEventToAvro,
  syncLogEventType,
  writeProcessorState,
} from '../../src/events/avro.js'
import { ENTITY_TYPES } from '../../src/events/change-event.js'
import { changelogValueToAvro, type ChangelogValue, type RosterChange } from '../../src/stream/changelog-avro.js'
import type { LogRow, SyncCounts, SyncLogEvent, SyncStatusChanged } from '../../src/events/sync-log-event.js'
import { applyEvent, createProcessorState } from '../../src/processor/index.js'
import { logRow, statusChange, syncCounts } from '../support/log-row.js'
import { smallDistrict, sync } from '../support/sis.js'

const avscBytes = (e: SyncLogEvent): Buffer => syncLogEventType.toBuffer(syncLogEventToAvro(e))

const status: SyncStatusChanged = { ...statusChange, status: 'Completed with Errors', version: 3, modes: 'user=full,enrollment=delta' }

const counts: SyncCounts = {
  ...syncCounts,
  entity: 'enrollment',
  counts: {
    total: 70_000,
    new: 69_000,
    updated: 64,
    noChange: 63,
    deleted: 1,
    skipped: 0,
    invalid: 2,
    duplicates: 3,
    merged: 1,
    excluded: 2,
  },
}

describe('the compiled sync-log writer', () => {
  it('writes every event a folded sync produces byte for byte as avsc does', () => {
    const state = createProcessorState()
    const events = smallDistrict(sync(), { students: 40 }).end()
    const out = events.flatMap((e) => applyEvent(state, e).events)
    expect(new Set(out.map((e) => e.kind))).toEqual(new Set(['SyncStatusChanged', 'LogRow', 'SyncCounts']))
    for (const e of out) expect(encodeSyncLogEvent(e).equals(avscBytes(e))).toBe(true)
  })

  it.each<[string, SyncLogEvent]>([
    ['accented, CJK and emoji text', { ...logRow, studentName: 'Ñúñez, Zoë 王小明 🎓', message: 'é'.repeat(40) }],
    [
      'ASCII text of 63, 64 and 65 characters, and an empty one',
      { ...logRow, field: 'a'.repeat(63), oldValue: 'b'.repeat(64), newValue: 'c'.repeat(65), message: '' },
    ],
    ['text of 100,000 characters', { ...logRow, message: 'x'.repeat(100_000) }],
    ['a sequence past 2^31 and up to 2^53 - 1', { ...logRow, seq: 2 ** 40 + 7 }],
    ['the largest sequence avsc writes (2^53 - 2)', { ...logRow, seq: Number.MAX_SAFE_INTEGER - 1 }],
    ['a negative sequence past -2^31', { ...logRow, seq: -(2 ** 40) - 3 }],
    ['a status change', status],
    ['counts of a school', counts],
  ])('writes %s as avsc does, and it reads back unchanged', (_what, e) => {
    const bytes = encodeSyncLogEvent(e)
    expect(bytes.equals(avscBytes(e))).toBe(true)
    expect(decodeSyncLogEvent(bytes)).toStrictEqual(e)
  })

  it('writes a lone surrogate as the replacement character, which reads back as U+FFFD', () => {
    const e: LogRow = { ...logRow, studentName: 'Ann \ud800 Lee' }
    expect((decodeSyncLogEvent(encodeSyncLogEvent(e)) as LogRow).studentName).toBe('Ann \ufffd Lee')
  })

  it('refuses a value that does not fit, naming the field, as EVENT_REJECTED', () => {
    const bad = { ...logRow, studentName: 42 } as unknown as LogRow
    expect(() => encodeSyncLogEvent(bad)).toThrow(/EVENT_REJECTED|does not fit/)
    expect(() => encodeSyncLogEvent(bad)).toThrow(/LogRow\.studentName/)
    const badEntity = { ...counts, entity: 'classroom' } as unknown as SyncCounts
    expect(() => encodeSyncLogEvent(badEntity)).toThrow(/SyncCounts\.entity/)
    for (const seq of [1.5, Number.MAX_SAFE_INTEGER, Number.NaN]) {
      expect(() => encodeSyncLogEvent({ ...logRow, seq })).toThrow(/LogRow\.seq/)
      expect(() => avscBytes({ ...logRow, seq })).toThrow()
    }
  })

  it('says how many more bytes an event needs when the buffer is too small, and writes it whole once there is room', () => {
    const e: LogRow = { ...logRow, message: 'ü'.repeat(300) }
    const whole = avscBytes(e)
    const small = Buffer.alloc(100)
    const end = encodeSyncLogEventInto(e, small, 10)
    expect(end).toBe(small.length - (10 + whole.length))
    const room = Buffer.alloc(10 + whole.length)
    expect(encodeSyncLogEventInto(e, room, 10)).toBe(room.length)
    expect(room.subarray(10).equals(whole)).toBe(true)
  })
})

/** The compiled writer's bytes of a processor-state value, from a buffer exactly as large as avsc's. */
function compiledState(value: unknown): Buffer {
  const size = processorStateType.toBuffer(value).length
  const buf = Buffer.alloc(size)
  expect(writeProcessorState(value, buf, 0)).toBe(size)
  return buf
}

describe('the compiled processor-state writer', () => {
  it('writes every kind of changelog entry of a folded sync as avsc does', () => {
    const state = createProcessorState()
    for (const e of smallDistrict(sync(), { students: 30 }).end()) applyEvent(state, e)
    const tenant = [...state.tenants.values()][0]!
    const changes: RosterChange[] = ENTITY_TYPES.flatMap((entity) =>
      [...tenant.tables[entity].values()].map((record) => ({ entity, sourcedId: record.sourcedId, record })),
    )
    expect(new Set(changes.map((c) => c.entity)).size).toBe(ENTITY_TYPES.length)
    const odd = changes.find((c) => c.entity === 'user')!
    const withMetadata: RosterChange = {
      ...odd,
      record: { ...odd.record!, metadata: { ['__proto__']: 'kept', 'ext.nickname': 'Zoë 🎓', '': 'blank name' } } as never,
    }
    const values: ChangelogValue[] = [
      { kind: 'rosterChunk', changes: [...changes, withMetadata, { entity: 'class', sourcedId: 'gone', record: null }] },
      { kind: 'heldChunk', index: 3, changes },
      ...[...tenant.syncs.values()].map((info): ChangelogValue => ({ kind: 'sync', info })),
      { kind: 'open', inputOffset: '9007199254740' },
      { kind: 'held', changes: 1200, chunks: 2 },
    ]
    for (const v of values) {
      const avro = changelogValueToAvro(v)
      expect(compiledState(avro).equals(processorStateType.toBuffer(avro))).toBe(true)
    }
  })

  it('refuses an entry of no known kind, naming where', () => {
    expect(() => writeProcessorState({ entry: { 'synclog.v1.Nothing': {} } }, Buffer.alloc(64), 0)).toThrow(/ProcessorStateEntry\.entry/)
    expect(() => writeProcessorState({ entry: null }, Buffer.alloc(64), 0)).toThrow(/ProcessorStateEntry\.entry/)
  })
})
