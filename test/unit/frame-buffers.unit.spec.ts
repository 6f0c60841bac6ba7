/**
 * Framing many values without a buffer each: sync-log events share slabs, changelog
 * entries share a scratch buffer. Every framed value must hold exactly the bytes a
 * buffer of its own would, and stay so while later values are framed.
 */
import avro from 'avsc'
import { describe, expect, it } from 'vitest'
import { changeEventSchema, syncLogEventToAvro, syncLogEventType } from '../../src/events/avro.js'
import type { LogRow } from '../../src/events/sync-log-event.js'
import { AvroSerde } from '../../src/kafka/avro-serde.js'
import { FrameScratch, FrameSlab, frame, unframe } from '../../src/kafka/wire-format.js'
import { MemoryRegistry } from '../support/memory-registry.js'
import { silentLogger } from '../support/silent-logger.js'
import { smallDistrict, sync } from '../support/sis.js'
import { logRow } from '../support/log-row.js'

/** The row with its own sequence, ids and a student name `nameLength` characters long. */
function row(i: number, nameLength: number): LogRow {
  return { ...logRow, syncId: `s${i % 7}`, seq: i, studentNumber: `S${i}`, studentName: 'Ä'.repeat(nameLength), sourcedId: `e${i}` }
}

describe('sync-log events framed in shared slabs', () => {
  it('hold the bytes of a buffer of their own, also across slab ends and for events larger than a slab', async () => {
    const serde = new AvroSerde('http://unused', silentLogger(), { client: new MemoryRegistry() })
    const { syncLogEvent: id } = await serde.register({ changeEvents: 't.change-events', syncLog: 't.sync-log' })
    // Sizes from a few bytes of name to more than a 64-KiB slab, so values straddle slab ends.
    const rows = Array.from({ length: 3000 }, (_, i) => row(i, i % 500 === 499 ? 40_000 : i % 61))
    const framed = rows.map((r) => serde.encodeSyncLogEvent(r))
    // Checked only once all are framed: a later value must not have written over an earlier one.
    for (const [i, r] of rows.entries()) {
      expect(framed[i]!.equals(frame(id, syncLogEventType.toBuffer(syncLogEventToAvro(r))))).toBe(true)
    }
    const back = await serde.decodeSyncLogEvents(framed)
    expect(back).toEqual(rows)
  })

  it('a slab hands out views that never overlap', () => {
    const slab = new FrameSlab(64)
    const type = avro.Type.forSchema('string')
    const values = ['a', 'bb'.repeat(20), 'c'.repeat(200), '', 'd'.repeat(30)]
    const framed = values.map((v) => slab.frame(3, (buf, pos) => type.encode(v, buf, pos)))
    expect(framed.map((b) => type.fromBuffer(unframe(b).body))).toEqual(values)
    expect(framed.map((b) => unframe(b).schemaId)).toEqual([3, 3, 3, 3, 3])
  })
})

describe('values framed through a scratch buffer', () => {
  it('come out as buffers of their own, whatever their size, each unchanged by the next', () => {
    const scratch = new FrameScratch()
    const type = avro.Type.forSchema('string')
    const values = ['x', 'y'.repeat(100_000), 'z'.repeat(300_000), 'w'.repeat(10)]
    const framed = values.map((v) => scratch.frame(9, (buf, pos) => type.encode(v, buf, pos)))
    for (const [i, v] of values.entries()) expect(framed[i]!.equals(frame(9, type.toBuffer(v)))).toBe(true)
  })
})

describe('a decoded change event', () => {
  it('lists its fields as the schema does: type, metadata, entity, then the payload record', async () => {
    const serde = new AvroSerde('http://unused', silentLogger(), { client: new MemoryRegistry() })
    await serde.register({ changeEvents: 't.change-events', syncLog: 't.sync-log' })
    const meta = changeEventSchema.fields.map((f) => f.name).filter((n) => n !== 'payload')
    for (const original of smallDistrict(sync()).end()) {
      const decoded = await serde.decodeChangeEvent(serde.encodeChangeEvent(original))
      const keys = Object.keys(decoded)
      const head = decoded.type === 'RecordChanged' ? ['type', ...meta, 'entity'] : ['type', ...meta]
      expect(keys.slice(0, head.length)).toEqual(head)
    }
  })
})
