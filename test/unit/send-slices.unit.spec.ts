/**
 * Sends within the broker's batch limit (src/kafka/send-slices.ts): a sync of a large
 * district commits hundreds of roster chunks of ~170 KB at once, which in one send make
 * a record batch the broker refuses.
 */
import { describe, expect, it } from 'vitest'
import { messageBytes, sendSlices, SEND_BYTES, SEND_MESSAGES } from '../../src/kafka/send-slices.js'

const message = (bytes: number, key = 't1') => ({ key, value: Buffer.alloc(bytes) })

describe('sending a run of messages', () => {
  it('counts keys, values and headers towards a batch', () => {
    expect(messageBytes({ key: 'tenant', value: Buffer.alloc(100), headers: { end: 'sync-1', many: ['ab', Buffer.alloc(3)] } })).toBe(
      6 + 100 + 3 + 6 + 4 + 2 + 3,
    )
    expect(messageBytes({ key: null, value: null })).toBe(0)
  })

  it('splits 200 roster chunks of 170 KB into sends the broker accepts, in order, losing none', () => {
    const chunks = Array.from({ length: 200 }, (_, i) => message(170_000, `chunk-${i}`))
    const slices = [...sendSlices(chunks)]
    expect(slices.flat()).toEqual(chunks)
    for (const s of slices) expect(s.reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(SEND_BYTES)
    expect(slices.length).toBe(50)
  })

  it('keeps small messages to a thousand per send', () => {
    const rows = Array.from({ length: 2500 }, () => message(400))
    expect([...sendSlices(rows)].map((s) => s.length)).toEqual([SEND_MESSAGES, SEND_MESSAGES, 500])
  })

  it('sends a message larger than the budget on its own rather than not at all', () => {
    const big = message(SEND_BYTES * 2)
    expect([...sendSlices([message(10), big, message(10)])].map((s) => s.length)).toEqual([1, 1, 1])
  })
})
