/**
 * Where a tenant's events belong: the partition the Java client's default
 * partitioner (murmur2 of the key, what kafkajs's DefaultPartitioner and
 * librdkafka's `partitioner=murmur2_random` compute) gives the tenant as key.
 * The processor folds a tenant only on that partition, whatever partitioner
 * the producer used (see docs/stream-mode.md, "Partitioning").
 *
 * A keyed message's partition depends only on its key and the topic's partition
 * count, and a tenant sends thousands of messages a sync: each key is hashed once
 * per partition count and remembered (`keyedPartitioner`), not once per message.
 */
import kafkajs from 'kafkajs'
import type { ICustomPartitioner, PartitionerArgs, PartitionMetadata } from 'kafkajs'

const { Partitioners } = kafkajs

/** Keys remembered per partition count before the memory starts afresh (tenants are few; any key works). */
const REMEMBERED_KEYS = 10_000

/**
 * kafkajs's DefaultPartitioner, remembering the partition of each string key per partition
 * count: the same partition for every message, without murmur2 and a copy of the topic's
 * metadata per message. A message with an explicit partition, or no string key, goes to
 * the DefaultPartitioner as it is.
 */
export const keyedPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner()
  const byCount = new Map<number, Map<string, number>>()
  return (args: PartitionerArgs): number => {
    const { key, partition } = args.message
    if (typeof key !== 'string' || (partition !== undefined && partition !== null)) return partitioner(args)
    const count = args.partitionMetadata.length
    let known = byCount.get(count)
    if (known === undefined) byCount.set(count, (known = new Map()))
    let found = known.get(key)
    if (found === undefined) {
      if (known.size >= REMEMBERED_KEYS) known.clear()
      found = partitioner(args)
      known.set(key, found)
    }
    return found
  }
}

const partitionOf = keyedPartitioner()
/** A topic's metadata as the partitioner reads it (only its length matters for a keyed message), per partition count. */
const metadataOf = new Map<number, PartitionMetadata[]>()

/** The partition (of `partitions`) that owns `tenant`. */
export function tenantPartition(tenant: string, partitions: number): number {
  let partitionMetadata = metadataOf.get(partitions)
  if (partitionMetadata === undefined) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }))
    metadataOf.set(partitions, partitionMetadata)
  }
  return partitionOf({ topic: '', partitionMetadata, message: { key: tenant, value: null } })
}
