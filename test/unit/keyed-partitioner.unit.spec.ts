/**
 * The producers' partitioner remembers each key's partition (src/kafka/tenant-partition.ts,
 * keyedPartitioner): a message must land exactly where kafkajs's DefaultPartitioner puts it,
 * the partition the processor folds its tenant on, whatever it remembered before.
 */
import kafkajs from 'kafkajs'
import type { PartitionMetadata } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { keyedPartitioner, tenantPartition } from '../../src/kafka/tenant-partition.js'

const { Partitioners } = kafkajs

function metadata(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
}

const KEYS = [
  'district-a',
  'Emerson Unified',
  'urn:district:0042',
  'école-montréal',
  '学区-7',
  '',
  ...Array.from({ length: 300 }, (_, i) => `t-${i}`),
]

describe('the producers partitioner', () => {
  it('puts every keyed message where the DefaultPartitioner does, for every partition count, asked again and again', () => {
    const remembered = keyedPartitioner()
    const plain = Partitioners.DefaultPartitioner()
    for (let round = 0; round < 3; round++) {
      for (const count of [1, 3, 6, 12]) {
        const partitionMetadata = metadata(count)
        for (const key of KEYS) {
          const args = { topic: 'sync-log', partitionMetadata, message: { key, value: null } }
          expect(remembered(args)).toBe(plain(args))
        }
      }
    }
  })

  it('keeps a partition the message names, and spreads messages without a key as the DefaultPartitioner does', () => {
    const remembered = keyedPartitioner()
    const partitionMetadata = metadata(6)
    expect(remembered({ topic: 't', partitionMetadata, message: { key: 'district-a', partition: 4, value: null } })).toBe(4)
    const unkeyed = new Set<number>()
    for (let i = 0; i < 60; i++) unkeyed.add(remembered({ topic: 't', partitionMetadata, message: { value: null } }))
    expect(unkeyed.size).toBe(6)
  })

  it('gives a tenant the partition its keyed messages go to', () => {
    const remembered = keyedPartitioner()
    for (const count of [1, 6, 12])
      for (const key of KEYS)
        expect(tenantPartition(key, count)).toBe(
          remembered({ topic: 't', partitionMetadata: metadata(count), message: { key, value: null } }),
        )
  })
})
