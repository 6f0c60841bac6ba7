/**
 * Where a tenant's events belong: the partition the Java client's default
 * partitioner (murmur2 of the key, what kafkajs's DefaultPartitioner and
 * librdkafka's `partitioner=murmur2_random` compute) gives the tenant as key.
 * The processor folds a tenant only on that partition, whatever partitioner
 * the producer used (see docs/stream-mode.md, "Partitioning").
 */
import kafkajs from 'kafkajs'
import type { PartitionMetadata } from 'kafkajs'

const { Partitioners } = kafkajs
const partitioner = Partitioners.DefaultPartitioner()

/** The partition (of `partitions`) that owns `tenant`. */
export function tenantPartition(tenant: string, partitions: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }))
  return partitioner({ topic: '', partitionMetadata, message: { key: tenant, value: null } })
}
